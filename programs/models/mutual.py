"""Mutual-aid cooperatives (互助补充保险合作社, 医疗互助会): members pay premiums
into the cooperative's fund; a member's claim is decided by a committee vote
and, once approved, paid like any aid application."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit
from cases.models import Household
from funds.models import Fund, LedgerEntry

from .aid import Application, money
from .config import Program


class Cooperative(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="cooperatives"
    )
    name = models.CharField(_("名称"), max_length=100)
    # Premiums are received into this fund, and claims are paid from it.
    fund = models.ForeignKey(
        Fund, verbose_name=_("互助资金"), on_delete=models.PROTECT, related_name="cooperatives"
    )
    # Approved claims become applications of this program.
    program = models.ForeignKey(
        Program, verbose_name=_("互助项目"), on_delete=models.PROTECT, related_name="cooperatives"
    )
    first_premium = money(_("首次缴费（元）"))
    yearly_premium = money(_("年度缴费（元）"))
    committee = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("互助委员会成员"), related_name="committees"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("互助合作社")
        verbose_name_plural = _("互助合作社")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="cooperative_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class CoopMember(models.Model):
    cooperative = models.ForeignKey(
        Cooperative, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="members"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("会员家庭"),
        on_delete=models.PROTECT,
        related_name="coop_memberships",
    )
    joined_on = models.DateField(_("入社日期"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("互助会员")
        verbose_name_plural = _("互助会员")
        ordering = ["cooperative", "-joined_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "household"], name="coop_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.cooperative} · {self.household.name}"


class PremiumKind(models.TextChoices):
    FIRST = "first", _("首次缴费")
    YEARLY = "yearly", _("年度缴费")


class Premium(models.Model):
    member = models.ForeignKey(
        CoopMember, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="premiums"
    )
    kind = models.CharField(_("缴费类型"), max_length=8, choices=PremiumKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    amount = money(_("金额（元）"))
    entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("收入分录"), on_delete=models.PROTECT, related_name="premium"
    )
    # Set when the premium is reversed: the row stays, and its place (one
    # first premium, one yearly premium a year) is free to be paid again.
    reversal = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("冲正分录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_premium",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    paid_on = models.DateField(_("缴费日期"))

    class Meta:
        verbose_name = _("互助缴费")
        verbose_name_plural = _("互助缴费")
        ordering = ["-year", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "year"],
                condition=Q(reversal__isnull=True),
                name="premium_once_per_year",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(kind="first", reversal__isnull=True),
                name="premium_first_once",
            ),
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="premium_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.year} {self.amount}"


class ClaimCategory(models.TextChoices):
    SCHOOL = "school", _("子女入学")
    MEDICAL = "medical", _("疾病医疗")
    WEDDING_FUNERAL = "wedding_funeral", _("婚丧嫁娶")
    OTHER = "other", _("其他")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("待委员会表决")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


class Claim(models.Model):
    member = models.ForeignKey(
        CoopMember, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="claims"
    )
    category = models.CharField(_("互助类别"), max_length=16, choices=ClaimCategory.choices)
    amount = money(_("申请金额（元）"))
    reason = models.TextField(_("申请事由"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    # The aid application an approved claim becomes, paid like any other.
    application = models.OneToOneField(
        Application,
        verbose_name=_("发放申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claim",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("互助申请")
        verbose_name_plural = _("互助申请")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="claim_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_category_display()} {self.amount}"


class ClaimVote(models.Model):
    claim = models.ForeignKey(
        Claim, verbose_name=_("互助申请"), on_delete=models.CASCADE, related_name="votes"
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("委员"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    approve = models.BooleanField(_("同意"))
    note = models.CharField(_("意见"), max_length=300, blank=True)
    voted_at = models.DateTimeField(_("表决时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("委员会表决")
        verbose_name_plural = _("委员会表决")
        ordering = ["voted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "voter"], name="claim_one_vote_each"),
        ]

    def __str__(self) -> str:
        return f"{self.voter} {'✓' if self.approve else '✗'}"
