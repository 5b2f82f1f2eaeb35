"""Small helpers every app's views share."""

from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest


def attach_errors(form: BaseForm, exc: ValidationError) -> None:
    """Show a service's refusal on the form: on the field it names, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def query_without_page(request: HttpRequest) -> str:
    """The list's filters as a query string, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
