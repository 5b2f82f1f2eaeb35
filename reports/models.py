"""Background jobs: big exports, imports and batch PDFs run outside the web
worker; the page polls the job's progress and offers the file when done."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from cases.models.household import private_storage


class JobStatus(models.TextChoices):
    QUEUED = "queued", gettext_lazy("排队中")
    RUNNING = "running", gettext_lazy("处理中")
    DONE = "done", gettext_lazy("已完成")
    FAILED = "failed", gettext_lazy("失败")


def _job_path(instance: "Job", filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"jobs/{instance.created_by_id}/{uuid.uuid4().hex}.{ext}"


class Job(models.Model):
    kind = models.CharField(gettext_lazy("类型"), max_length=40)
    title = models.CharField(gettext_lazy("名称"), max_length=200)
    params = models.JSONField(gettext_lazy("参数"), default=dict, blank=True)
    status = models.CharField(
        gettext_lazy("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    done = models.PositiveIntegerField(gettext_lazy("已处理"), default=0)
    total = models.PositiveIntegerField(gettext_lazy("总数"), default=0)
    file = models.FileField(
        gettext_lazy("结果文件"), storage=private_storage, upload_to=_job_path, blank=True
    )
    filename = models.CharField(gettext_lazy("文件名"), max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    # What the job reports back to the person: a summary, or why it failed.
    message = models.TextField(gettext_lazy("结果说明"), blank=True)
    result = models.JSONField(gettext_lazy("结果数据"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("发起人"),
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    created_at = models.DateTimeField(gettext_lazy("发起时间"), auto_now_add=True)
    finished_at = models.DateTimeField(gettext_lazy("完成时间"), null=True, blank=True)
    # Each run claims the next attempt number; only the run holding the
    # current number may record a result, so a worker presumed dead that
    # wakes up later cannot overwrite (or add a second file to) a retry.
    attempt = models.PositiveIntegerField(gettext_lazy("第几次运行"), default=0)
    started_at = models.DateTimeField(gettext_lazy("开始时间"), null=True, blank=True)
    # Touched with every progress write; a running job whose heartbeat is
    # older than JOB_STALE_AFTER_MINUTES lost its worker.
    heartbeat_at = models.DateTimeField(gettext_lazy("最近进展"), null=True, blank=True)
    # The same request (kind and parameters) from the same person: a double
    # click or a second tab finds the job already under way.
    key = models.CharField(gettext_lazy("请求摘要"), max_length=64, blank=True)
    task_id = models.CharField(gettext_lazy("队列任务编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = gettext_lazy("后台任务")
        verbose_name_plural = gettext_lazy("后台任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="job_owner_idx"),
            models.Index(
                fields=["heartbeat_at"], name="job_running_idx", condition=Q(status="running")
            ),
            # The latest job for a request, whoever started it (statistics
            # snapshots: one rebuild at a time for everybody).
            models.Index(fields=["key", "-created_at"], name="job_key_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(key=""),
                name="job_one_active_per_request",
            ),
            # One stored result per job, never shared between two jobs.
            models.UniqueConstraint(fields=["file"], condition=~Q(file=""), name="job_file_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, self.done * 100 // self.total)

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def retryable(self) -> bool:
        return self.status == JobStatus.FAILED


class StatisticsSnapshot(models.Model):
    """The statistics of one union (with everything below it), one period
    and one language, as computed at `built_at` (数据截至). A union too big
    to count on every request reads its figures from here; a background job
    (or `manage.py statistics_refresh`) rebuilds it from the rows. `data`
    holds the tables exactly (amounts as decimal strings), see
    reports/stats_snapshot.py."""

    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=gettext_lazy("工会"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    date_from = models.DateField(gettext_lazy("统计期间自"))
    date_to = models.DateField(gettext_lazy("至"))
    language = models.CharField(gettext_lazy("语言"), max_length=10)
    built_at = models.DateTimeField(gettext_lazy("数据截至"))
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    job = models.ForeignKey(
        Job,
        verbose_name=gettext_lazy("后台任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    seconds = models.FloatField(gettext_lazy("计算用时（秒）"), default=0)
    data = models.JSONField(gettext_lazy("统计表"), default=dict)

    class Meta:
        verbose_name = gettext_lazy("统计快照")
        verbose_name_plural = gettext_lazy("统计快照")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "date_from", "date_to", "language"],
                name="statistics_snapshot_one_per_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.date_from}~{self.date_to} {self.language}"
