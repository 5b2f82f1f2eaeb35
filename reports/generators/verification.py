"""回访核实情况表: for a period (by the day each sample was drawn), per union
of the households, how many paid households were drawn, verified, received
in full, in part, not at all, or could not be reached.

The rows and the totals come from the selectors the 核实率 screen reads
(programs.selectors.verification.rates_by_union and rates_total), so the
screen, the PDF and the workbook show the same figures. No personal data is
printed: only counts per union.
"""

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from programs.selectors import verification as selectors

from .base import (
    INT,
    MONEY,
    PDF,
    TEXT,
    XLSX,
    Column,
    Document,
    Generator,
    Row,
    Table,
    period_text,
    register,
)
from .options import PeriodOptions

FIGURES = ("sampled", "verified", "full", "partial", "not_received", "unreachable", "problems")


def verification_columns() -> list[Column]:
    return [
        Column("unit", _("工会"), TEXT, 24),
        Column("sampled", _("抽查户数"), INT, 10),
        Column("verified", _("已核实"), INT, 10),
        # Percent with two places: MONEY is the renderers' two-place number.
        Column("verified_percent", _("核实率（%）"), MONEY, 11),
        Column("full", _("全额收到"), INT, 10),
        Column("partial", _("部分收到"), INT, 10),
        Column("not_received", _("未收到"), INT, 10),
        Column("unreachable", _("联系不上"), INT, 10),
        Column("problems", _("问题户"), INT, 10),
    ]


def _row(rates: selectors.Rates) -> Row:
    return (
        rates.unit_name,
        rates.sampled,
        rates.verified,
        rates.verified_percent,
        rates.full,
        rates.partial,
        rates.not_received,
        rates.unreachable,
        rates.problems,
    )


def verification_table(user: User, date_from: Any, date_to: Any) -> tuple[Table, selectors.Rates]:
    lines = selectors.rated_lines(user, date_from, date_to)
    grouped = selectors.rates_by_union(lines)
    total = selectors.rates_total(lines)

    def rows() -> Iterator[Row]:
        for row in grouped.iterator():
            yield _row(selectors.rates_of(row))

    totals: dict[str, Decimal] = {key: getattr(total, key) for key in FIGURES}
    if total.verified_percent is not None:
        totals["verified_percent"] = total.verified_percent
    table = Table(
        columns=verification_columns(),
        rows=rows,
        count=grouped.count(),
        totals=totals,
        sheet=_("回访核实情况"),
        total_label=_("合计"),
        meta={"sampled": total.sampled, "problems": total.problems},
    )
    return table, total


@register
class VerificationReport(Generator):
    name = "verification_report"
    prefix = "HFHS"
    action = selectors.VIEW
    formats = (PDF, XLSX)

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> PeriodOptions:
        return PeriodOptions(data)

    def ready(self, data: Mapping[str, Any]) -> bool:
        # The whole history is a fair default: the rates page links with or
        # without dates.
        return True

    def build(self, user: User, target: Any, options: dict[str, Any]) -> Document:
        date_from, date_to = options.get("date_from"), options.get("date_to")
        table, total = verification_table(user, date_from, date_to)
        period = period_text(date_from, date_to)
        rate = "—" if total.verified_percent is None else f"{total.verified_percent}%"
        return Document(
            report=self.name,
            title=_("回访核实情况表"),
            number=self.number(f"{date_from or ''}{date_to or ''}"),
            template="reports/pdf/verification.html",
            filename="verification",
            table=table,
            context={"period": period, "total": total, "rate": rate},
            facts=[
                (_("抽样期间"), period),
                (_("抽查户数"), str(total.sampled)),
                (_("核实率"), rate),
                (_("问题户"), str(total.problems)),
            ],
        )
