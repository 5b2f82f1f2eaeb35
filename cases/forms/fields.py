"""Fields, widgets and value checks shared by the forms (and the imports)."""

import re
import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Unit

from .. import clock


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:  # type: ignore[override]
        return "　" * obj.depth + obj.name


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _digits(value: str) -> str:
    # Full-width digits from a Chinese input method become ASCII, so searches
    # and bank files see one spelling of a number.
    return unicodedata.normalize("NFKC", value).strip().replace(" ", "")


def phone_value(value: str) -> str:
    """A phone number as stored, or a ValidationError (form and import alike)."""
    phone = _digits(value).replace("-", "")
    if phone and not re.fullmatch(r"[0-9]{7,12}", phone):
        raise ValidationError(_("联系电话应为 7 到 12 位数字。"))
    return phone


def bank_account_value(value: str) -> str:
    """A bank account number as stored, or a ValidationError."""
    account = _digits(value)
    if account and not re.fullmatch(r"[0-9]{12,30}", account):
        raise ValidationError(_("银行账号应为 12 到 30 位数字。"))
    return account


def non_negative(value: Any) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("金额不能为负数。"))


def not_in_future(value: Any) -> None:
    if value is not None and value > clock.today():
        raise ValidationError(_("日期不能晚于今天。"))
