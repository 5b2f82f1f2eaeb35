"""Forms of the campaign batch screens (送温暖, 金秋助学). The rules are the
services' (programs.services.batches and applications)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases.forms.fields import UnitChoiceField
from cases.models import Cause, Tier

from ..models import Application, Program
from .applications import DECISIONS, ProgramChoiceField, _money_input

ALL_LINES = "all"
TICKED_LINES = "ticked"


class BatchForm(forms.Form):
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("发起工会"),
        help_text=gettext_lazy("该工会及其下级工会的已建档家庭。"),
        error_messages={"required": gettext_lazy("请选择发起工会。")},
    )
    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        label=gettext_lazy("帮扶项目"),
        empty_label=gettext_lazy("请选择帮扶项目"),
        error_messages={"required": gettext_lazy("请选择帮扶项目。")},
    )
    title = forms.CharField(
        label=gettext_lazy("批次名称"),
        max_length=100,
        error_messages={"required": gettext_lazy("请填写批次名称。")},
    )
    tiers = forms.ModelMultipleChoiceField(
        queryset=Tier.objects.filter(is_active=True),
        label=gettext_lazy("困难类别"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("不选表示不限。"),
    )
    causes = forms.ModelMultipleChoiceField(
        queryset=Cause.objects.filter(is_active=True),
        label=gettext_lazy("致困原因"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("主要或次要致困原因之一相符即可；不选表示不限。"),
    )
    in_school = forms.BooleanField(label=gettext_lazy("仅限有在校子女的家庭"), required=False)
    # Kept simple: one description and one goods value for every line of a
    # cash-and-goods or goods campaign (each line's amount is its standard).
    goods_description = forms.CharField(
        label=gettext_lazy("实物内容"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("实物或现金加实物项目填写，如：大米 10 公斤、食用油 5 升。"),
    )
    goods_value = forms.CharField(
        label=gettext_lazy("每户实物折价（元）"),
        required=False,
        max_length=20,
        widget=_money_input(),
        help_text=gettext_lazy(
            "现金加实物项目：每户补助标准中以实物发放的部分，其余发现金；实物项目留空即为补助标准。"
        ),
    )

    def __init__(self, *args: Any, units: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]

    def criteria(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "unit": data["unit"],
            "tiers": list(data["tiers"]),
            "causes": list(data["causes"]),
            "in_school": data["in_school"],
        }

    def handout(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "goods_description": data["goods_description"],
            "goods_value": data["goods_value"].strip(),
        }

    def preview_criteria(self) -> dict[str, Any] | None:
        """The filter as typed so far, for the live count; None without a unit."""
        unit = self.fields["unit"]
        try:
            chosen = unit.clean(self.data.get("unit"))
        except forms.ValidationError:
            return None
        if chosen is None:
            return None

        def many(name: str) -> list[Any]:
            try:
                values = self.data.getlist(name)  # type: ignore[attr-defined]
                return list(self.fields[name].clean(values))
            except forms.ValidationError:
                return []

        return {
            "unit": chosen,
            "tiers": many("tiers"),
            "causes": many("causes"),
            "in_school": bool(self.data.get("in_school")),
        }


class LineAmendForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("申请金额（元）"),
        max_length=20,
        widget=_money_input(),
        error_messages={"required": gettext_lazy("请填写申请金额。")},
    )
    amount_reason = forms.CharField(
        label=gettext_lazy("金额调整理由"), required=False, max_length=300
    )
    goods_value = forms.CharField(
        label=gettext_lazy("实物折价（元）"), required=False, max_length=20, widget=_money_input()
    )


class LineRemoveForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("移除理由"), required=False, max_length=300)


class BatchDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("审批意见"),
        choices=DECISIONS,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择同意或不同意。")},
    )
    note = forms.CharField(
        label=gettext_lazy("审批说明"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("不同意时须填写理由。"),
    )
    scope = forms.ChoiceField(
        required=False,
        choices=[(ALL_LINES, ALL_LINES), (TICKED_LINES, TICKED_LINES)],
        widget=forms.HiddenInput,
    )
    lines = forms.ModelMultipleChoiceField(
        queryset=Application.objects.none(),
        required=False,
        label=gettext_lazy("勾选的申请"),
        error_messages={"invalid_choice": gettext_lazy("勾选的申请不在本批次中。")},
    )

    def __init__(self, *args: Any, batch: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = batch.lines.all()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope") == TICKED_LINES and not data.get("lines"):
            self.add_error("lines", gettext_lazy("请先勾选要审批的申请。"))
        return data

    def line_ids(self) -> list[int] | None:
        if self.cleaned_data.get("scope") != TICKED_LINES:
            return None
        return [line.pk for line in self.cleaned_data["lines"]]
