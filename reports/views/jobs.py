"""The person's background jobs: progress while they run, the file after,
and a way to start again one that failed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import audit_record
from accounts.models import User
from cases.uploads import private_file_response

from ..jobs import job_retry, jobs_mark_stale
from ..models import Job, JobStatus

PAGE_SIZE = 20


def get_job_for(request: HttpRequest, pk: int) -> Job:
    """A job is its creator's alone: anyone else gets 404."""
    job = Job.objects.filter(pk=pk, created_by_id=request.user.pk).first()
    if job is None:
        raise Http404
    return job


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    # A job whose worker died shows as failed as soon as its owner looks.
    jobs_mark_stale(Job.objects.filter(created_by_id=request.user.pk))
    jobs = Job.objects.filter(created_by_id=request.user.pk).defer("params", "result")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reports/jobs/list.html", {"page": page})


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for(request, pk)
    if jobs_mark_stale(Job.objects.filter(pk=job.pk)):
        job.refresh_from_db()
    template = (
        "reports/jobs/_progress.html"
        if getattr(request, "htmx", False)
        else "reports/jobs/detail.html"
    )
    return render(request, template, {"job": job})


@login_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = get_job_for(request, pk)
    if job.status != JobStatus.DONE or not job.file:
        raise Http404
    audit_record(actor=request.user, action="job.download", obj=job)  # type: ignore[arg-type]
    return private_file_response(
        job.file, job.content_type or None, filename=job.filename, download=True
    )


@login_required
@require_POST
def job_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for(request, pk)
    user = request.user
    assert isinstance(user, User)
    try:
        job = job_retry(actor=user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已重新开始，请稍候。"))
    return redirect("reports:job_detail", pk=job.pk)


urlpatterns = [
    path("jobs/", job_list, name="job_list"),
    path("jobs/<int:pk>/", job_detail, name="job_detail"),
    path("jobs/<int:pk>/download/", job_download, name="job_download"),
    path("jobs/<int:pk>/retry/", job_retry_view, name="job_retry"),
]
