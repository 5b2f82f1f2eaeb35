"""Forms of the application screens. They parse input; the rules (window,
eligibility, caps, separation of duties) are the services'."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases.forms.fields import UnitChoiceField
from cases.models import Household

from ..models import Application, ApplicationStatus, CapRule, Kind, Program
from ..services.rules import MAX_SCHOOL_MONTHS

MINE = "mine"
ALL = "all"


class ProgramChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Program) -> str:  # type: ignore[override]
        return f"{obj.display_name}（{obj.unit.name}）"


class ApplicationFilterForm(forms.Form):
    view = forms.ChoiceField(
        label=gettext_lazy("范围"),
        required=False,
        choices=[(MINE, gettext_lazy("待我审批")), (ALL, gettext_lazy("全部申请"))],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部状态")), *ApplicationStatus.choices],
    )
    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        label=gettext_lazy("帮扶项目"),
        required=False,
        empty_label=gettext_lazy("全部项目"),
    )
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("所属工会"),
        required=False,
        empty_label=gettext_lazy("全部工会"),
    )

    def __init__(self, *args: Any, units: Any, programs: Any, is_chair: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.is_chair = is_chair
        if not is_chair:
            del self.fields["view"]

    def mine(self) -> bool:
        """A chair lands on 待我审批; anyone else has no such list."""
        if not self.is_chair:
            return False
        view = self.cleaned_data.get("view") if self.is_bound else ""
        return view != ALL


def _money_input(**attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


class ApplicationForm(forms.Form):
    """One application for one household. Which of the program fields count
    depends on the program's cap rule: out-of-pocket cost for medical aid,
    the student and months for school aid."""

    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        label=gettext_lazy("帮扶项目"),
        empty_label=gettext_lazy("请选择帮扶项目"),
        error_messages={
            "required": gettext_lazy("请选择帮扶项目。"),
            "invalid_choice": gettext_lazy("该项目不面向该家庭所在的工会，或已停用。"),
        },
    )
    # Parsed by the service (to_amount), so every money refusal reads alike;
    # empty means the program's standard for the household's tier.
    amount = forms.CharField(
        label=gettext_lazy("申请金额（元）"),
        required=False,
        max_length=20,
        widget=_money_input(),
        help_text=gettext_lazy("默认为补助标准；改动金额须说明理由。"),
    )
    amount_reason = forms.CharField(
        label=gettext_lazy("金额调整理由"), required=False, max_length=300
    )
    # A cash-and-goods program: the cash part and the goods part apart; the
    # service stores their sum as the amount. A goods program: the goods
    # value is the amount.
    cash = forms.CharField(
        label=gettext_lazy("现金金额（元）"),
        required=False,
        max_length=20,
        widget=_money_input(),
        help_text=gettext_lazy("留空则为补助标准减去实物折价。"),
    )
    goods_description = forms.CharField(
        label=gettext_lazy("实物内容"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("如：大米 10 公斤、食用油 5 升")}
        ),
    )
    goods_value = forms.CharField(
        label=gettext_lazy("实物折价（元）"),
        required=False,
        max_length=20,
        widget=_money_input(),
        help_text=gettext_lazy("按购置价格计算；计入年度上限。"),
    )
    out_of_pocket = forms.CharField(
        label=gettext_lazy("个人自付医疗费用（元）"),
        required=False,
        max_length=20,
        widget=_money_input(),
        help_text=gettext_lazy("医保报销后个人负担的部分，以票据为准；救助金额不超过此数。"),
    )
    student = forms.ModelChoiceField(
        queryset=Household.objects.none(),
        label=gettext_lazy("受助学生"),
        required=False,
        empty_label=gettext_lazy("请选择在读的家庭成员"),
        error_messages={"invalid_choice": gettext_lazy("请选择本家庭在读的受助学生。")},
    )
    months = forms.IntegerField(
        label=gettext_lazy("资助月数"),
        required=False,
        min_value=1,
        max_value=MAX_SCHOOL_MONTHS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": gettext_lazy("资助月数应在 1 至 10 之间。"),
            "max_value": gettext_lazy("资助月数应在 1 至 10 之间。"),
            "invalid": gettext_lazy("资助月数应为整数。"),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("申请事由"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self, *args: Any, household: Household, programs: Any, offered: list[Program], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self._programs = programs
        field = self.fields["program"]
        # Any active program of the household's unions validates, so a stale
        # page shows why a closed window refuses; only open ones are offered
        # (and the one chosen, so the refusal names what was chosen).
        field.queryset = programs  # type: ignore[attr-defined]
        chosen = self.selected_program()
        shown = [*offered, *([chosen] if chosen and chosen not in offered else [])]
        choices: list[tuple[Any, Any]] = [("", field.empty_label)]  # type: ignore[attr-defined]
        choices += [(p.pk, field.label_from_instance(p)) for p in shown]  # type: ignore[attr-defined]
        field.widget.choices = choices  # type: ignore[attr-defined]
        self.fields["student"].queryset = household.members.exclude(  # type: ignore[attr-defined]
            school_stage=""
        ).order_by("id")
        self.fields["student"].label_from_instance = (  # type: ignore[attr-defined]
            lambda m: f"{m.name}（{m.get_school_stage_display()}）"
        )

    def selected_program(self) -> Program | None:
        """The program the form is about: posted, or asked for in the URL."""
        raw = self.data.get("program") if self.is_bound else self.initial.get("program")
        if isinstance(raw, Program):
            return raw
        try:
            pk = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return next((p for p in self._programs if p.pk == pk), None)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        program: Program = data["program"]
        kwargs: dict[str, Any] = {
            "program": program,
            "amount": data["amount"].strip(),
            "amount_reason": data["amount_reason"],
            "reason": data["reason"],
        }
        if program.kind in (Kind.GOODS, Kind.CASH_GOODS):
            kwargs["goods_description"] = data["goods_description"]
            kwargs["goods_value"] = data["goods_value"].strip()
        if program.kind == Kind.CASH_GOODS:
            kwargs["cash"] = data["cash"].strip()
        if program.cap_rule == CapRule.OUT_OF_POCKET:
            kwargs["out_of_pocket"] = data["out_of_pocket"].strip()
        if program.cap_rule == CapRule.TEN_MONTHS_PER_STUDENT:
            kwargs["student"] = data["student"]
            kwargs["months"] = data["months"]
        return kwargs


DECISIONS = [("approve", gettext_lazy("同意")), ("reject", gettext_lazy("不同意"))]


class DecideForm(forms.Form):
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

    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("撤回理由"),
        max_length=300,
        error_messages={"required": gettext_lazy("请填写撤回理由。")},
    )


class ReturnForm(forms.Form):
    """退回修改: what the drafter should change."""

    reason = forms.CharField(
        label=gettext_lazy("退回原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("说明需要修改或补充的内容，经办人修改后重新提交。"),
        error_messages={"required": gettext_lazy("请填写退回原因，说明需要修改的内容。")},
    )


class ResubmitForm(ApplicationForm):
    """A returned application, amended by its drafter. The program stays the
    one it was filed under."""

    note = forms.CharField(
        label=gettext_lazy("修改说明"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("简要说明按退回原因改了什么，记入申请的状态记录。"),
    )

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        program = application.program
        programs = Program.objects.filter(pk=program.pk).select_related("unit")
        kwargs.setdefault("initial", initial_of(application))
        super().__init__(
            *args, household=application.household, programs=programs, offered=[program], **kwargs
        )

    def service_kwargs(self) -> dict[str, Any]:
        kwargs = super().service_kwargs()
        kwargs.pop("program")
        kwargs["note"] = self.cleaned_data["note"]
        return kwargs


def initial_of(application: Application) -> dict[str, Any]:
    """The form's fields as the application holds them."""
    kind = application.program.kind
    initial: dict[str, Any] = {
        "program": application.program_id,
        "amount": application.amount,
        "amount_reason": application.amount_reason,
        "reason": application.reason,
        "out_of_pocket": "" if application.out_of_pocket is None else application.out_of_pocket,
        "student": application.student_id,
        "months": application.months,
        "goods_description": application.goods_description,
        "goods_value": application.goods_value if application.goods_value else "",
    }
    if kind == Kind.CASH_GOODS:
        initial["cash"] = application.amount - application.goods_value
    return initial
