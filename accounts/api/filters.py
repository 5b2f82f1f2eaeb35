"""Reading a list's filters from the query string: through the web list's own
filter form where there is one (the same choices, the same scope, the same
messages), and a refusal naming the parameter when a value is wrong."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) >= 2**63:
        raise ValidationError({name: [_("应为正整数编号。")]})
    return int(raw)


def date_param(request: Request, name: str) -> Any:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    field = forms.DateField(input_formats=["%Y-%m-%d"])
    try:
        return field.clean(raw)
    except forms.ValidationError:
        raise ValidationError({name: [_("日期格式应为 YYYY-MM-DD，例如 2026-01-31。")]}) from None


def date_range(request: Request) -> tuple[Any, Any]:
    """`date_from` and `date_to`, each optional, the end not before the start."""
    start, end = date_param(request, "date_from"), date_param(request, "date_to")
    if start is not None and end is not None and end < start:
        raise ValidationError({"date_to": [_("结束日期不能早于开始日期。")]})
    return start, end


def checked_form(form: forms.BaseForm) -> dict[str, Any]:
    """The form's cleaned data, or a 400 naming each wrong parameter."""
    if not form.is_valid():
        raise ValidationError(
            {
                ("non_field_errors" if name == "__all__" else name): [str(m) for m in errors]
                for name, errors in form.errors.items()
            }
        )
    return form.cleaned_data


def query_dict(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    """Only the parameters a filter form knows; empty ones left out."""
    return {n: request.query_params[n] for n in names if request.query_params.get(n, "").strip()}
