"""统计: the statistics page and its PDF and workbook.

All three read one `reports.stats.statistics(scope)`, so the numbers agree.
Anyone who reads household files (caseworkers, chairs, finance, auditors)
may see the figures of their own unions: the union filter offers only
those, and the tables hold counts and sums, never a name.
"""

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import require_action, units_for

from ..render import CONTENT_TYPES
from ..stats import MAX_YEARS, Scope, default_period, statistics
from ..stats_export import number, statistics_pdf, statistics_xlsx

VIEW = "household.view"


class UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return "　" * obj.depth + obj.name


class StatisticsFilter(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("统计期间自"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("至"), widget=forms.DateInput(attrs={"type": "date"})
    )
    unit = UnitChoice(
        label=gettext_lazy("工会"),
        queryset=Unit.objects.none(),
        error_messages={"invalid_choice": gettext_lazy("请选择您所在的工会或其下属工会。")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = units_for(user, VIEW).filter(is_active=True).order_by("path")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        # Any range, several years included: each year gets its own column,
        # and month tables are left out of long ranges (reports.stats).
        if start and end:
            if start > end:
                self.add_error("date_to", _("统计期间的结束日期不能早于开始日期。"))
            elif end.year - start.year + 1 > MAX_YEARS:
                self.add_error(
                    "date_from",
                    _("统计期间最长 %(n)s 个年度（每年一列），请缩短期间。") % {"n": MAX_YEARS},
                )
        return data


def _home_unit(user: User) -> Unit:
    """The highest union the person reads (the memberships are loaded already)."""
    granted = require_action(user, VIEW)
    return min((m.unit for m in granted), key=lambda u: (u.depth, u.path))


def _filter(request: HttpRequest) -> tuple[StatisticsFilter, Scope | None]:
    user: Any = request.user
    home = _home_unit(user)
    start, end = default_period()
    data = {
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
        "unit": str(home.pk),
    }
    for key in data:
        value = request.GET.get(key)
        if value:
            data[key] = value
    form = StatisticsFilter(data, user=user)
    if not form.is_valid():
        return form, None
    cleaned = form.cleaned_data
    return form, Scope(cleaned["unit"], cleaned["date_from"], cleaned["date_to"])


def _page(request: HttpRequest, form: StatisticsFilter, scope: Scope | None) -> HttpResponse:
    stats = statistics(scope) if scope is not None else None
    query = request.GET.urlencode()
    return render(
        request,
        "reports/statistics/page.html",
        {"form": form, "stats": stats, "query": query, "scope": scope},
    )


@login_required
@require_GET
def statistics_page(request: HttpRequest) -> HttpResponse:
    form, scope = _filter(request)
    return _page(request, form, scope)


def _export(request: HttpRequest, fmt: str) -> HttpResponse:
    form, scope = _filter(request)
    if scope is None:
        return _page(request, form, scope)
    stats = statistics(scope)
    doc_number = number(stats)
    if fmt == "pdf":
        content = statistics_pdf(stats, doc_number)
    else:
        content = statistics_xlsx(stats, doc_number)
    audit_record(
        actor=request.user,  # type: ignore[arg-type]
        action="export.statistics",
        unit=scope.unit,
        changes={
            "format": [None, fmt],
            "document": [None, doc_number],
            "period": [None, f"{scope.date_from.isoformat()}~{scope.date_to.isoformat()}"],
        },
    )
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    filename = f"{_('困难职工帮扶统计表')}-{doc_number}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(fmt != "pdf", filename) or ""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def statistics_pdf_view(request: HttpRequest) -> HttpResponse:
    return _export(request, "pdf")


@login_required
@require_GET
def statistics_xlsx_view(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")


urlpatterns: list[URLPattern] = [
    path("statistics/", statistics_page, name="statistics"),
    path("statistics/pdf/", statistics_pdf_view, name="statistics_pdf"),
    path("statistics/xlsx/", statistics_xlsx_view, name="statistics_xlsx"),
]
