"""Complaints (投诉与意见): what a worker, or anyone with a role, says went
wrong with a household's file, a public notice, an application or a payment;
who answers it, by when, and what was decided."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.append_only import append_only
from accounts.chain import Chained
from accounts.models import Unit
from cases.models import Household, IntakeNotice

from .aid import AidPayment, Application


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    HANDLING = "handling", _("处理中")
    CLOSED = "closed", _("已办结")


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    LETTER = "letter", _("信件")
    VISIT = "visit", _("来访")
    ONLINE = "online", _("本人在系统提出")


class ComplaintCategory(models.TextChoices):
    ELIGIBILITY = "eligibility", _("帮扶对象认定")
    AMOUNT = "amount", _("补助金额")
    PAYMENT = "payment", _("资金发放")
    NOTICE = "notice", _("公示与程序")
    CONDUCT = "conduct", _("工作作风")
    OTHER = "other", _("其他")


class ComplaintDecision(models.TextChoices):
    UPHELD = "upheld", _("成立")
    PARTLY = "partly", _("部分成立")
    DISMISSED = "dismissed", _("不成立")


class Complaint(models.Model):
    """One complaint, linked to exactly one household, intake notice,
    application or payment; `unit` is that thing's union, kept on the row so
    scoping and the per-union lists never join through the link."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="complaints"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="complaints",
    )  # fmt: skip
    notice = models.ForeignKey(
        IntakeNotice, verbose_name=_("建档公示"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="complaints",
    )  # fmt: skip
    application = models.ForeignKey(
        Application, verbose_name=_("帮扶申请"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="complaints",
    )  # fmt: skip
    payment = models.ForeignKey(
        AidPayment, verbose_name=_("帮扶发放"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="complaints",
    )  # fmt: skip
    category = models.CharField(_("投诉类别"), max_length=16, choices=ComplaintCategory.choices)
    channel = models.CharField(_("投诉渠道"), max_length=8, choices=ComplaintChannel.choices)
    # Personal data: shown masked to those who see households masked.
    complainant_name = models.CharField(_("投诉人"), max_length=50, blank=True)
    complainant_phone = models.CharField(_("投诉人联系方式"), max_length=100, blank=True)
    content = models.TextField(_("投诉内容"))
    # 被投诉干部: then only the chairs of the parent union and auditors see it.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("被投诉干部"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    received_on = models.DateField(_("受理日期"))
    working_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"))
    deadline = models.DateField(_("办结期限"))
    status = models.CharField(
        _("状态"), max_length=8, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("承办人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    reply = models.TextField(_("答复意见"), blank=True)
    decision = models.CharField(
        _("办理结论"), max_length=10, choices=ComplaintDecision.choices, blank=True
    )
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The local day it was closed, compared with the deadline (on time / late).
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("办结人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        ordering = ["-id"]
        indexes = [
            # Open ones by deadline, a union's and everyone's (overdue first).
            models.Index(
                fields=["unit", "deadline", "id"],
                name="complaint_open_unit_idx",
                condition=~Q(status="closed"),
            ),
            models.Index(
                fields=["deadline", "id"],
                name="complaint_open_idx",
                condition=~Q(status="closed"),
            ),
            models.Index(fields=["owner", "status"], name="complaint_owner_idx"),
            models.Index(fields=["unit", "received_on"], name="complaint_unit_received_idx"),
            models.Index(fields=["received_on"], name="complaint_received_idx"),
        ]
        constraints = [
            # Linked to exactly one thing.
            models.CheckConstraint(
                condition=(
                    Q(
                        household__isnull=False,
                        notice__isnull=True,
                        application__isnull=True,
                        payment__isnull=True,
                    )
                    | Q(
                        household__isnull=True,
                        notice__isnull=False,
                        application__isnull=True,
                        payment__isnull=True,
                    )
                    | Q(
                        household__isnull=True,
                        notice__isnull=True,
                        application__isnull=False,
                        payment__isnull=True,
                    )
                    | Q(
                        household__isnull=True,
                        notice__isnull=True,
                        application__isnull=True,
                        payment__isnull=False,
                    )
                ),
                name="complaint_one_link",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_on__isnull=False, decision__gt="")
                | (~Q(status="closed") & Q(closed_on__isnull=True)),
                name="complaint_closed_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"

    @property
    def on_time(self) -> bool | None:
        """Closed by its deadline (None while open)."""
        if self.closed_on is None:
            return None
        return self.closed_on <= self.deadline


class ComplaintChange(Chained):
    """One step of a complaint: a status move or a change of owner; who,
    when, from, to and why. Chained like the other status histories
    (accounts/chain.py)."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("投诉"), on_delete=models.PROTECT, related_name="changes"
    )
    from_status = models.CharField(
        _("原状态"), max_length=8, choices=ComplaintStatus.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=8, choices=ComplaintStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("时间"))
    reason = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("投诉处理记录")
        verbose_name_plural = _("投诉处理记录")
        ordering = ["at", "id"]
        triggers = [append_only("complaint_change_append_only")]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_status} → {self.to_status}"
