"""资金收支明细 (fund statement): the opening balance, every ledger entry of
the period in the order it happened, and the closing balance.

In and out are the sums of the period's entries of each direction (a
reversal counts in the direction it moves money, as on the fund page), the
opening balance is the sum of every entry before the period, and
opening + in − out = closing holds by construction and is stated on paper.
"""

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.masking import mask_name
from accounts.models import User
from funds import selectors as fund_selectors
from funds.models import EntryKind, Fund, LedgerEntry

from .base import (
    DATE,
    ID,
    MONEY,
    PDF,
    XLSX,
    Column,
    Document,
    Generator,
    Line,
    Row,
    Table,
    Unmasker,
    money,
    period_text,
    register,
)
from .options import PeriodOptions
from .payments import AMOUNT, CHUNK, NOTHING

FIELDS = (
    "occurred_on",
    "pk",
    "kind",
    "memo",
    "household__name",
    "household__unit__path",
    "donor",
    "campaign",
    "receipt_number",
    "reverses_id",
    "counterpart__fund__name",
    "target_fund",
    "direction",
    "amount",
)


def statement_columns() -> list[Column]:
    return [
        Column("date", _("日期"), DATE, 11),
        Column("entry", _("分录号"), ID, 8),
        Column("kind", _("类型"), width=9),
        Column("memo", _("摘要"), width=30),
        Column("party", _("对方（受助家庭/捐赠人/资金）"), width=20),
        Column("campaign", _("募捐活动"), width=16),
        Column("receipt", _("票据号"), ID, 12),
        Column("in", _("收入"), MONEY, 12),
        Column("out", _("支出"), MONEY, 12),
        Column("balance", _("余额"), MONEY, 13),
    ]


def _balance(entries: QuerySet[LedgerEntry]) -> Decimal:
    total = entries.aggregate(
        total=Coalesce(Sum(F("amount") * F("direction"), output_field=AMOUNT), NOTHING)
    )["total"]
    return money(total)


def fund_statement(
    fund: Fund, date_from: Any, date_to: Any, unmask: Unmasker
) -> tuple[Table, dict[str, Decimal]]:
    """The one selector of the statement: rows in the order they happened,
    with the running balance, and the four figures that must reconcile."""
    entries = LedgerEntry.objects.filter(fund=fund)
    opening = _balance(entries.filter(occurred_on__lt=date_from)) if date_from else money(0)
    period = entries
    if date_from:
        period = period.filter(occurred_on__gte=date_from)
    if date_to:
        period = period.filter(occurred_on__lte=date_to)
    sums = period.aggregate(
        count=Count("pk"),
        total_in=Coalesce(Sum("amount", filter=Q(direction=1)), NOTHING, output_field=AMOUNT),
        total_out=Coalesce(Sum("amount", filter=Q(direction=-1)), NOTHING, output_field=AMOUNT),
    )
    total_in, total_out = money(sums["total_in"]), money(sums["total_out"])
    closing = opening + total_in - total_out
    # A transfer out names the fund the money went to through the other
    # leg, which points back at it.
    target = LedgerEntry.objects.filter(counterpart_id=OuterRef("pk")).values("fund__name")[:1]
    qs = period.annotate(target_fund=Subquery(target)).order_by("occurred_on", "pk")
    kinds = {value: str(label) for value, label in EntryKind.choices}

    def rows() -> Iterator[Row]:
        balance = opening
        values = qs.values_list(*FIELDS).iterator(chunk_size=CHUNK)
        for (
            on, pk, kind, memo, name, path, donor, campaign, receipt, reverses, source, dest,
            direction, amount,
        ) in values:  # fmt: skip
            party = donor or source or dest or ""
            if name:
                shown = unmask.name(name, path)
                if shown != name:
                    # The payment's memo names the household too.
                    memo = memo.replace(name, mask_name(name))
                party = party or shown
            if reverses:
                memo = _("%(m)s（冲正 #%(e)s）") % {"m": memo, "e": reverses}
            balance += amount * direction
            yield (
                on,
                f"#{pk}",
                kinds.get(kind, kind),
                memo,
                party,
                campaign,
                receipt,
                amount if direction > 0 else None,
                amount if direction < 0 else None,
                balance,
            )

    table = Table(
        columns=statement_columns(),
        rows=rows,
        count=sums["count"],
        totals={"in": total_in, "out": total_out},
        sheet=_("资金收支明细"),
        total_label=_("本期合计"),
        before=[Line(_("期初余额"), {"balance": opening})],
        after=[Line(_("期末余额"), {"balance": closing})],
        capitals=[
            (_("本期收入合计"), total_in),
            (_("本期支出合计"), total_out),
            (_("期末余额"), closing),
        ],
    )
    figures = {"opening": opening, "in": total_in, "out": total_out, "closing": closing}
    return table, figures


@register
class FundStatement(Generator):
    name = "fund_statement"
    prefix = "SZMX"
    action = fund_selectors.VIEW
    formats = (PDF, XLSX)

    def target(self, user: User, pk: Any) -> Fund:
        return fund_selectors.get_fund_for(user, pk)

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> PeriodOptions:
        return PeriodOptions(data)

    def build(self, user: User, target: Fund, options: dict[str, Any]) -> Document:
        date_from, date_to = options.get("date_from"), options.get("date_to")
        table, figures = fund_statement(target, date_from, date_to, Unmasker(user))
        period = period_text(date_from, date_to)
        fund = _("%(f)s（%(y)s）") % {"f": target.name, "y": target.year}
        return Document(
            report=self.name,
            title=_("资金收支明细表"),
            number=self.number(f"F{target.pk}"),
            template="reports/pdf/fund_statement.html",
            filename=f"fund-statement-{target.pk}",
            table=table,
            landscape=True,
            context={
                "fund": target,
                "fund_text": fund,
                "period": period,
                "figures": {key: f"{value:,.2f}" for key, value in figures.items()},
            },
            facts=[
                (_("资金"), fund),
                (_("所属工会"), target.unit.name),
                (_("资金来源"), str(target.get_source_display())),
                (_("期间"), period),
            ],
            obj=target,
            unit=target.unit,
        )
