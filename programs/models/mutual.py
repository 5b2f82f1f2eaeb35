"""Mutual-aid cooperatives (互助补充保险合作社, 医疗互助会): ordinary union
members (a roster of their own, most without a household file) pay premiums
into the cooperative's fund; a member's claim is decided by a committee vote
and, once approved, paid by finance straight from that fund (services/mutual.py)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.append_only import append_only
from accounts.chain import Chained, inserted_now
from accounts.i18n import EnglishNamed, name_en_field
from accounts.models import Unit
from accounts.money import money_field
from cases.models import Household
from funds.models import Fund, LedgerEntry

from .aid import Application
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
    first_premium = money_field(_("首次缴费（元）"))
    yearly_premium = money_field(_("年度缴费（元）"))
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
    """One union member on a cooperative's roster. Most members are not in
    hardship and have no household file; one who has is linked to it."""

    cooperative = models.ForeignKey(
        Cooperative, verbose_name=_("合作社"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("身份证号"), max_length=18)
    # The member's own union: it decides who sees and serves the member.
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="coop_members"
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    household = models.ForeignKey(
        Household,
        verbose_name=_("困难职工档案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coop_memberships",
    )
    joined_on = models.DateField(_("入会日期"))
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
            models.UniqueConstraint(
                fields=["cooperative", "id_number"], name="coop_member_id_once"
            ),
        ]
        indexes = [models.Index(fields=["cooperative", "name"], name="coop_member_name")]

    def __str__(self) -> str:
        return f"{self.cooperative} · {self.name}"


class PremiumKind(models.TextChoices):
    FIRST = "first", _("首次缴费")
    YEARLY = "yearly", _("年度缴费")


class Premium(models.Model):
    member = models.ForeignKey(
        CoopMember, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="premiums"
    )
    kind = models.CharField(_("缴费类型"), max_length=8, choices=PremiumKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    amount = money_field(_("金额（元）"))
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


class ClaimCategory(EnglishNamed, models.Model):
    """互助类别, edited in the admin (seeded: 子女入学, 疾病医疗, 婚丧嫁娶, 其他).
    `code` is what code and imports refer to; a category in use is retired
    with `is_active`, never deleted."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    name_en = name_en_field(100)
    code = models.SlugField(_("代码"), max_length=32, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("互助类别")
        verbose_name_plural = _("互助类别")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_name


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("待委员会表决")
    APPROVED = "approved", _("已通过，待发放")
    REJECTED = "rejected", _("未通过")
    PAID = "paid", _("已发放")


class Claim(models.Model):
    member = models.ForeignKey(
        CoopMember, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="claims"
    )
    category = models.ForeignKey(
        ClaimCategory, verbose_name=_("互助类别"), on_delete=models.PROTECT, related_name="claims"
    )
    amount = money_field(_("申请金额（元）"))
    reason = models.TextField(_("申请事由"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    # Claims approved before members had a roster of their own became aid
    # applications of the household and were paid as such; new claims leave
    # this empty and are paid from the fund directly (`entry`).
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
    # The payment out of the cooperative's fund. When that entry is reversed
    # (a correction on the fund page) the claim counts as unpaid again and
    # may be paid anew, which replaces the entry here.
    entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("支出分录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coop_claim",
    )
    paid_on = models.DateField(_("发放日期"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发放人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("互助申请")
        verbose_name_plural = _("互助申请")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="claim_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.category} {self.amount}"


class ClaimVote(Chained):
    """One committee member's vote on a claim. Chained (accounts/chain.py)."""

    claim = models.ForeignKey(
        Claim, verbose_name=_("互助申请"), on_delete=models.CASCADE, related_name="votes"
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("委员"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    approve = models.BooleanField(_("同意"))
    note = models.CharField(_("意见"), max_length=300, blank=True)
    voted_at = models.DateTimeField(_("表决时间"), default=inserted_now, editable=False)

    class Meta:
        verbose_name = _("委员会表决")
        verbose_name_plural = _("委员会表决")
        ordering = ["voted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "voter"], name="claim_one_vote_each"),
        ]
        triggers = [append_only("claim_vote_append_only")]

    def __str__(self) -> str:
        return f"{self.voter} {'✓' if self.approve else '✗'}"
