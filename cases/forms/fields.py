"""Fields, widgets and value checks shared by the forms (and the imports)."""

import html
import re
import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import Unit
from accounts.refcache import remembered

from .. import clock


class FastSelect(forms.Select):
    """A <select> written out in Python. Django renders every option through
    a template of its own, about 40 µs each: the 409 unions of a city cost a
    list page 16 ms before any row. Same markup, without option groups."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        choices = _choices(self.choices)
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = set(self.format_value(value))
        parts = [f"<select{flatatt(final)}>"]
        for option, label in choices:
            if isinstance(label, (list, tuple)):  # option groups: Django's own way
                return super().render(name, value, attrs, renderer)
            text = "" if option is None else str(option)
            selected = " selected" if text in chosen else ""
            # The standard library's escape (Django's wraps it, and checks every
            # call for lazy text: a third of the time for 409 options).
            # An int needs no escaping; a SafeString label was escaped when
            # it was read (the unions, kept by accounts.refcache).
            value = text if isinstance(option, int) else html.escape(text)
            shown = label if isinstance(label, SafeString) else html.escape(str(label))
            parts.append(f'<option value="{value}"{selected}>{shown}</option>')
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value escaped above


class FastTextInput(forms.TextInput):
    """A text <input> written out in Python, as Django's input.html and
    attrs.html would write it (1.5 ms a page through the templates)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<input type="{html.escape(str(widget["type"]))}" name="{html.escape(name)}"']
        if widget["value"] is not None:
            parts.append(f' value="{html.escape(str(widget["value"]))}"')
        for key, attr in widget["attrs"].items():
            if attr is True:
                parts.append(f" {key}")
            elif attr is not False:
                parts.append(f' {key}="{html.escape(str(attr))}"')
        parts.append(">")
        return mark_safe("".join(parts))  # noqa: S308 - every value escaped above


def _choices(choices: Any) -> list[tuple[Any, Any]]:
    """The options, a model field's read in one plain query: its iterator
    would first count them (list() asks len()) and read them through a
    server-side cursor (three round trips on PostgreSQL)."""
    if not isinstance(choices, ModelChoiceIterator):
        return list(choices)
    field = choices.field
    options: list[tuple[Any, Any]] = []
    if field.empty_label is not None:
        options.append(("", field.empty_label))
    if isinstance(field, UnitChoiceField):
        # A city's hundreds of unions: their names only, not model instances.
        rows = choices.queryset.values_list("pk", "depth", "name")
        sql, params = rows.query.sql_with_params()
        names = remembered(
            ("unit-options", rows.db, sql, params),
            lambda: [
                (pk, mark_safe(html.escape("　" * depth + name)))  # noqa: S308 - escaped here
                for pk, depth, name in rows
            ],
        )
        return options + names
    options += [(field.prepare_value(o), field.label_from_instance(o)) for o in choices.queryset]
    return options


class UnitChoiceField(forms.ModelChoiceField):
    widget = FastSelect

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


class PeriodForm(forms.Form):
    """A period: from, to, either open. The report options and the screens
    that list by period share it."""

    date_from = forms.DateField(label=_lazy("起始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_lazy("截止日期"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data
