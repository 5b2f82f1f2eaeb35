"""Running long work in the background through the Django Tasks API.

A job kind is a function registered with `@job_kind("name")` that takes the
Job and a `Progress` and returns a `JobOutput` (a file, a message, or both).
`job_start` records the Job and enqueues one task that runs it; the
`db_worker` process (django-tasks-db) picks it up. The page polls the job and
offers the file when it is done. Work small enough to finish at once can
call `job_run_now` instead and stay in the request.
"""

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from accounts.audit import audit_record
from accounts.models import User

from .models import Job, JobStatus

log = logging.getLogger(__name__)

# A progress write at most this often: a 100,000-row export must not spend
# its time updating its own progress row.
PROGRESS_EVERY_S = 0.5


@dataclass
class JobOutput:
    filename: str = ""
    content: bytes = b""
    content_type: str = ""
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)


class Progress:
    """Reports how far a job has got, throttled."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if total is not None:
            self.job.total = total
        self.job.done = done
        if now - self._last >= PROGRESS_EVERY_S or (total is not None and done >= total):
            self._last = now
            Job.objects.filter(pk=self.job.pk).update(done=done, total=self.job.total)


JobFunction = Callable[[Job, Progress], JobOutput]
KINDS: dict[str, JobFunction] = {}


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    def register(function: JobFunction) -> JobFunction:
        KINDS[name] = function
        return function

    return register


def _execute(job: Job) -> Job:
    function = KINDS.get(job.kind)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    job.status = JobStatus.RUNNING
    try:
        if function is None:
            raise LookupError(f"unknown job kind {job.kind!r}")
        output = function(job, Progress(job))
    except Exception as exc:
        log.error("job %s failed\n%s", job.pk, traceback.format_exc())
        job.status = JobStatus.FAILED
        job.message = _("处理失败：%(e)s") % {"e": exc}
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        return job
    if output.content:
        job.file.save(output.filename or "result.bin", ContentFile(output.content), save=False)
    job.filename = output.filename
    job.content_type = output.content_type
    job.message = output.message
    job.result = output.result
    job.status = JobStatus.DONE
    job.done = max(job.done, job.total)
    job.finished_at = timezone.now()
    job.save()
    return job


@task()
def run_job(job_id: int) -> None:
    job = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).first()
    if job is not None:
        _execute(job)


def _create(actor: User, kind: str, title: str, params: dict[str, Any]) -> Job:
    if kind not in KINDS:
        raise LookupError(kind)
    job = Job.objects.create(kind=kind, title=title, params=params, created_by=actor)
    audit_record(
        actor=actor, action="job.start", obj=job, unit=None, changes={"kind": [None, kind]}
    )
    return job


@transaction.atomic
def job_start(*, actor: User, kind: str, title: str, params: dict[str, Any]) -> Job:
    """Record the job and queue it; the worker runs it after the commit."""
    job = _create(actor, kind, title, params)
    transaction.on_commit(lambda: run_job.enqueue(job.pk))
    return job


def job_run_now(*, actor: User, kind: str, title: str, params: dict[str, Any]) -> Job:
    """Run a small job inside the request, keeping the same record."""
    with transaction.atomic():
        job = _create(actor, kind, title, params)
    return _execute(job)
