"""回避 screens: 回避转办 for the parent union's chairs, and the report of
flagged cases for auditors (a page and a workbook of the same rows)."""

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook

from accounts.paging import paginate
from accounts.scoping import require_action
from accounts.xlsx import text_row

from ..models import ConflictStep
from ..selectors import conflicts as selectors
from ..selectors.applications import get_application_for
from ..services.conflicts import application_recuse as recuse
from .applications import refused

PAGE_SIZE = 50
# The workbook is written at once: flags are rare (a handful a union a year).
XLSX_LIMIT = 20_000


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
@require_GET
def conflict_escalations(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, selectors.DECIDE)
    page = paginate(request, selectors.escalations_for(user), PAGE_SIZE)
    rows = selectors.escalation_rows(page.object_list)
    return render(request, "programs/conflicts/escalations.html", {"page": page, "rows": rows})


@login_required
@require_POST
def application_recuse(request: HttpRequest, pk: int) -> HttpResponse:
    """回避: the chair declares it from the application's page."""
    user = _user(request)
    application = get_application_for(user, pk, action=selectors.DECIDE)
    try:
        recuse(actor=user, application=application)
    except PermissionDenied as exc:
        return refused(request, exc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("已回避：该申请由其他工会主席审批，上级工会主席可在“回避转办”中办理。")
        )
    return redirect("programs:application_detail", pk=application.pk)


def _step(request: HttpRequest) -> str:
    step = request.GET.get("step", "")
    return step if step in ConflictStep.values else ""


@login_required
@require_GET
def conflict_report(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, selectors.AUDIT)
    step = _step(request)
    flags = selectors.flags_for(user, step=step)
    if request.GET.get("format") == "xlsx":
        return _workbook(user, list(flags[:XLSX_LIMIT]))
    page = paginate(request, flags, PAGE_SIZE)
    context = {
        "page": page,
        "rows": selectors.flag_rows(user, page.object_list),
        "steps": ConflictStep.choices,
        "step": step,
    }
    return render(request, "programs/conflicts/report.html", context)


def _workbook(user: Any, flags: list[Any]) -> HttpResponse:
    book = Workbook(write_only=True)
    ws = book.create_sheet(_("回避标记"))
    ws.append(
        [
            _("标记时间"),
            _("所属工会"),
            _("家庭/会员"),
            _("申请"),
            _("申请状态"),
            _("回避人员"),
            _("环节"),
            _("回避原因"),
            _("已拒绝办理"),
        ]
    )
    for row in selectors.flag_rows(user, flags):
        ws.append(
            text_row(
                ws,
                [
                    timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M"),
                    row.unit,
                    row.subject,
                    row.what,
                    row.status,
                    row.user,
                    row.step,
                    row.reasons,
                    _("是") if row.refused else _("否"),
                ],
            )
        )
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="conflicts.xlsx"'
    return response


urlpatterns: list[URLPattern] = [
    path("conflicts/escalated/", conflict_escalations, name="conflict_escalations"),
    path("conflicts/report/", conflict_report, name="conflict_report"),
    path("applications/<int:pk>/recuse/", application_recuse, name="application_recuse"),
]
