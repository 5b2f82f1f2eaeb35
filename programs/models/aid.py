"""Applications for aid, their approvals, campaign batches and payments."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.append_only import append_only
from accounts.chain import Chained, inserted_now
from accounts.models import Unit
from accounts.money import ZERO, money_field
from cases.models import Household, Member
from cases.models.household import private_storage
from funds.models import Fund, LedgerEntry

from .config import Program


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")  # a batch line not yet submitted
    PENDING = "pending", _("待审批")
    PENDING_PARENT = "pending_parent", _("待上级审批")
    # 退回修改: a chair sent it back to its drafter, who amends and resubmits.
    RETURNED = "returned", _("退回修改")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")
    PAID = "paid", _("已发放")
    WITHDRAWN = "withdrawn", _("已撤回")


# Statuses whose amount counts against a household's yearly caps.
COUNTED = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.PENDING,
    ApplicationStatus.PENDING_PARENT,
    ApplicationStatus.RETURNED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.PAID,
)


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交审批")
    DECIDED = "decided", _("已审批")


class Batch(models.Model):
    """A campaign (送温暖, 金秋助学): many applications drafted and decided
    together. Each line is an ordinary application in the batch."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("发起工会"), on_delete=models.PROTECT, related_name="aid_batches"
    )
    program = models.ForeignKey(
        Program, verbose_name=_("帮扶项目"), on_delete=models.PROTECT, related_name="batches"
    )
    title = models.CharField(_("批次名称"), max_length=100)
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    # The filter the lines were drawn with, kept to show how the list was made.
    criteria = models.JSONField(_("筛选条件"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("拟稿人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("帮扶批次")
        verbose_name_plural = _("帮扶批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Application(models.Model):
    program = models.ForeignKey(
        Program, verbose_name=_("帮扶项目"), on_delete=models.PROTECT, related_name="applications"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.PROTECT, related_name="applications"
    )
    batch = models.ForeignKey(
        Batch,
        verbose_name=_("批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ApplicationStatus.choices,
        default=ApplicationStatus.PENDING,
    )  # fmt: skip
    standard_amount = money_field(_("补助标准（元）"), null=True, blank=True)
    # The whole handout, cash and goods together; `goods_value` is the part
    # given as goods (valued at their price), so the cash part is the rest.
    amount = money_field(_("申请金额（元）"))
    goods_description = models.CharField(_("实物内容"), max_length=200, blank=True)
    goods_value = money_field(_("实物折价（元）"), default=ZERO)
    amount_reason = models.CharField(_("金额调整理由"), max_length=300, blank=True)
    reason = models.TextField(_("申请事由"), blank=True)
    # 医疗救助: the out-of-pocket cost the aid may not exceed.
    out_of_pocket = money_field(_("个人自付医疗费用（元）"), null=True, blank=True)
    # 金秋助学: the student and the months of support.
    student = models.ForeignKey(
        Member,
        verbose_name=_("受助学生"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="school_aid",
    )
    months = models.PositiveSmallIntegerField(_("资助月数"), null=True, blank=True)
    # Set when submitted: the amount is above the unit's approval limit.
    needs_parent = models.BooleanField(_("需上级工会审批"), default=False)
    # Counts submissions: a resubmission after 退回修改 starts the approval
    # afresh, and each decision belongs to one round.
    submission = models.PositiveSmallIntegerField(_("提交轮次"), default=1)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    drafted_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    # 发放记录迁移: aid paid before the union moved in, brought in from its
    # books (which upload), not decided in the product.
    migrated_from = models.CharField(_("迁移来源"), max_length=200, blank=True)
    # Chosen by an API client when it first sends the application: sent
    # again after a lost answer, it finds the application it already made.
    client_key = models.UUIDField(_("客户端标识"), null=True, blank=True)

    class Meta:
        verbose_name = _("帮扶申请")
        verbose_name_plural = _("帮扶申请")
        ordering = ["-drafted_at", "-id"]
        indexes = [
            models.Index(fields=["household", "year"], name="application_household_year"),
            models.Index(fields=["program", "year"], name="application_program_year"),
            models.Index(fields=["status", "drafted_at"], name="application_status_idx"),
            # 待我审批 newest first, page by page (keyset on drafted_at, id).
            models.Index(
                fields=["-drafted_at", "-id"],
                name="application_awaiting_idx",
                condition=Q(status__in=["pending", "pending_parent"]),
            ),
            # 待发放 oldest application first (keyset on id): the whole queue,
            # one program's…
            models.Index(
                fields=["id"],
                name="application_payable_idx",
                condition=Q(status="approved"),
                # The queue's count and sum (up to the cap) read the index
                # alone, without visiting 10,000 rows of the table.
                include=["program", "amount"],
            ),
            models.Index(
                fields=["program", "id"],
                name="application_payable_prog_idx",
                condition=Q(status="approved"),
            ),
            # …and one union's: its households' payable applications.
            models.Index(
                fields=["household"],
                name="application_payable_house_idx",
                condition=Q(status="approved"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=Decimal("0")), name="application_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(goods_value__gte=Decimal("0")) & Q(goods_value__lte=models.F("amount")),
                name="application_goods_within_amount",
            ),
            models.UniqueConstraint(
                fields=["batch", "household"],
                condition=Q(batch__isnull=False),
                name="batch_one_line_per_household",
            ),
            models.UniqueConstraint(
                fields=["drafted_by", "client_key"], name="application_client_key_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household.name} · {self.program.name} · {self.amount}"


class DecisionLevel(models.TextChoices):
    UNIT = "unit", _("本级工会")
    PARENT = "parent", _("上级工会")


class Decision(Chained):
    """One chair's approval or rejection, kept as the approval trail. Chained
    (accounts/chain.py)."""

    application = models.ForeignKey(
        Application, verbose_name=_("申请"), on_delete=models.CASCADE, related_name="decisions"
    )
    level = models.CharField(_("审批层级"), max_length=8, choices=DecisionLevel.choices)
    submission = models.PositiveSmallIntegerField(_("提交轮次"), default=1)
    approved = models.BooleanField(_("同意"))
    note = models.CharField(_("审批意见"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("审批时间"), default=inserted_now, editable=False)

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["decided_at", "id"]
        constraints = [
            # Two chairs clicking at once cannot both decide one level.
            models.UniqueConstraint(
                fields=["application", "submission", "level"], name="decision_one_per_level"
            ),
        ]
        triggers = [append_only("decision_append_only")]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {'✓' if self.approved else '✗'}"


class ApplicationStatusChange(Chained):
    """One step of an application's life: who, when, from, to and why.
    Chained (accounts/chain.py)."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("申请"),
        on_delete=models.PROTECT,
        related_name="status_changes",
    )
    from_status = models.CharField(
        _("原状态"), max_length=16, choices=ApplicationStatus.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=16, choices=ApplicationStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("时间"))
    reason = models.TextField(_("原因"), blank=True)

    class Meta:
        verbose_name = _("申请状态变更")
        verbose_name_plural = _("申请状态变更")
        ordering = ["at", "id"]
        triggers = [append_only("application_status_append_only")]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_status} → {self.to_status}"


class PaymentMethod(models.TextChoices):
    BANK = "bank", _("银行转账")
    CASH = "cash", _("现金（签收）")
    GOODS = "goods", _("实物（签收）")


class PaymentBatch(models.Model):
    """Payments made together from one fund: the bank file, or one signed
    sheet for a cash or goods hand-out."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("资金"), on_delete=models.PROTECT, related_name="payment_batches"
    )
    method = models.CharField(_("发放方式"), max_length=8, choices=PaymentMethod.choices)
    title = models.CharField(_("名称"), max_length=100)
    signed_sheet = models.FileField(
        _("签收单"), storage=private_storage, upload_to="signed/", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("发放批次")
        verbose_name_plural = _("发放批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class AidPayment(models.Model):
    """An application paid out: the ledger entry, the method, and where the
    money went. A reversal leaves the row and marks it; only one live (not
    reversed) payment may exist per application."""

    application = models.ForeignKey(
        Application, verbose_name=_("申请"), on_delete=models.PROTECT, related_name="payments"
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("资金"), on_delete=models.PROTECT, related_name="aid_payments"
    )
    entry = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("支出分录"),
        on_delete=models.PROTECT,
        related_name="aid_payment",
    )
    batch = models.ForeignKey(
        PaymentBatch,
        verbose_name=_("发放批次"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    method = models.CharField(_("发放方式"), max_length=8, choices=PaymentMethod.choices)
    amount = money_field(_("金额（元）"))
    goods_description = models.CharField(_("实物内容"), max_length=200, blank=True)
    goods_value = money_field(_("实物折价（元）"), default=ZERO)
    # The day the money reached the card or the cash and goods were handed
    # over (the ledger entry's value date), not the day it was typed in.
    paid_on = models.DateField(_("发放日期"))
    # Where a bank transfer went, as it stood at payment time.
    account_name = models.CharField(_("户名"), max_length=50, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=50, blank=True)
    bank_account = models.CharField(_("银行账号"), max_length=32, blank=True)
    signed_sheet = models.FileField(
        _("签收单"), storage=private_storage, upload_to="signed/", blank=True
    )
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发放人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    reversal = models.OneToOneField(
        LedgerEntry,
        verbose_name=_("冲正分录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_aid_payment",
    )
    reversal_reason = models.CharField(_("冲正理由"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("帮扶发放")
        verbose_name_plural = _("帮扶发放")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(reversal__isnull=True),
                name="one_live_payment_per_application",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=Decimal("0")), name="aid_payment_positive"
            ),
            models.CheckConstraint(
                condition=Q(goods_value__gte=Decimal("0")) & Q(goods_value__lte=models.F("amount")),
                name="aid_payment_goods_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} · {self.amount}"
