"""Funds and their append-only ledger.

A fund's balance is the sum of its ledger entries, kept added up by day in
LedgerDay (funds/summary.py) in the same transaction as each entry. An
entry is never updated or deleted; a mistake is corrected by a reversing
entry that points at the entry it corrects (and on PostgreSQL a trigger
refuses UPDATE and DELETE outright: accounts/append_only.py).
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.append_only import append_only
from accounts.chain import Chained, ChainedQuerySet, inserted_now
from accounts.i18n import EnglishNamed, name_en_field
from accounts.models import Unit
from accounts.money import money_field
from cases.models import Household


class IncomeSource(EnglishNamed, models.Model):
    """资金来源: an admin-edited list every receipt names (行政划拨, 上级拨款,
    捐款, 互助会费, …). `code` marks the built-in sources the product itself
    posts to (a cooperative's premiums go to the source coded "premium")."""

    name = models.CharField(_("名称"), max_length=30, unique=True)
    name_en = name_en_field()
    code = models.CharField(_("代码"), max_length=30, null=True, blank=True, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("资金来源")
        verbose_name_plural = _("资金来源")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_name


# The built-in sources the product posts to itself (codes seeded by
# migration 0005): a cooperative's premiums, and receipts no one has named.
PREMIUM_SOURCE = "premium"
OTHER_SOURCE = "other"
# The default list (seeded by migration 0005), by code: a built-in source the
# product posts to is put back with its default name if the table lost it.
BUILTIN_SOURCES = {
    "admin_allocation": "行政划拨",
    "higher_grant": "上级拨款",
    "donation": "捐款",
    "premium": "互助会费",
    "civil_affairs": "民政资金",
    "enterprise": "企业注资",
    "economic_entity": "经济实体",
    "individual": "个人捐助",
    "other": "其他",
}


class PayerKind(models.TextChoices):
    UNIT = "unit", _("单位")
    PERSON = "person", _("个人")


class Restriction(models.TextChoices):
    NONE = "none", _("不限定")
    PURPOSE = "purpose", _("限定用途")
    PROGRAM = "program", _("限定项目")
    HOUSEHOLD = "household", _("限定受助家庭")


class Fund(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="funds"
    )
    name = models.CharField(_("资金名称"), max_length=100)
    year = models.PositiveSmallIntegerField(_("年度"))
    restriction = models.CharField(
        _("使用限定"), max_length=16, choices=Restriction.choices, default=Restriction.NONE
    )
    restricted_purpose = models.CharField(_("限定用途"), max_length=200, blank=True)
    restricted_household = models.ForeignKey(
        Household,
        verbose_name=_("限定受助家庭"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restricted_funds",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("资金")
        verbose_name_plural = _("资金")
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year", "name"], name="fund_unique_name"),
            models.CheckConstraint(
                condition=~Q(restriction="household") | Q(restricted_household__isnull=False),
                name="fund_household_restriction_names_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.year}）"


class EntryKind(models.TextChoices):
    RECEIPT = "receipt", _("收入")
    DONATION = "donation", _("捐款收入")
    PAYMENT = "payment", _("支出")
    TRANSFER_IN = "transfer_in", _("调入")
    TRANSFER_OUT = "transfer_out", _("调出")
    REVERSAL = "reversal", _("冲正")


class LedgerEntryQuerySet(ChainedQuerySet):
    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list["LedgerEntry"]:
        """Insert, and add the rows to the fund's day totals (LedgerDay) in
        the same transaction."""
        from .summary import count_entries

        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            count_entries(created, using=self.db)
        return created


class LedgerEntry(Chained):
    """One movement of money. `direction` is +1 (in) or -1 (out); `amount`
    is always positive, so the balance is Σ amount × direction.

    Inserting an entry (save, objects.create, objects.bulk_create) also adds
    it to its fund's day totals (LedgerDay) in the same transaction; an
    insert that goes around the ORM (COPY, accounts.bulk.bulk_insert) calls
    funds.summary.count_entries or rebuild itself."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("资金"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=EntryKind.choices)
    direction = models.SmallIntegerField(_("方向"))
    amount = money_field(_("金额（元）"))
    occurred_on = models.DateField(_("发生日期"))
    memo = models.CharField(_("摘要"), max_length=200)
    # What the entry corrects, for reversals; a second reversal is impossible.
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正的分录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    # The other leg of a transfer between two funds.
    counterpart = models.OneToOneField(
        "self",
        verbose_name=_("对方分录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("受助家庭"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    # Where a receipt came from (every receipt names one) and who paid it.
    source = models.ForeignKey(
        IncomeSource,
        verbose_name=_("资金来源"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    payer_kind = models.CharField(
        _("缴款方类型"), max_length=8, choices=PayerKind.choices, blank=True
    )
    payer = models.CharField(_("缴款方"), max_length=100, blank=True)
    # Why the value date lies before the day it was recorded (补录).
    date_reason = models.CharField(_("补录理由"), max_length=200, blank=True)
    donor = models.CharField(_("捐赠人"), max_length=100, blank=True)
    campaign = models.CharField(_("募捐活动"), max_length=100, blank=True)
    receipt_number = models.CharField(_("票据号"), max_length=50, blank=True)
    # An idempotency key: a repeated submit finds the first entry instead of
    # writing a second one.
    reference = models.CharField(_("业务编号"), max_length=64, null=True, blank=True, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记账时间"), default=inserted_now, editable=False)

    objects = LedgerEntryQuerySet.as_manager()  # type: ignore[misc]  # Chained's, with day totals

    class Meta:
        verbose_name = _("资金分录")
        verbose_name_plural = _("资金分录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["fund", "occurred_on"], name="ledger_fund_date_idx"),
            # A balance is summed from every entry of the fund, under the fund
            # lock, before each payment: with the amount in the index the sum
            # reads the index alone, not the wide rows (bench/money.py).
            models.Index(fields=["fund", "direction", "amount"], name="ledger_fund_balance_idx"),
            # A fund's donations (the campaign sums on its page) and the
            # ledger filtered by kind, without reading the rest of the fund.
            models.Index(fields=["fund", "kind"], name="ledger_fund_kind_idx"),
            # Receipts by source for a fund and a period (the statement).
            models.Index(fields=["fund", "source", "occurred_on"], name="ledger_fund_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=Decimal("0")), name="ledger_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=[1, -1]), name="ledger_direction_sign"
            ),
            models.CheckConstraint(
                condition=~Q(kind="reversal") | Q(reverses__isnull=False),
                name="ledger_reversal_points_at_entry",
            ),
            # Every receipt names where the money came from.
            models.CheckConstraint(
                condition=~Q(kind__in=["receipt", "donation"]) | Q(source__isnull=False),
                name="ledger_receipt_names_source",
            ),
        ]
        # Replaces the hand-written trigger of migration 0002.
        triggers = [append_only("ledger_append_only")]

    def __str__(self) -> str:
        sign = "+" if self.direction > 0 else "−"
        return f"{self.fund} {sign}{self.amount} {self.memo}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            super().save(*args, **kwargs)
            return
        from .summary import count_entries

        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)
            count_entries([self], using=using)


class LedgerDay(models.Model):
    """A fund's ledger added up by value date (the entries' `occurred_on`),
    by summary line and by direction: how many entries and how much. Kept in
    step with LedgerEntry in the same transaction as each insert, so the
    fund page, the balances and the period summary add up days, not entries
    (funds/summary.py; `manage.py ledger_summary_rebuild` recounts it).

    `line` is the period summary's grouping: "source:<id>" for receipts
    and donations, "program:<id>" for an aid payment, "payment" for any
    other payment, "transfer_in", "transfer_out", and "reversal:<kind>"
    for a reversal of an entry of that kind. `source` and `program_id`
    repeat the id in the line, for the labels."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="ledger_days")
    day = models.DateField(_("发生日期"))
    line = models.CharField(_("汇总行"), max_length=40)
    direction = models.SmallIntegerField(_("方向"))
    source = models.ForeignKey(
        IncomeSource, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # programs.Program's id; no foreign key, so funds depends on nothing of programs.
    program_id = models.IntegerField(null=True, blank=True)
    entries = models.PositiveIntegerField(_("笔数"), default=0)
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("资金日汇总")
        verbose_name_plural = _("资金日汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "day", "line", "direction"], name="ledger_day_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.day} {self.line} {self.direction} {self.amount}"


class FinanceRules(models.Model):
    """A union's money rules. A union without a row follows its nearest
    ancestor's, and the defaults above all."""

    unit = models.OneToOneField(
        Unit, verbose_name=_("工会"), on_delete=models.CASCADE, related_name="finance_rules"
    )
    # Finance may record a payment or receipt up to this many days in the
    # past, with a reason; older dates only through the history import.
    backdate_days = models.PositiveSmallIntegerField(_("可补录天数"), default=60)

    class Meta:
        verbose_name = _("财务规则")
        verbose_name_plural = _("财务规则")

    def __str__(self) -> str:
        return f"{self.unit} · {self.backdate_days}"
