"""Forms of the mutual-aid screens. They parse input; the rules are the
services' (services/mutual.py)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases import clock
from cases.forms.fields import UnitChoiceField
from cases.models import Household

from ..models import ClaimCategory, ClaimStatus, PremiumKind
from .loans import DateInput, money_field

DATE_ERRORS = {"invalid": gettext_lazy("日期格式不正确。")}


class MemberForm(forms.Form):
    """A roster row: an ordinary union member, not a household file."""

    name = forms.CharField(
        label=gettext_lazy("姓名"),
        max_length=50,
        error_messages={
            "required": gettext_lazy("请填写姓名。"),
            "max_length": gettext_lazy("姓名最多 %(limit_value)d 个字。"),
        },
    )
    id_number = forms.CharField(
        label=gettext_lazy("身份证号"),
        max_length=30,
        error_messages={"required": gettext_lazy("请填写身份证号。")},
    )
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("所属工会"),
        error_messages={
            "required": gettext_lazy("请选择所属工会。"),
            "invalid_choice": gettext_lazy("该工会不在您可以管理的范围内。"),
        },
    )
    phone = forms.CharField(
        label=gettext_lazy("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        error_messages={"max_length": gettext_lazy("联系电话最多 %(limit_value)d 位。")},
    )
    joined_on = forms.DateField(
        label=gettext_lazy("入会日期"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("不填为今天。"),
        error_messages=DATE_ERRORS,
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("会员名册（.xlsx）"),
        error_messages={
            "required": gettext_lazy("请选择要导入的名册文件。"),
            "empty": gettext_lazy("文件是空的（0 字节），请选择填好的名册。"),
        },
    )


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("姓名或身份证号"), required=False, max_length=50)
    unit = UnitChoiceField(
        queryset=Unit.objects.none(),
        label=gettext_lazy("所属工会"),
        required=False,
        empty_label=gettext_lazy("全部"),
        error_messages={"invalid_choice": gettext_lazy("所选工会不在您的范围内。")},
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


def _period_clean(form: forms.Form, start: str, end: str) -> None:
    data = form.cleaned_data
    if data.get(start) and data.get(end) and data[start] > data[end]:
        form.add_error(end, gettext_lazy("截止日期不能早于起始日期。"))


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部")), *ClaimStatus.choices],
        error_messages={"invalid_choice": gettext_lazy("状态不正确。")},
    )
    category = forms.ModelChoiceField(
        queryset=ClaimCategory.objects.all(),
        label=gettext_lazy("互助类别"),
        required=False,
        empty_label=gettext_lazy("全部"),
        error_messages={"invalid_choice": gettext_lazy("互助类别不存在。")},
    )
    submitted_from = forms.DateField(
        label=gettext_lazy("申请日期起"),
        required=False,
        widget=DateInput(),
        error_messages=DATE_ERRORS,
    )
    submitted_to = forms.DateField(
        label=gettext_lazy("申请日期止"),
        required=False,
        widget=DateInput(),
        error_messages=DATE_ERRORS,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        _period_clean(self, "submitted_from", "submitted_to")
        return self.cleaned_data


class CategoryPeriodForm(forms.Form):
    """The period of the by-category figures, by the day claims were paid."""

    date_from = forms.DateField(
        label=gettext_lazy("发放日期起"),
        required=False,
        widget=DateInput(),
        error_messages=DATE_ERRORS,
    )
    date_to = forms.DateField(
        label=gettext_lazy("发放日期止"),
        required=False,
        widget=DateInput(),
        error_messages=DATE_ERRORS,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        _period_clean(self, "date_from", "date_to")
        return self.cleaned_data


class ClaimPayForm(forms.Form):
    paid_on = forms.DateField(
        label=gettext_lazy("发放日期"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("银行到账或现金交付的日期，不填为今天。"),
        error_messages=DATE_ERRORS,
    )
    date_reason = forms.CharField(
        label=gettext_lazy("补录理由"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("发放日期早于今天时必填。"),
        error_messages={"max_length": gettext_lazy("补录理由最多 %(limit_value)d 个字。")},
    )


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
    category = forms.ModelChoiceField(
        queryset=ClaimCategory.objects.filter(is_active=True),
        label=gettext_lazy("互助类别"),
        widget=forms.RadioSelect,
        empty_label=None,
        to_field_name="code",
        error_messages={
            "required": gettext_lazy("请选择互助类别。"),
            "invalid_choice": gettext_lazy("请选择互助类别。"),
        },
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
