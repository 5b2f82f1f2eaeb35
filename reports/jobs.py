"""Running long work in the background through the Django Tasks API.

A job kind is a function registered with `@job_kind("name")` that takes the
Job and a `Progress` and returns a `JobOutput` (a file, a message, or both).
`job_start` records the Job and enqueues one task that runs it; the
`db_worker` process (django-tasks-db) picks it up. The page polls the job and
offers the file when it is done. Work small enough to finish at once can
call `job_run_now` instead and stay in the request.

The record tells the truth in three ways:

- A job that raises is recorded as failed with a message the person can act
  on, and the exception goes on up so the task queue records a failure too.
- A running job whose worker died stops sending heartbeats (every progress
  write is one); after `JOB_STALE_AFTER_MINUTES` it is marked failed, when
  its owner looks at it or when `manage.py jobs_sweep` runs, and the owner
  may start it again (`job_retry`).
- Each run claims the job by moving it from queued to running and taking the
  next attempt number; only the run that holds the current number may record
  a result. Two workers, a task delivered twice or a worker presumed dead
  that wakes up after a retry cannot produce a second file.
"""

import datetime
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from accounts.audit import audit_record
from accounts.models import User

from .models import Job, JobStatus

log = logging.getLogger(__name__)

# A progress write at most this often: a 100,000-row export must not spend
# its time updating its own progress row.
PROGRESS_EVERY_S = 0.5


class JobError(Exception):
    """A failure whose message tells the person what to fix; shown as is."""


@dataclass
class JobOutput:
    filename: str = ""
    content: bytes = b""
    content_type: str = ""
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)


def stale_after() -> datetime.timedelta:
    """How long a running job may go without a heartbeat before its worker
    is presumed dead."""
    return datetime.timedelta(minutes=int(getattr(settings, "JOB_STALE_AFTER_MINUTES", 15)))


class Progress:
    """Reports how far a job has got, throttled; each write is a heartbeat."""

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
            # Only the current attempt moves the bar.
            Job.objects.filter(
                pk=self.job.pk, status=JobStatus.RUNNING, attempt=self.job.attempt
            ).update(done=done, total=self.job.total, heartbeat_at=timezone.now())


JobFunction = Callable[[Job, Progress], JobOutput]
KINDS: dict[str, JobFunction] = {}


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    def register(function: JobFunction) -> JobFunction:
        KINDS[name] = function
        return function

    return register


def failure_message(job: Job, exc: BaseException) -> str:
    """What the person reads when a job fails: the reason when it is one they
    can act on, otherwise what to do next, never a traceback."""
    if isinstance(exc, ValidationError):
        return _("处理失败：%(e)s") % {"e": "；".join(str(m) for m in exc.messages)}
    if isinstance(exc, JobError | ValueError) and str(exc):
        return _("处理失败：%(e)s") % {"e": exc}
    if isinstance(exc, PermissionDenied):
        return _("处理失败：您已没有执行此任务的权限。如仍需要，请联系管理员。")
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return _("处理失败：要处理的记录已不存在，或您已无权查看。")
    return _(
        "生成失败：系统内部错误（任务编号 %(n)s）。请点“重新开始”重试；"
        "仍失败请联系管理员并告知任务编号。"
    ) % {"n": job.pk}


def _stale_message() -> str:
    minutes = int(stale_after().total_seconds() // 60)
    return _(
        "处理中断：超过 %(m)s 分钟没有进展，后台服务可能已重启。"
        "请点“重新开始”重试；仍失败请联系管理员。"
    ) % {"m": minutes}


def _claim(job_id: int) -> Job | None:
    """Take a queued job for this run: one conditional update, so of two
    runs released at once exactly one gets it (on any database)."""
    now = timezone.now()
    taken = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        attempt=F("attempt") + 1,
        started_at=now,
        heartbeat_at=now,
        done=0,
        message="",
        finished_at=None,
    )
    if not taken:
        return None
    return Job.objects.select_related("created_by").get(pk=job_id)


def _current(job: Job) -> Q:
    return Q(pk=job.pk, status=JobStatus.RUNNING, attempt=job.attempt)


def _record_success(job: Job, output: JobOutput) -> bool:
    """Store the result if this run still holds the job; False (and nothing
    stored) when the job was marked failed, retried or finished meanwhile."""
    with transaction.atomic():
        if Job.objects.select_for_update(no_key=True).filter(_current(job)).first() is None:
            log.warning("job %s attempt %s: result discarded, job moved on", job.pk, job.attempt)
            return False
        if output.content:
            job.file.save(output.filename or "result.bin", ContentFile(output.content), save=False)
        try:
            updated = Job.objects.filter(_current(job)).update(
                file=job.file.name or "",
                filename=output.filename,
                content_type=output.content_type,
                message=output.message,
                result=output.result,
                status=JobStatus.DONE,
                done=max(job.done, job.total),
                total=job.total,
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
            )
        except Exception:
            _drop_file(job)
            raise
        if not updated:
            _drop_file(job)
            return False
    job.refresh_from_db()
    return True


def _drop_file(job: Job) -> None:
    if job.file:
        job.file.storage.delete(job.file.name)
        job.file.name = ""


def _record_failure(job: Job, exc: BaseException) -> None:
    Job.objects.filter(_current(job)).update(
        status=JobStatus.FAILED,
        message=failure_message(job, exc),
        finished_at=timezone.now(),
        done=job.done,
        total=job.total,
    )
    job.refresh_from_db()


def _run(job: Job) -> Job:
    """Run a claimed job; record a failure and raise it again."""
    function = KINDS.get(job.kind)
    try:
        if function is None:
            raise LookupError(f"unknown job kind {job.kind!r}")
        output = function(job, Progress(job))
    except Exception as exc:
        log.exception("job %s (%s) attempt %s failed", job.pk, job.kind, job.attempt)
        _record_failure(job, exc)
        raise
    _record_success(job, output)
    return job


@task()
def run_job(job_id: int) -> str:
    """The worker's entry point. A job already taken, finished or failed is
    left alone (a task delivered twice runs the job once); a job that fails
    raises, so the queue records the failure as well."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    _run(job)
    return str(job.status)


def request_key(kind: str, params: dict[str, Any]) -> str:
    """The same kind with the same parameters is the same request."""
    body = json.dumps([kind, params], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _active(actor: User, key: str) -> Job | None:
    return Job.objects.filter(
        created_by=actor, key=key, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
    ).first()


def _enqueue(job_id: int) -> None:
    result = run_job.enqueue(job_id)
    Job.objects.filter(pk=job_id).update(task_id=str(result.id))


def _create(actor: User, kind: str, title: str, params: dict[str, Any]) -> tuple[Job, bool]:
    """The job for this request: a new one, or the same request still under
    way (a double click, a second tab); the flag says which."""
    if kind not in KINDS:
        raise LookupError(kind)
    key = request_key(kind, params)
    jobs_mark_stale(Job.objects.filter(created_by=actor, key=key))
    existing = _active(actor, key)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind, title=title, params=params, created_by=actor, key=key
            )
            audit_record(
                actor=actor,
                action="job.start",
                obj=job,
                unit=None,
                changes={"kind": [None, kind]},
            )
    except IntegrityError:
        # The same request was recorded a moment ago by another request.
        existing = _active(actor, key)
        if existing is None:
            raise
        return existing, False
    return job, True


def job_start(*, actor: User, kind: str, title: str, params: dict[str, Any]) -> Job:
    """Record the job and queue it; the worker runs it after the commit."""
    job, created = _create(actor, kind, title, params)
    if created:
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def job_run_now(*, actor: User, kind: str, title: str, params: dict[str, Any]) -> Job:
    """Run a small job inside the request, keeping the same record. A
    failure is recorded on the job and shown on its page, not raised."""
    job, created = _create(actor, kind, title, params)
    if not created:
        return job
    claimed = _claim(job.pk)
    if claimed is None:
        return Job.objects.get(pk=job.pk)
    try:
        return _run(claimed)
    except Exception:
        return claimed


@transaction.atomic
def job_retry(*, actor: User, job: Job) -> Job:
    """Start a failed job again, for the person who started it. The job
    function asks for the person's access again when it runs."""
    locked = Job.objects.select_for_update(no_key=True).get(pk=job.pk)
    if locked.created_by_id != actor.pk:
        raise PermissionDenied
    if locked.status != JobStatus.FAILED:
        raise ValidationError(_("只有失败的任务可以重新开始。"))
    if locked.kind not in KINDS:
        raise ValidationError(_("这类任务已不再提供，无法重新开始。"))
    if locked.key:
        running = _active(actor, locked.key)
        if running is not None:
            return running
    queued = Job.objects.filter(pk=locked.pk, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED,
        message="",
        done=0,
        finished_at=None,
        heartbeat_at=None,
        task_id="",
    )
    if not queued:
        raise ValidationError(_("只有失败的任务可以重新开始。"))
    audit_record(
        actor=actor,
        action="job.retry",
        obj=locked,
        unit=None,
        changes={"status": [JobStatus.FAILED.value, JobStatus.QUEUED.value]},
    )
    transaction.on_commit(lambda: _enqueue(locked.pk))
    locked.refresh_from_db()
    return locked


def jobs_mark_stale(
    jobs: QuerySet[Job] | None = None, *, now: datetime.datetime | None = None
) -> int:
    """Mark failed the running jobs (of `jobs`, or all) whose worker went
    quiet for longer than `stale_after()`; their queue rows fail too. Returns
    how many were marked."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    candidates = (jobs if jobs is not None else Job.objects.all()).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff),
        status=JobStatus.RUNNING,
    )
    marked = 0
    for pk, attempt, task_id in candidates.values_list("pk", "attempt", "task_id"):
        with transaction.atomic():
            message = _stale_message()
            updated = Job.objects.filter(
                Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True),
                pk=pk,
                status=JobStatus.RUNNING,
                attempt=attempt,
            ).update(status=JobStatus.FAILED, message=message, finished_at=now)
            if not updated:
                continue
            marked += 1
            _fail_queue_row(task_id, message, now)
            audit_record(
                actor=None,
                action="job.stale",
                obj=Job.objects.get(pk=pk),
                unit=None,
                changes={"status": [JobStatus.RUNNING.value, JobStatus.FAILED.value]},
            )
    return marked


class WorkerLost(Exception):
    """Recorded on the queue row of a job whose worker died."""


def _fail_queue_row(task_id: str, message: str, now: datetime.datetime) -> None:
    if not task_id:
        return
    DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=message,
    )
