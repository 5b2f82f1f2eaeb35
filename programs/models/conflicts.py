"""回避: a record that a user met a household they conflict with while
drafting, approving, paying or verifying its aid (programs.services.conflicts)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit

from .aid import Application
from .mutual import Claim


class ConflictStep(models.TextChoices):
    DRAFT = "draft", _("起草")
    APPROVE = "approve", _("审批")
    PAY = "pay", _("发放")
    VERIFY = "verify", _("回访核实")


# The steps a conflict refuses; drafting is only flagged (the chair decides).
REFUSED_STEPS = frozenset({ConflictStep.APPROVE, ConflictStep.PAY, ConflictStep.VERIFY})


class ConflictFlag(models.Model):
    """One user, one application (or mutual-aid claim), one step: the first
    time they met it and why. Kept however the step ended, refused or not."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("帮扶申请"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflict_flags",
    )
    claim = models.ForeignKey(
        Claim,
        verbose_name=_("互助申请"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conflict_flags",
    )
    # The household's (or member's) union, for the auditors' report by union.
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回避人员"),
        on_delete=models.PROTECT,
        related_name="conflict_flags",
    )
    step = models.CharField(_("环节"), max_length=12, choices=ConflictStep.choices)
    # Codes of cases.kin (self_id, relative_id:<relation>, phone, address):
    # never a number, never a relative's name.
    reasons = models.JSONField(_("回避原因"), default=list)
    refused = models.BooleanField(_("已拒绝办理"), default=False)
    created_at = models.DateTimeField(_("标记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("回避标记")
        verbose_name_plural = _("回避标记")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="conflict_flag_time_idx"),
            models.Index(fields=["unit", "-created_at"], name="conflict_flag_unit_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(application__isnull=False, claim__isnull=True)
                | Q(application__isnull=True, claim__isnull=False),
                name="conflict_flag_one_subject",
            ),
            models.UniqueConstraint(
                fields=["application", "user", "step"],
                condition=Q(application__isnull=False),
                name="conflict_flag_once_per_application",
            ),
            models.UniqueConstraint(
                fields=["claim", "user", "step"],
                condition=Q(claim__isnull=False),
                name="conflict_flag_once_per_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_step_display()}"
