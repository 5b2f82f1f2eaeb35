"""回访核实: did the money reach the family?

After each payment batch, and once a month for the payments made one by
one, a random share of the paid households is drawn (the seed is kept, so
anyone can draw the same lines again). A verifier who had no hand in the
payment calls or visits each drawn household and records what it says;
anything but "received in full" opens a case (回访问题) for the chair of
the union above the household's own.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit
from accounts.money import money_field
from cases.models import Household

from .aid import AidPayment, PaymentBatch

DEFAULT_SHARE_PERCENT = 10


class VerificationRules(models.Model):
    """A union's verification share. A union without a row follows its
    nearest ancestor's, and DEFAULT_SHARE_PERCENT above all (the same
    inheritance as funds.FinanceRules)."""

    unit = models.OneToOneField(
        Unit,
        verbose_name=_("工会"),
        on_delete=models.CASCADE,
        related_name="verification_rules",
    )
    share_percent = models.PositiveSmallIntegerField(
        _("回访抽查比例（%）"),
        default=DEFAULT_SHARE_PERCENT,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设置人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("设置时间"), auto_now=True)

    class Meta:
        verbose_name = _("回访规则")
        verbose_name_plural = _("回访规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(share_percent__gte=1) & Q(share_percent__lte=100),
                name="verification_share_1_to_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.share_percent}%"


class SampleKind(models.TextChoices):
    BATCH = "batch", _("发放批次抽样")
    MONTH = "month", _("单笔发放月度抽样")


class VerificationSample(models.Model):
    """One draw: which payments could be drawn (`population`, payment ids in
    ascending order), the seed, and how many were drawn. The lines are the
    drawn payments; `done` and `problems` count them as they are verified,
    so a list of samples shows its progress without counting lines."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("工会"), on_delete=models.PROTECT, related_name="verification_samples"
    )
    kind = models.CharField(_("抽样类型"), max_length=8, choices=SampleKind.choices)
    payment_batch = models.OneToOneField(
        PaymentBatch,
        verbose_name=_("发放批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verification_sample",
    )
    # 单笔发放: the first day of the month whose payments were drawn from.
    month = models.DateField(_("抽样月份"), null=True, blank=True)
    seed = models.CharField(_("随机种子"), max_length=32)
    share_percent = models.PositiveSmallIntegerField(_("抽查比例（%）"))
    population = models.JSONField(_("可抽发放"), default=list)
    size = models.PositiveIntegerField(_("抽查户数"))
    done = models.PositiveIntegerField(_("已核实"), default=0)
    problems = models.PositiveIntegerField(_("问题户数"), default=0)
    drawn_on = models.DateField(_("抽样日期"))
    drawn_at = models.DateTimeField(_("抽样时间"), auto_now_add=True)
    # None when the monthly command drew it.
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("抽样人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("回访抽样")
        verbose_name_plural = _("回访抽样")
        ordering = ["-drawn_on", "-id"]
        indexes = [
            models.Index(fields=["-drawn_on", "-id"], name="verification_sample_recent"),
            models.Index(fields=["unit", "-drawn_on"], name="verification_sample_unit"),
        ]
        constraints = [
            # One monthly draw per union and month: the command and the
            # chair's button may both run, the second finds the first.
            models.UniqueConstraint(
                fields=["unit", "month"],
                condition=Q(kind="month"),
                name="verification_one_draw_per_month",
            ),
            models.CheckConstraint(
                condition=(Q(kind="batch") & Q(payment_batch__isnull=False) & Q(month__isnull=True))
                | (Q(kind="month") & Q(payment_batch__isnull=True) & Q(month__isnull=False)),
                name="verification_sample_kind_source",
            ),
            models.CheckConstraint(
                condition=Q(done__lte=models.F("size")), name="verification_done_within_size"
            ),
        ]

    def __str__(self) -> str:
        if self.kind == SampleKind.MONTH and self.month:
            return _("%(u)s %(m)s 单笔发放回访") % {"u": self.unit, "m": f"{self.month:%Y-%m}"}
        return _("%(u)s 发放批次回访（%(d)s）") % {"u": self.unit, "d": self.drawn_on}


class Outcome(models.TextChoices):
    FULL = "full", _("全额收到")
    PARTIAL = "partial", _("部分收到")
    NONE = "none", _("未收到")
    UNREACHABLE = "unreachable", _("联系不上")


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    VISIT = "visit", _("入户")


class VerificationLine(models.Model):
    """One drawn payment: who took it to verify, and what the household said."""

    sample = models.ForeignKey(
        VerificationSample, verbose_name=_("抽样"), on_delete=models.PROTECT, related_name="lines"
    )
    payment = models.ForeignKey(
        AidPayment,
        verbose_name=_("发放记录"),
        on_delete=models.PROTECT,
        related_name="verification_lines",
    )
    # The payment's household, kept here so the lines are scoped by its union
    # without joining payments and applications.
    household = models.ForeignKey(
        Household,
        verbose_name=_("家庭"),
        on_delete=models.PROTECT,
        related_name="verification_lines",
    )
    position = models.PositiveIntegerField(_("序号"))
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    taken_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    outcome = models.CharField(_("核实结果"), max_length=12, choices=Outcome.choices, blank=True)
    amount_received = money_field(_("实收金额（元）"), null=True, blank=True)
    channel = models.CharField(_("核实方式"), max_length=8, choices=Channel.choices, blank=True)
    note = models.CharField(_("情况说明"), max_length=500, blank=True)
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访核实")
        verbose_name_plural = _("回访核实")
        ordering = ["sample", "position"]
        indexes = [
            models.Index(fields=["household", "-id"], name="verification_line_household"),
            # 待回访: the lines nobody has verified yet, page by page.
            models.Index(fields=["-id"], name="verification_line_open", condition=Q(outcome="")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "payment"], name="verification_line_one_per_payment"
            ),
            models.UniqueConstraint(
                fields=["sample", "position"], name="verification_line_position"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="partial")
                | (Q(amount_received__isnull=False) & Q(amount_received__gt=Decimal("0"))),
                name="verification_partial_has_amount",
            ),
            models.CheckConstraint(
                condition=Q(outcome="") | (~Q(channel="") & Q(verifier__isnull=False)),
                name="verification_recorded_has_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sample_id}#{self.position}"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    CLOSED = "closed", _("已办结")


class VerificationCase(models.Model):
    """回访问题: a household that did not confirm receiving its money in
    full, for the chair of the union above the household's (the root
    union's own chair when there is none above)."""

    line = models.OneToOneField(
        VerificationLine,
        verbose_name=_("回访核实"),
        on_delete=models.PROTECT,
        related_name="case",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("处理工会"),
        on_delete=models.PROTECT,
        related_name="verification_cases",
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    opened_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    resolution = models.TextField(_("处理结果"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访问题")
        verbose_name_plural = _("回访问题")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-opened_at", "-id"], name="verification_case_status"),
            models.Index(fields=["unit", "status"], name="verification_case_unit"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (~Q(resolution="") & Q(resolved_by__isnull=False)),
                name="verification_case_closed_resolved",
            ),
        ]

    def __str__(self) -> str:
        return _("回访问题 %(n)s") % {"n": self.pk}
