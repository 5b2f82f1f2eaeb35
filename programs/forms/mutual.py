"""Forms of the mutual-aid screens. They parse input; the rules are the
services' (services/mutual.py)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from cases import clock
from cases.models import Household

from ..models import ClaimCategory, PremiumKind
from .loans import DateInput, money_field


class EnrollForm(forms.Form):
    household = forms.ModelChoiceField(
        queryset=Household.objects.none(),
        widget=forms.HiddenInput,
        label=gettext_lazy("家庭"),
        error_messages={
            "required": gettext_lazy("请先查找并选择要入社的家庭。"),
            "invalid_choice": gettext_lazy("该家庭不在您可以办理入社的范围内。"),
        },
    )
    joined_on = forms.DateField(
        label=gettext_lazy("入社日期"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("不填为今天。"),
        error_messages={"invalid": gettext_lazy("日期格式不正确。")},
    )

    def __init__(self, *args: Any, households: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households  # type: ignore[attr-defined]


class PremiumForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("缴费类型"),
        choices=PremiumKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择缴费类型。")},
    )
    year = forms.IntegerField(
        label=gettext_lazy("缴费年度"),
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": gettext_lazy("请填写缴费年度。"),
            "invalid": gettext_lazy("缴费年度应为四位数字。"),
            "min_value": gettext_lazy("缴费年度不正确。"),
            "max_value": gettext_lazy("缴费年度不正确。"),
        },
    )

    def __init__(self, *args: Any, first_paid: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = clock.today().year
        self.fields["kind"].initial = PremiumKind.YEARLY if first_paid else PremiumKind.FIRST


class ClaimForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("互助类别"),
        choices=ClaimCategory.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择互助类别。")},
    )
    amount = money_field(gettext_lazy("申请金额（元）"))
    reason = forms.CharField(
        label=gettext_lazy("申请事由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": gettext_lazy("请填写申请事由。"),
            "max_length": gettext_lazy("申请事由最多 %(limit_value)d 个字。"),
        },
    )


class VoteForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=gettext_lazy("表决意见"),
        choices=[("yes", gettext_lazy("同意")), ("no", gettext_lazy("不同意"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择同意或不同意。")},
    )
    note = forms.CharField(
        label=gettext_lazy("意见说明"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": gettext_lazy("意见说明最多 %(limit_value)d 个字。")},
    )
