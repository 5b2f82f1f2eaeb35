"""统计: the statistics page and its PDF and workbook.

All three read one `Statistics`, so the numbers agree: counted for the
request for a small union, read from the union's snapshot for a big one
(reports/stats_snapshot.py), with the time it was counted (数据截至) on the
page and on both documents.

Anyone who reads household files (caseworkers, chairs, finance, auditors)
may see the figures of their own unions: the union filter offers only
those, and the tables hold counts and sums, never a name.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import require_action, units_for

from ..models import JobStatus
from ..render import CONTENT_TYPES
from ..stats import MAX_YEARS, Scope, default_period
from ..stats_export import number, statistics_pdf, statistics_xlsx
from ..stats_snapshot import (
    Current,
    current_statistics,
    is_small,
    last_job,
    max_age,
    statistics_rebuild,
)

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


def _filter(
    request: HttpRequest, source: QueryDict | None = None
) -> tuple[StatisticsFilter, Scope | None]:
    user: Any = request.user
    home = _home_unit(user)
    start, end = default_period()
    data = {
        "date_from": start.isoformat(),
        "date_to": end.isoformat(),
        "unit": str(home.pk),
    }
    given = request.GET if source is None else source
    for key in data:
        value = given.get(key)
        if value:
            data[key] = value
    form = StatisticsFilter(data, user=user)
    if not form.is_valid():
        return form, None
    cleaned = form.cleaned_data
    return form, Scope(cleaned["unit"], cleaned["date_from"], cleaned["date_to"])


def _scope_query(scope: Scope) -> str:
    """The scope as a query string: the page, its progress and its rebuild
    name the same union and period."""
    return urlencode(
        {
            "unit": str(scope.unit.pk),
            "date_from": scope.date_from.isoformat(),
            "date_to": scope.date_to.isoformat(),
        }
    )


def _page(
    request: HttpRequest,
    form: StatisticsFilter,
    scope: Scope | None,
    current: Current | None = None,
) -> HttpResponse:
    if scope is not None and current is None:
        user = request.user
        assert isinstance(user, User)
        current = current_statistics(scope, user)
    return render(
        request,
        "reports/statistics/page.html",
        {
            "form": form,
            "current": current,
            "stats": current.stats if current is not None else None,
            "query": request.GET.urlencode(),
            "scope": scope,
            "scope_query": _scope_query(scope) if scope is not None else "",
            "max_age": int(max_age().total_seconds() // 60),
        },
    )


@login_required
@require_GET
def statistics_page(request: HttpRequest) -> HttpResponse:
    """The figures: counted now for a small union; for a big one its latest
    snapshot (数据截至), or the progress of the rebuild that makes it."""
    form, scope = _filter(request)
    return _page(request, form, scope)


@login_required
@require_GET
def statistics_progress(request: HttpRequest) -> HttpResponse:
    """The rebuild's progress bar, polled by the page (htmx). When the
    rebuild is done: on a page still waiting for its first figures the
    browser reloads it (HX-Refresh); on a page showing older figures a
    link offers the new ones."""
    form, scope = _filter(request)
    if scope is None:
        return _page(request, form, scope)
    job = last_job(scope)
    waiting = request.GET.get("wait") == "1"
    response = render(
        request,
        "reports/statistics/_progress.html",
        {
            "job": job,
            "scope": scope,
            "scope_query": _scope_query(scope),
            "waiting": waiting,
        },
    )
    if waiting and (job is None or job.status == JobStatus.DONE):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def statistics_rebuild_view(request: HttpRequest) -> HttpResponse:
    """重新计算: rebuild the scope's snapshot in the background (or join the
    rebuild under way), then back to the page, which shows its progress."""
    form, scope = _filter(request, request.POST)
    if scope is None:
        return _page(request, form, scope)
    url = f"{reverse('reports:statistics')}?{_scope_query(scope)}"
    if is_small(scope.unit):
        return redirect(url)  # counted on every request: nothing to rebuild
    user = request.user
    assert isinstance(user, User)
    statistics_rebuild(actor=user, scope=scope)
    messages.success(request, _("已开始重新计算统计数据，完成后自动显示。"))
    return redirect(url)


def _export(request: HttpRequest, fmt: str) -> HttpResponse:
    form, scope = _filter(request)
    if scope is None:
        return _page(request, form, scope)
    user = request.user
    assert isinstance(user, User)
    # A big union's documents draw the snapshot the page shows, so the
    # three agree; none yet: the page starts it and shows its progress.
    current = current_statistics(scope, user, rebuild=False)
    stats = current.stats
    if stats is None:
        messages.info(request, _("统计数据正在后台计算，完成后即可导出。"))
        return redirect(f"{reverse('reports:statistics')}?{_scope_query(scope)}")
    doc_number = number(stats)
    if fmt == "pdf":
        content = statistics_pdf(stats, doc_number)
    else:
        content = statistics_xlsx(stats, doc_number)
    changes = {
        "format": [None, fmt],
        "document": [None, doc_number],
        "period": [None, f"{scope.date_from.isoformat()}~{scope.date_to.isoformat()}"],
    }
    if stats.as_of is not None:
        changes["as_of"] = [None, stats.as_of.isoformat()]
    audit_record(
        actor=user,
        action="export.statistics",
        unit=scope.unit,
        changes=changes,
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
    path("statistics/progress/", statistics_progress, name="statistics_progress"),
    path("statistics/rebuild/", statistics_rebuild_view, name="statistics_rebuild"),
]
