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


# -- 民政数据比对: the round trip with civil affairs -------------------------------------


def _civil_path(instance: "CivilBatch", filename: str) -> str:
    # Never the name shown to people: the stored name reveals nothing.
    return f"civil/{instance.unit_id}/{uuid.uuid4().hex}.xlsx"


class CivilBatchStatus(models.TextChoices):
    PREPARING = "preparing", gettext_lazy("生成中")
    EXPORTED = "exported", gettext_lazy("已生成，待民政返回")
    COMPARED = "compared", gettext_lazy("已导入比对结果")


class CivilBatch(models.Model):
    """One file of households sent to civil affairs for a check, and what
    came back. Only households with a signed consent (授权书 with its date)
    are in the file; the others are recorded as left out."""

    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=gettext_lazy("工会"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        gettext_lazy("状态"),
        max_length=12,
        choices=CivilBatchStatus.choices,
        default=CivilBatchStatus.PREPARING,
    )
    layout = models.CharField(gettext_lazy("文件格式"), max_length=40)
    filters = models.JSONField(gettext_lazy("筛选条件"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(gettext_lazy("发起时间"), auto_now_add=True)
    job = models.ForeignKey(
        Job,
        verbose_name=gettext_lazy("后台任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(
        gettext_lazy("比对文件"), storage=private_storage, upload_to=_civil_path, blank=True
    )
    filename = models.CharField(gettext_lazy("文件名"), max_length=200, blank=True)
    sha256 = models.CharField(gettext_lazy("文件 SHA-256"), max_length=64, blank=True)
    exported_at = models.DateTimeField(gettext_lazy("生成时间"), null=True, blank=True)
    included = models.PositiveIntegerField(gettext_lazy("报送户数"), default=0)
    left_out = models.PositiveIntegerField(gettext_lazy("未授权未报送户数"), default=0)
    # The comparison file civil affairs sent back.
    compared_at = models.DateTimeField(gettext_lazy("导入比对时间"), null=True, blank=True)
    compared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comparison_filename = models.CharField(gettext_lazy("比对结果文件"), max_length=200, blank=True)
    comparison_sha256 = models.CharField(
        gettext_lazy("比对结果 SHA-256"), max_length=64, blank=True
    )

    class Meta:
        verbose_name = gettext_lazy("民政比对批次")
        verbose_name_plural = gettext_lazy("民政比对批次")
        ordering = ["-id"]
        indexes = [models.Index(fields=["unit", "-id"], name="civil_batch_unit_idx")]

    def __str__(self) -> str:
        return f"民政比对 #{self.pk}"


class CivilOutcome(models.TextChoices):
    PENDING = "pending", gettext_lazy("待返回")
    MATCHED = "matched", gettext_lazy("一致")
    DIFFERS = "differs", gettext_lazy("有差异")
    MISSING = "missing", gettext_lazy("民政未返回")


class CivilStatus(models.TextChoices):
    """What civil affairs says of a person."""

    DIBAO = "dibao", gettext_lazy("低保")
    TEKUN = "tekun", gettext_lazy("特困")
    EDGE = "edge", gettext_lazy("低保边缘")
    NONE = "none", gettext_lazy("无")


class CivilLine(models.Model):
    """One household considered for a batch: sent (it had a consent) or
    left out (it had none), and, once the answer is in, how it compared."""

    batch = models.ForeignKey(CivilBatch, on_delete=models.CASCADE, related_name="lines")
    household = models.ForeignKey(
        "cases.Household",
        verbose_name=gettext_lazy("家庭"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The household's union when the file was made, for the figures per union.
    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=gettext_lazy("工会"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    included = models.BooleanField(gettext_lazy("已报送"))
    # The members whose ID numbers went out with the head's.
    member_ids = models.JSONField(gettext_lazy("报送的家庭成员"), default=list, blank=True)
    outcome = models.CharField(
        gettext_lazy("比对结果"),
        max_length=10,
        choices=CivilOutcome.choices,
        default=CivilOutcome.PENDING,
    )
    civil_status = models.CharField(
        gettext_lazy("民政状态"), max_length=8, choices=CivilStatus.choices, blank=True
    )
    civil_amount = models.DecimalField(
        gettext_lazy("月保障金额"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    civil_income = models.DecimalField(
        gettext_lazy("核对收入（元/月）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    checked_on = models.DateField(gettext_lazy("核对日期"), null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("比对家庭")
        verbose_name_plural = gettext_lazy("比对家庭")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "household"], name="civil_line_unique")
        ]
        indexes = [
            models.Index(fields=["batch", "included", "id"], name="civil_line_batch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.household_id}"


class CivilUnknown(models.Model):
    """An ID number in the comparison file that the batch did not send."""

    batch = models.ForeignKey(CivilBatch, on_delete=models.CASCADE, related_name="unknown")
    id_number = models.CharField(gettext_lazy("身份证号"), max_length=18)
    civil_status = models.CharField(
        gettext_lazy("民政状态"), max_length=8, choices=CivilStatus.choices
    )
    row = models.PositiveIntegerField(gettext_lazy("行号"))

    class Meta:
        verbose_name = gettext_lazy("未报送的身份证号")
        verbose_name_plural = gettext_lazy("未报送的身份证号")
        ordering = ["row", "id"]

    def __str__(self) -> str:
        return f"{self.batch_id} #{self.row}"


class SuggestionKind(models.TextChoices):
    TIER = "tier", gettext_lazy("调整困难类别")
    RECHECK = "recheck", gettext_lazy("重新核对收入")
    MEMBER = "member", gettext_lazy("核实家庭成员")


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("待处理")
    ACCEPTED = "accepted", gettext_lazy("已采纳")
    REJECTED = "rejected", gettext_lazy("不采纳")


class CivilSuggestion(models.Model):
    """A difference between the file and civil affairs' answer, and what a
    caseworker decided about it (who, when, why). Accepted ones changed the
    household through the cases services."""

    batch = models.ForeignKey(CivilBatch, on_delete=models.CASCADE, related_name="suggestions")
    line = models.ForeignKey(CivilLine, on_delete=models.CASCADE, related_name="suggestions")
    household = models.ForeignKey(
        "cases.Household",
        verbose_name=gettext_lazy("家庭"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(gettext_lazy("建议"), max_length=10, choices=SuggestionKind.choices)
    member = models.ForeignKey(
        "cases.Member",
        verbose_name=gettext_lazy("家庭成员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tier_from = models.ForeignKey(
        "cases.Tier",
        verbose_name=gettext_lazy("原困难类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tier_to = models.ForeignKey(
        "cases.Tier",
        verbose_name=gettext_lazy("建议困难类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    file_income = models.DecimalField(
        gettext_lazy("档案收入（元/月）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    checked_income = models.DecimalField(
        gettext_lazy("核对收入（元/月）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        gettext_lazy("处理结果"),
        max_length=10,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.PENDING,
    )
    reason = models.TextField(gettext_lazy("理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(gettext_lazy("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("比对建议")
        verbose_name_plural = gettext_lazy("比对建议")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["batch", "status", "id"], name="civil_suggestion_batch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.pk} {self.kind}"
