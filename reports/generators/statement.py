"""资金收支明细 (fund statement): the opening balance, every ledger entry of
the period in the order it happened (by value date), the period's summary
(receipts by source with their counts, payments by program, transfers,
reversals) and the closing balance.

Every figure but the running balance comes from funds.selectors.
fund_period_summary, the one computation the fund page shows too: in and out
are the sums of the summary's lines of each direction (a reversal counts in
the direction it moves money), the opening balance is the sum of every entry
before the period, and opening + in − out = closing holds by construction and
is stated on paper.
"""

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from accounts.i18n import pick_name
from accounts.masking import mask_name
from accounts.models import User
from accounts.scoping import Unmasker
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
    period_text,
    register,
)
from .options import PeriodOptions
from .payments import CHUNK

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
    "source__name",
    "payer",
    "reverses_id",
    "counterpart__fund__name",
    "target_fund",
    "direction",
    "amount",
    "source__name_en",
)


def statement_columns() -> list[Column]:
    return [
        Column("date", _("日期"), DATE, 11),
        Column("entry", _("分录号"), ID, 8),
        Column("kind", _("类型"), width=9),
        Column("memo", _("摘要"), width=30),
        Column("party", _("对方（来源·缴款方/受助家庭/资金）"), width=24),
        Column("campaign", _("募捐活动"), width=16),
        Column("receipt", _("票据号"), ID, 12),
        Column("in", _("收入"), MONEY, 12),
        Column("out", _("支出"), MONEY, 12),
        Column("balance", _("余额"), MONEY, 13),
    ]


def summary_lines(summary: fund_selectors.PeriodSummary) -> list[Line]:
    """The period summary as lines under the table, in the in/out columns:
    the in lines add up to the period's income and the out lines to its
    spending, so they reconcile with 本期合计 above them."""
    lines = []
    groups = {
        "receipt": _("收入·%(l)s（%(n)s 笔）"),
        "payment": _("支出·%(l)s（%(n)s 笔）"),
        "transfer": _("%(l)s（%(n)s 笔）"),
        "reversal": _("%(l)s（%(n)s 笔）"),
    }
    for line in summary.lines:
        label = groups[line.group] % {"l": line.label, "n": line.count}
        lines.append(Line(label, {"in" if line.direction > 0 else "out": line.amount}))
    return lines


def fund_statement(
    fund: Fund, date_from: Any, date_to: Any, unmask: Unmasker
) -> tuple[Table, dict[str, Decimal], fund_selectors.PeriodSummary]:
    """The one selector of the statement: rows in the order they happened,
    with the running balance, and the four figures that must reconcile."""
    summary = fund_selectors.fund_period_summary(fund, date_from, date_to)
    opening, total_in, total_out = summary.opening, summary.total_in, summary.total_out
    closing = summary.closing
    period = LedgerEntry.objects.filter(fund=fund)
    if date_from:
        period = period.filter(occurred_on__gte=date_from)
    if date_to:
        period = period.filter(occurred_on__lte=date_to)
    # A transfer out names the fund the money went to through the other
    # leg, which points back at it.
    target = LedgerEntry.objects.filter(counterpart_id=OuterRef("pk")).values("fund__name")[:1]
    qs = period.annotate(target_fund=Subquery(target)).order_by("occurred_on", "pk")
    kinds = {value: str(label) for value, label in EntryKind.choices}

    def rows() -> Iterator[Row]:
        balance = opening
        values = qs.values_list(*FIELDS).iterator(chunk_size=CHUNK)
        for (
            on, pk, kind, memo, name, path, donor, campaign, receipt, income, payer, reverses,
            source, dest, direction, amount, income_en,
        ) in values:  # fmt: skip
            income = pick_name(income, income_en) if income else income
            party = donor or payer or source or dest or ""
            if income:
                # A receipt names its source and who paid it.
                party = _("%(s)s·%(p)s") % {"s": income, "p": party} if party else income
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
        count=sum(line.count for line in summary.lines),
        totals={"in": total_in, "out": total_out},
        sheet=_("资金收支明细"),
        total_label=_("本期合计"),
        before=[Line(_("期初余额"), {"balance": opening})],
        after=[*summary_lines(summary), Line(_("期末余额"), {"balance": closing})],
        capitals=[
            (_("本期收入合计"), total_in),
            (_("本期支出合计"), total_out),
            (_("期末余额"), closing),
        ],
    )
    figures = {"opening": opening, "in": total_in, "out": total_out, "closing": closing}
    return table, figures, summary


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
        table, figures, summary = fund_statement(target, date_from, date_to, Unmasker(user))
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
                "summary": summary,
            },
            facts=[
                (_("资金"), fund),
                (_("所属工会"), target.unit.name),
                (
                    _("资金来源"),
                    "、".join(f"{x.label} {x.amount:,.2f}" for x in summary.receipts) or "—",
                ),
                (_("期间"), period),
            ],
            obj=target,
            unit=target.unit,
        )
