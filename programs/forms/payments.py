"""Forms of the payment screens. They parse input; who may pay, from which
fund and for what is the services' to decide (programs.services.payments)."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases.forms.fields import DateInput, FastSelect, UnitChoiceField
from funds.forms import FundChoiceField, clean_value_date, date_reason_field, window_help
from funds.models import Fund
from funds.services import REASON_LIMIT, value_date_window

from ..models import Application, PaymentMethod, Program
from ..selectors.payments import QueueFilter


def _method_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=gettext_lazy("发放方式"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.BANK,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择发放方式。")},
    )


def _sheet_field() -> forms.FileField:
    return forms.FileField(
        label=gettext_lazy("签收单"),
        required=False,
        help_text=gettext_lazy("现金或实物发放须上传受助人签字的签收单（PDF、JPG 或 PNG）。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


def _fund_field() -> FundChoiceField:
    return FundChoiceField(
        queryset=Fund.objects.none(),
        widget=FastSelect,
        label=gettext_lazy("支出资金"),
        error_messages={
            "required": gettext_lazy("请选择支出资金。"),
            "invalid_choice": gettext_lazy("所选资金不可用于本次发放，请重新选择。"),
        },
    )


def _paid_on_field() -> forms.DateField:
    return forms.DateField(
        label=gettext_lazy("发放日期"),
        widget=DateInput(),
        help_text=gettext_lazy("银行到账日期或现金、实物交到受助人手中的日期。"),
        error_messages={"required": gettext_lazy("请填写发放日期。")},
    )


def _set_funds(form: forms.Form, funds: Any) -> None:
    """Offer `funds`, read once: the <select> (FastSelect) lists the rows the
    back-dating window below was taken from, in one query with their
    balances, instead of a query for the window and another for the list."""
    field = form.fields["fund"]
    field.queryset = funds  # type: ignore[attr-defined]
    # Read into the field's own queryset (the setter copies it), which the
    # widget then lists; a posted choice is still looked up by pk.
    _set_window(form, field.queryset)  # type: ignore[attr-defined]


def _set_window(form: forms.Form, funds: Any) -> None:
    """Default the paid-on date to today and state the back-dating window of
    the union whose fund pays (the first fund offered; the chosen fund's own
    window is checked on submit)."""
    first = next(iter(funds), None)  # reads them all, for the <select>
    field = form.fields["paid_on"]
    if first is None:
        return
    window = value_date_window(first.unit)
    field.initial = window.latest
    field.help_text = f"{field.help_text}{window_help(window)}"
    field.widget.attrs.update(min=window.earliest.isoformat(), max=window.latest.isoformat())


def _check_paid_on(form: forms.Form) -> None:
    fund = form.cleaned_data.get("fund")
    if fund is not None:
        clean_value_date(form, fund.unit, "paid_on", _("发放日期"))


def _check_sheet(form: forms.Form) -> None:
    data = form.cleaned_data
    method = data.get("method")
    if method and method != PaymentMethod.BANK and not data.get("signed_sheet"):
        form.add_error("signed_sheet", _("现金或实物发放须上传签收单。"))


class PayForm(forms.Form):
    # The application the form was shown for: a form posted to another
    # application's address is refused instead of paying the wrong family.
    application = forms.IntegerField(
        label=gettext_lazy("帮扶申请"), widget=forms.HiddenInput, min_value=1, max_value=2**62
    )
    fund = _fund_field()
    method = _method_field()
    paid_on = _paid_on_field()
    date_reason = date_reason_field()
    signed_sheet = _sheet_field()

    def __init__(self, *args: Any, application: Application, funds: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.application_pk = application.pk
        self.fields["application"].initial = application.pk
        _set_funds(self, funds)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("application") != self.application_pk:
            # A hidden field: the message goes on top of the form.
            raise forms.ValidationError(_("表单与该申请不符，请刷新页面后重新提交。"))
        _check_sheet(self)
        _check_paid_on(self)
        return data


class QueueFilterForm(forms.Form):
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        widget=FastSelect,
        label=gettext_lazy("帮扶项目"),
        empty_label=gettext_lazy("全部项目"),
    )
    unit = UnitChoiceField(queryset=Unit.objects.none(), required=False, label=gettext_lazy("工会"))

    def __init__(self, *args: Any, programs: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def to_filter(self) -> QueueFilter:
        return QueueFilter(
            program=self.cleaned_data.get("program"), unit=self.cleaned_data.get("unit")
        )


class BatchPayForm(forms.Form):
    applications = forms.ModelMultipleChoiceField(
        queryset=Application.objects.none(),
        label=gettext_lazy("发放的申请"),
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": gettext_lazy("请至少勾选一笔已批准的申请。"),
            "invalid_choice": gettext_lazy(
                "所选申请中有已发放或不在您工会范围内的，请刷新后重试。"
            ),
            "invalid_pk_value": gettext_lazy("所选申请无效，请刷新后重试。"),
        },
    )
    fund = _fund_field()
    method = _method_field()
    title = forms.CharField(
        label=gettext_lazy("批次名称"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("不填则按资金名称命名。"),
    )
    paid_on = _paid_on_field()
    date_reason = date_reason_field()
    signed_sheet = _sheet_field()

    def __init__(self, *args: Any, applications: Any, funds: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["applications"].queryset = applications  # type: ignore[attr-defined]
        _set_funds(self, funds)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_sheet(self)
        _check_paid_on(self)
        return data

    def chosen(self) -> set[int]:
        """The ticked application ids, also when the form did not validate."""
        values = self.data.getlist("applications") if hasattr(self.data, "getlist") else []
        return {int(v) for v in values if str(v).isdigit()}


class PaymentReverseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("冲正理由"),
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("冲正须填写理由。")},
    )
