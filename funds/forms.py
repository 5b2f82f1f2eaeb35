"""Forms of the funds screens. They parse input; the rules (permissions,
balances, restrictions) are the services' (funds.services)."""

import datetime
import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from cases import clock
from cases.forms.fields import DateInput, UnitChoiceField

from . import selectors
from .models import EntryKind, Fund, IncomeSource, PayerKind, Restriction
from .services import REASON_LIMIT, DateWindow, check_value_date, value_date_window

AMOUNT_ATTRS = {"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}


def _amount_field() -> forms.CharField:
    # Parsed by the service, which says what is wrong with it on this field.
    return forms.CharField(
        label=gettext_lazy("金额（元）"),
        max_length=20,
        widget=forms.TextInput(attrs=AMOUNT_ATTRS),
        error_messages={"required": gettext_lazy("请填写金额。")},
    )


def fund_label(fund: Fund) -> str:
    balance = getattr(fund, "balance", None)
    text = f"{fund.name}（{fund.year}）· {fund.unit.name}"
    if balance is not None:
        text += " · " + _("余额 %(b)s 元") % {"b": f"{balance:,.2f}"}
    if fund.restriction != Restriction.NONE:
        text += " · " + str(fund.get_restriction_display())
    return text


class FundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Fund) -> str:  # type: ignore[override]
        return fund_label(obj)


class FundFilterForm(forms.Form):
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        required=False,
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    unit = UnitChoiceField(queryset=Unit.objects.none(), required=False, label=gettext_lazy("工会"))
    source = forms.ModelChoiceField(
        label=gettext_lazy("资金来源"),
        required=False,
        queryset=IncomeSource.objects.order_by("sort_order", "id"),
        empty_label=gettext_lazy("全部来源"),
        help_text=gettext_lazy("收到过该来源款项的资金。"),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def to_filter(self) -> selectors.FundFilter:
        data = self.cleaned_data
        return selectors.FundFilter(
            year=data.get("year"), unit=data.get("unit"), source=data.get("source")
        )


class FundCreateForm(forms.Form):
    unit = UnitChoiceField(queryset=Unit.objects.none(), label=gettext_lazy("所属工会"))
    name = forms.CharField(label=gettext_lazy("资金名称"), max_length=100)
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    restriction = forms.ChoiceField(
        label=gettext_lazy("使用限定"),
        choices=Restriction.choices,
        initial=Restriction.NONE,
        widget=forms.RadioSelect,
    )
    restricted_purpose = forms.CharField(
        label=gettext_lazy("限定用途"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "填写帮扶项目名称或项目类别（如“金秋助学”），只有该用途的发放可以列支。"
        ),
    )
    household = forms.CharField(
        label=gettext_lazy("限定受助家庭"),
        required=False,
        max_length=50,
        help_text=gettext_lazy("输入户主姓名或档案编号；同名时请输入档案编号。"),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["year"].initial = clock.today().year

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["restricted_household"] = None
        if data.get("restriction") != Restriction.HOUSEHOLD or not data.get("unit"):
            return data
        term = (data.get("household") or "").strip()
        if not term:
            self.add_error("household", _("请输入受助家庭的户主姓名或档案编号。"))
            return data
        found = selectors.household_lookup(data["unit"], term)
        exact = [h for h in found if h.name == term or h.file_number == term]
        if len(found) == 1:
            data["restricted_household"] = found[0]
        elif len(exact) == 1:
            data["restricted_household"] = exact[0]
        elif not found:
            self.add_error("household", _("所选工会中没有找到“%(t)s”。") % {"t": term})
        else:
            names = "、".join(f"{h.name}（{h.file_number or _('未建档')}）" for h in found[:10])
            self.add_error(
                "household",
                _("找到多户：%(n)s。请输入档案编号以确定是哪一户。") % {"n": names},
            )
        return data


def window_help(window: DateWindow) -> str:
    text = _("默认今天，不能晚于今天；早于今天须填写补录理由，最早可补录至 %(e)s（%(n)s 天内）。")
    return text % {"e": window.earliest.isoformat(), "n": window.days}


def date_reason_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("补录理由"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("日期早于今天时必填，如“银行到账凭证迟到”。"),
    )


def clean_value_date(
    form: forms.Form, unit: Any, field: str, label: str, window: DateWindow | None = None
) -> None:
    """The window rule of funds.services.check_value_date, as form errors
    (the service checks again when it writes)."""
    data = form.cleaned_data
    if field not in data or unit is None:
        return
    try:
        _on, data["date_reason"] = check_value_date(
            unit, data[field], data.get("date_reason"), field=field, label=label, window=window
        )
    except forms.ValidationError as exc:
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name, error)


class SourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: IncomeSource) -> str:  # type: ignore[override]
        return obj.display_name


class ReceiptForm(forms.Form):
    amount = _amount_field()
    source = SourceChoiceField(
        queryset=IncomeSource.objects.none(),
        label=gettext_lazy("资金来源"),
        error_messages={
            "required": gettext_lazy("请选择资金来源。"),
            "invalid_choice": gettext_lazy("所选资金来源不存在或已停用，请重新选择。"),
        },
    )
    payer_kind = forms.ChoiceField(
        label=gettext_lazy("缴款方类型"),
        choices=PayerKind.choices,
        initial=PayerKind.UNIT,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择缴款方类型（单位或个人）。")},
    )
    payer = forms.CharField(
        label=gettext_lazy("缴款方"),
        max_length=100,
        help_text=gettext_lazy("拨款或捐款的单位名称，或个人姓名。"),
        error_messages={"required": gettext_lazy("请填写缴款方（单位名称或个人姓名）。")},
    )
    occurred_on = forms.DateField(
        label=gettext_lazy("到账日期"),
        widget=DateInput(),
        error_messages={"required": gettext_lazy("请填写到账日期。")},
    )
    date_reason = date_reason_field()
    memo = forms.CharField(label=gettext_lazy("摘要"), max_length=200)
    donor = forms.CharField(
        label=gettext_lazy("捐赠人"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("捐款须填写捐赠人（个人或单位），匿名可写“匿名”。"),
    )
    campaign = forms.CharField(label=gettext_lazy("募捐活动"), required=False, max_length=100)
    receipt_number = forms.CharField(label=gettext_lazy("票据号"), required=False, max_length=50)
    # Fixed when the form is shown: submitting it twice records one receipt.
    reference = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, fund: Fund, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fund = fund
        self.window = value_date_window(fund.unit)
        self.fields["source"].queryset = selectors.active_sources()  # type: ignore[attr-defined]
        self.fields["occurred_on"].initial = self.window.latest
        self.fields["occurred_on"].help_text = window_help(self.window)
        self.fields["occurred_on"].widget.attrs.update(
            min=self.window.earliest.isoformat(), max=self.window.latest.isoformat()
        )
        self.fields["reference"].initial = f"receipt:{uuid.uuid4().hex}"

    def clean_reference(self) -> str:
        reference = self.cleaned_data["reference"]
        if not reference.startswith("receipt:"):
            raise forms.ValidationError(_("表单已失效，请刷新页面后重新填写。"))
        return reference

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        clean_value_date(self, self.fund.unit, "occurred_on", _("到账日期"), self.window)
        return data


class TransferForm(forms.Form):
    target = FundChoiceField(queryset=Fund.objects.none(), label=gettext_lazy("调入资金"))
    amount = _amount_field()
    memo = forms.CharField(label=gettext_lazy("摘要"), required=False, max_length=200)

    def __init__(self, *args: Any, targets: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets  # type: ignore[attr-defined]


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("冲正理由"),
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("冲正须填写理由。")},
    )


class EntryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        required=False,
        choices=[("", gettext_lazy("全部类型")), *EntryKind.choices],
    )
    date_from = forms.DateField(label=gettext_lazy("起始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=DateInput())
    entry = forms.IntegerField(
        required=False, min_value=1, max_value=2**62, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, fund: Fund, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fund = fund

    def clean_entry(self) -> int | None:
        entry = self.cleaned_data.get("entry")
        if entry is not None and not self.fund.entries.filter(pk=entry).exists():
            raise forms.ValidationError(_("该流水不属于本资金。"))
        return entry

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data

    def period(self) -> tuple[Any, Any]:
        """The summary's period: the dates given, else this calendar year."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start, end = data.get("date_from"), data.get("date_to")
        if start is None and end is None:
            year = clock.today().year
            return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        return start, end

    def to_filter(self) -> selectors.EntryFilter:
        data = self.cleaned_data
        return selectors.EntryFilter(
            kind=data.get("kind") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            entry_id=data.get("entry"),
        )
