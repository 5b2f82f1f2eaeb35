"""Household import screens: upload, template, preview (errors or summary),
confirm. Only people who may edit household files get in; a check or an
import job is its uploader's alone."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scoping import require_action

from .. import imports
from ..models import Job
from .jobs import get_job_for

ERRORS_PAGE_SIZE = 100


def _user(request: HttpRequest) -> Any:
    return request.user


def _import_job(request: HttpRequest, pk: int) -> Job:
    require_action(_user(request), "household.edit")
    job = get_job_for(request, pk)
    if job.kind not in imports.KINDS:
        raise Http404
    return job


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.edit")
    form = imports.ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_check_start(actor=user, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("reports:import_preview", pk=job.pk)
    return render(
        request,
        "reports/imports/start.html",
        {"form": form, "background_rows": imports.background_rows()},
    )


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.edit")
    response = HttpResponse(imports.template_xlsx(user), content_type=imports.XLSX)
    disposition = content_disposition_header(True, _("困难职工导入模板") + ".xlsx")
    response["Content-Disposition"] = disposition or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_job(request, pk)
    summary = imports.job_summary(job)
    page = Paginator(imports.preview_errors(job), ERRORS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"job": job, "summary": summary, "page": page}
    if getattr(request, "htmx", False):
        return render(request, "reports/imports/_preview.html", context)
    return render(request, "reports/imports/preview.html", context)


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    check = _import_job(request, pk)
    try:
        run = imports.import_confirm(actor=user, check=check)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("reports:import_preview", pk=check.pk)
    if run.finished and run.result.get("ok"):
        messages.success(request, run.message)
    return redirect("reports:import_preview", pk=run.pk)


urlpatterns = [
    path("import/", import_start, name="import_start"),
    path("import/template/", import_template, name="import_template"),
    path("import/<int:pk>/", import_preview, name="import_preview"),
    path("import/<int:pk>/confirm/", import_confirm, name="import_confirm"),
]
