"""民政数据比对 screens: the batches, making one, its file, the answer's
upload → check → confirm, and the review of the suggestions.

Sending data and taking the answer back is a chair's (`civil.exchange`);
reviewing the suggestions a caseworker's or chair's (`household.edit`).
ID numbers are always masked on these pages; the batch file itself is
downloaded only by those who may exchange data, and every download is in
the audit trail."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import audit_record
from accounts.masking import mask_id_number
from accounts.paging import paginate
from accounts.scoping import covers, has_action, require_action, units_for
from cases.uploads import private_file_response

from .. import imports
from ..civil import compare, export, selectors
from ..civil.forms import CompareUploadForm, DecideForm, ExportForm, SuggestionFilter
from ..civil.review import suggestion_decide
from ..jobs import jobs_mark_stale
from ..models import CivilBatch, CivilBatchStatus, CivilOutcome, Job, SuggestionStatus
from .imports import _preview
from .jobs import get_job_for

PAGE_SIZE = 50
UNKNOWN_SHOWN = 200


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
@require_GET
def civil_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    page = paginate(request, selectors.batches_for(user), PAGE_SIZE)
    figures = selectors.list_figures(page.object_list)
    rows = [(b, figures.get(b.pk, {})) for b in page.object_list]
    context = {"page": page, "rows": rows, "can_export": has_action(user, export.EXCHANGE)}
    return render(request, "reports/civil/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def civil_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, export.EXCHANGE)
    units = units_for(user, export.EXCHANGE).filter(is_active=True).order_by("path")
    form = ExportForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = export.civil_export_start(
                actor=user, unit=data["unit"], layout=data["layout"], tier=data["tier"]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            return redirect("reports:civil_detail", pk=batch.pk)
    return render(request, "reports/civil/new.html", {"form": form})


def _masked_left_out(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "household": line.household,
            "id_number": mask_id_number(line.household.id_number),
            "unit": line.unit.name,
        }
        for line in rows
    ]


@login_required
@require_GET
def civil_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk)
    job = batch.job
    # A job whose worker died shows as failed as soon as someone looks.
    preparing = batch.status == CivilBatchStatus.PREPARING and job is not None
    if preparing and jobs_mark_stale(Job.objects.filter(pk=job.pk)):  # type: ignore[union-attr]
        job.refresh_from_db()  # type: ignore[union-attr]
    page = paginate(request, selectors.left_out(batch), PAGE_SIZE, noun="户")
    unknown = list(selectors.unknown(batch)[:UNKNOWN_SHOWN])
    context = {
        "batch": batch,
        "job": batch.job,
        "figures": selectors.batch_figures(batch),
        "page": page,
        "left_out": _masked_left_out(page.object_list),
        "unknown": [
            {
                "id_number": mask_id_number(u.id_number),
                "status": u.get_civil_status_display(),
                "row": u.row,
            }
            for u in unknown
        ],
        "can_exchange": covers(user, export.EXCHANGE, batch.unit),
        "can_review": covers(user, "household.edit", batch.unit),
    }
    template = (
        "reports/civil/_detail_body.html"
        if getattr(request, "htmx", False)
        else "reports/civil/detail.html"
    )
    return render(request, template, context)


@login_required
@require_GET
def civil_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk, action=export.EXCHANGE)
    if batch.status == CivilBatchStatus.PREPARING or not batch.file:
        raise Http404
    audit_record(
        actor=user,
        action="civil.download",
        obj=batch,
        unit=batch.unit,
        changes={"sha256": [None, batch.sha256]},
    )
    return private_file_response(batch.file, imports.XLSX, filename=batch.filename, download=True)


@login_required
@require_http_methods(["GET", "POST"])
def civil_compare_start(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk, action=export.EXCHANGE)
    form = CompareUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = compare.compare_check_start(
                actor=user, batch=batch, upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("reports:civil_compare_preview", pk=job.pk)
    context = {"form": form, "batch": batch, "background_rows": imports.background_rows()}
    return render(request, "reports/civil/compare_start.html", context)


def _compare_job(request: HttpRequest, pk: int) -> tuple[Job, CivilBatch]:
    user = _user(request)
    require_action(user, export.EXCHANGE)
    job = get_job_for(request, pk)
    if job.kind not in compare.KINDS:
        raise Http404
    batch = selectors.get_batch_for(user, job.params.get("batch"), action=export.EXCHANGE)
    return job, batch


@login_required
@require_GET
def civil_compare_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job, batch = _compare_job(request, pk)
    summary = imports.job_summary(job, check_kinds=(compare.CHECK_KIND,))
    summary["civil"] = (job.result or {}).get("civil", {})
    templates = ("reports/civil/_compare_preview.html", "reports/civil/compare_preview.html")
    return _preview(request, job, summary, imports.preview_errors(job), templates, batch=batch)


@login_required
@require_POST
def civil_compare_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    check, batch = _compare_job(request, pk)
    try:
        run = compare.compare_confirm(actor=_user(request), check=check)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("reports:civil_compare_preview", pk=check.pk)
    if run.finished and run.result.get("ok"):
        messages.success(request, run.message)
        return redirect("reports:civil_detail", pk=batch.pk)
    return redirect("reports:civil_compare_preview", pk=run.pk)


def _suggestion_rows(rows: list[Any]) -> list[dict[str, Any]]:
    found = []
    for s in rows:
        line = s.line
        found.append(
            {
                "s": s,
                "id_number": mask_id_number(s.household.id_number),
                "member_id": mask_id_number(s.member.id_number) if s.member else "",
                "line": line,
            }
        )
    return found


@login_required
@require_GET
def civil_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    batch = selectors.get_batch_for(user, pk, action="household.edit")
    filters = SuggestionFilter(request.GET or None)
    kind = status = ""
    if filters.is_valid():
        kind = filters.cleaned_data.get("kind") or ""
        status = filters.cleaned_data.get("status") or ""
    page = paginate(request, selectors.suggestions(batch, kind=kind, status=status), PAGE_SIZE)
    context = {
        "batch": batch,
        "filters": filters,
        "page": page,
        "rows": _suggestion_rows(page.object_list),
        "figures": selectors.batch_figures(batch),
        "pending": SuggestionStatus.PENDING.value,
        "decide_form": DecideForm(),
        "outcomes": CivilOutcome,
    }
    return render(request, "reports/civil/review.html", context)


@login_required
@require_POST
def civil_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    suggestion = selectors.get_suggestion_for(user, pk)
    back = reverse("reports:civil_review", args=[suggestion.batch_id])
    query = request.POST.get("next_query", "")
    if query and not query.startswith(("/", "\\")) and "://" not in query:
        back = f"{back}?{query}"
    form = DecideForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}：{error}" if label else str(error))
        return redirect(back)
    try:
        suggestion_decide(
            actor=user,
            suggestion=suggestion,
            accept=form.cleaned_data["decision"] == "accept",
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已处理：%(h)s") % {"h": suggestion.household.name})
    return redirect(back)


urlpatterns = [
    path("civil/", civil_list, name="civil_list"),
    path("civil/new/", civil_new, name="civil_new"),
    path("civil/<int:pk>/", civil_detail, name="civil_detail"),
    path("civil/<int:pk>/download/", civil_download, name="civil_download"),
    path("civil/<int:pk>/compare/", civil_compare_start, name="civil_compare_start"),
    path("civil/<int:pk>/review/", civil_review, name="civil_review"),
    path("civil/compare/<int:pk>/", civil_compare_preview, name="civil_compare_preview"),
    path("civil/compare/<int:pk>/confirm/", civil_compare_confirm, name="civil_compare_confirm"),
    path("civil/suggestions/<int:pk>/decide/", civil_decide, name="civil_decide"),
]
