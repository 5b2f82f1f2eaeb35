"""Import screens: upload, template, preview (errors or summary), confirm.

The household import lets in people who may edit household files; moving
in (建档迁移: the register, and the aid history) only a union's chair or
administrator. A check or an import job is its uploader's alone."""

from collections.abc import Callable
from typing import Any

from django import forms
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
from cases.services.migration import require_migrator

from .. import imports
from .. import imports_migrate as migrate
from ..models import Job
from .jobs import get_job_for

ERRORS_PAGE_SIZE = 100


def _user(request: HttpRequest) -> Any:
    return request.user


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    """A downloaded template: an attachment the browser does not keep."""
    response = HttpResponse(content, content_type=imports.XLSX)
    disposition = content_disposition_header(True, filename)
    response["Content-Disposition"] = disposition or "attachment"
    response["Cache-Control"] = "private, no-store"
    return response


def _start(
    request: HttpRequest,
    form: forms.Form,
    check_start: Callable[[Any], Job],
    preview: str,
    template: str,
    **extra: Any,
) -> HttpResponse:
    """The upload page: on a good upload, start its check and go to its page."""
    if request.method == "POST" and form.is_valid():
        try:
            job = check_start(form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect(preview, pk=job.pk)
    context = {"form": form, **extra, "background_rows": imports.background_rows()}
    return render(request, template, context)


def _preview(
    request: HttpRequest,
    job: Job,
    summary: dict[str, Any],
    errors: list[Any],
    templates: tuple[str, str],
    **extra: Any,
) -> HttpResponse:
    """The check or import result; only the part that changes for htmx."""
    page = Paginator(errors, ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"job": job, "summary": summary, "page": page, **extra}
    partial, full = templates
    return render(request, partial if getattr(request, "htmx", False) else full, context)


def _confirm(
    request: HttpRequest, check: Job, confirm: Callable[..., Job], preview: str
) -> HttpResponse:
    """Start the import of a checked file; back to the check on refusal."""
    try:
        run = confirm(actor=_user(request), check=check)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(preview, pk=check.pk)
    if run.finished and run.result.get("ok"):
        messages.success(request, run.message)
    return redirect(preview, pk=run.pk)


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
    return _start(
        request,
        form,
        lambda upload: imports.import_check_start(actor=user, upload=upload),
        "reports:import_preview",
        "reports/imports/start.html",
    )


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.edit")
    return _xlsx(imports.template_xlsx(user), _("困难职工导入模板") + ".xlsx")


@login_required
@require_GET
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_job(request, pk)
    templates = ("reports/imports/_preview.html", "reports/imports/preview.html")
    summary, errors = imports.job_summary(job), imports.preview_errors(job)
    return _preview(request, job, summary, errors, templates)


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    check = _import_job(request, pk)
    return _confirm(request, check, imports.import_confirm, "reports:import_preview")


urlpatterns = [
    path("import/", import_start, name="import_start"),
    path("import/template/", import_template, name="import_template"),
    path("import/<int:pk>/", import_preview, name="import_preview"),
    path("import/<int:pk>/confirm/", import_confirm, name="import_confirm"),
]


# -- moving in (建档迁移): the register and the aid history ----------------------------------


def _migrate_job(request: HttpRequest, pk: int) -> Job:
    require_migrator(_user(request))
    job = get_job_for(request, pk)
    if job.kind not in migrate.KINDS:
        raise Http404
    return job


def _migrate_start(request: HttpRequest, mode: migrate.Mode) -> HttpResponse:
    user = _user(request)
    require_migrator(user)
    form = migrate.MigrateUploadForm(request.POST or None, request.FILES or None)
    return _start(
        request,
        form,
        lambda upload: migrate.migrate_check_start(actor=user, upload=upload, mode=mode),
        "reports:migrate_preview",
        "reports/imports/migrate_start.html",
        mode=mode,
    )


@login_required
@require_http_methods(["GET", "POST"])
def migrate_register_start(request: HttpRequest) -> HttpResponse:
    return _migrate_start(request, migrate.MODES["register"])


@login_required
@require_http_methods(["GET", "POST"])
def migrate_history_start(request: HttpRequest) -> HttpResponse:
    return _migrate_start(request, migrate.MODES["history"])


def _migrate_template(request: HttpRequest, mode: migrate.Mode) -> HttpResponse:
    user = _user(request)
    require_migrator(user)
    return _xlsx(migrate.template_xlsx(mode, user), f"{mode.template_name}.xlsx")


@login_required
@require_GET
def migrate_register_template(request: HttpRequest) -> HttpResponse:
    return _migrate_template(request, migrate.MODES["register"])


@login_required
@require_GET
def migrate_history_template(request: HttpRequest) -> HttpResponse:
    return _migrate_template(request, migrate.MODES["history"])


@login_required
@require_GET
def migrate_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _migrate_job(request, pk)
    templates = ("reports/imports/_migrate_preview.html", "reports/imports/migrate_preview.html")
    summary, errors = migrate.job_summary(job), migrate.preview_errors(job)
    return _preview(request, job, summary, errors, templates, mode=migrate.mode_of(job))


@login_required
@require_POST
def migrate_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    check = _migrate_job(request, pk)
    return _confirm(request, check, migrate.migrate_confirm, "reports:migrate_preview")


urlpatterns += [
    path("migrate/register/", migrate_register_start, name="migrate_register_start"),
    path("migrate/register/template/", migrate_register_template, name="migrate_register_template"),
    path("migrate/history/", migrate_history_start, name="migrate_history_start"),
    path("migrate/history/template/", migrate_history_template, name="migrate_history_template"),
    path("migrate/<int:pk>/", migrate_preview, name="migrate_preview"),
    path("migrate/<int:pk>/confirm/", migrate_confirm, name="migrate_confirm"),
]
