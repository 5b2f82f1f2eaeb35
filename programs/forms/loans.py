"""Forms of the loan screens: paying a loan out with its schedule, and a
repayment. They parse input; the rules are the services' (services/loans.py)."""

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.money import CENT, MAX_DIGITS
from cases import clock
from funds.forms import date_reason_field
from funds.models import Fund
from funds.services import REASON_LIMIT

from ..models import LoanStatus, PaymentMethod
from ..services.loans import LOAN_METHODS, MAX_TERM_MONTHS, add_months


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def money_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=MAX_DIGITS,
        decimal_places=2,
        min_value=CENT,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "min": "0.01", "step": "0.01"}),
        error_messages={
            "required": gettext_lazy("请填写金额。"),
            "invalid": gettext_lazy("金额格式不正确。"),
            "min_value": gettext_lazy("金额必须大于 0。"),
            "max_decimal_places": gettext_lazy("金额最多保留两位小数（到分）。"),
            "max_digits": gettext_lazy("金额过大。"),
            "max_whole_digits": gettext_lazy("金额过大。"),
        },
    )


class DisburseForm(forms.Form):
    fund = forms.ModelChoiceField(
        queryset=Fund.objects.none(),
        label=gettext_lazy("放款资金"),
        empty_label=None,
        error_messages={
            "required": gettext_lazy("请选择放款资金。"),
            "invalid_choice": gettext_lazy("请选择本项目可列支的资金。"),
        },
    )
    method = forms.ChoiceField(
        label=gettext_lazy("发放方式"),
        choices=[(m.value, m.label) for m in PaymentMethod if m in LOAN_METHODS],
        widget=forms.RadioSelect,
        initial=PaymentMethod.BANK,
        error_messages={"required": gettext_lazy("请选择发放方式。")},
    )
    signed_sheet = forms.FileField(
        label=gettext_lazy("签收单（现金发放时必传）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )
    term_months = forms.IntegerField(
        label=gettext_lazy("还款期限（月）"),
        min_value=1,
        max_value=MAX_TERM_MONTHS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": gettext_lazy("请填写还款期限（月数）。"),
            "invalid": gettext_lazy("还款期限应为整数月。"),
            "min_value": gettext_lazy("还款期限至少 1 个月。"),
            "max_value": gettext_lazy("还款期限最长 %(limit_value)s 个月。"),
        },
    )
    first_due_on = forms.DateField(
        label=gettext_lazy("首期还款日期"),
        widget=DateInput(),
        error_messages={
            "required": gettext_lazy("请填写首期还款日期。"),
            "invalid": gettext_lazy("日期格式不正确。"),
        },
    )

    def __init__(self, *args: Any, funds: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds  # type: ignore[attr-defined]
        self.fields["term_months"].initial = 12
        self.fields["first_due_on"].initial = add_months(clock.today(), 1)


class RepaymentForm(forms.Form):
    amount = money_field(gettext_lazy("还款金额（元）"))
    paid_on = forms.DateField(
        label=gettext_lazy("还款日期"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("不填为今天。"),
        error_messages={"invalid": gettext_lazy("日期格式不正确。")},
    )
    date_reason = date_reason_field()
    # One value per form shown: a second submit of the same form finds the
    # repayment the first one recorded instead of recording it again.
    token = forms.CharField(widget=forms.HiddenInput, max_length=32, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = clock.today()
        self.fields["token"].initial = uuid.uuid4().hex

    def clean_token(self) -> str:
        token: str = self.cleaned_data.get("token") or ""
        return token if token.isalnum() else ""


class LoanFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部")), *LoanStatus.choices],
    )
    arrears = forms.BooleanField(label=gettext_lazy("只看逾期未还"), required=False)


class ReversalForm(forms.Form):
    """The reason for reversing a repayment or a premium (kept in the ledger)."""

    reason = forms.CharField(
        label=gettext_lazy("冲正理由"),
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("冲正须填写理由。"),
            "max_length": gettext_lazy("冲正理由最多 %(limit_value)d 个字。"),
        },
    )
