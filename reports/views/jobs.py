"""The person's background jobs: progress while they run, the file after."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from accounts.audit import audit_record
from cases.uploads import private_file_response

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
    jobs = Job.objects.filter(created_by_id=request.user.pk).defer("params", "result")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reports/jobs/list.html", {"page": page})


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for(request, pk)
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


urlpatterns = [
    path("jobs/", job_list, name="job_list"),
    path("jobs/<int:pk>/", job_detail, name="job_detail"),
    path("jobs/<int:pk>/download/", job_download, name="job_download"),
]
