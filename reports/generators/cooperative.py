"""互助金发放统计 (a mutual-aid cooperative's claims by category): for a
period, by the day each claim was paid, the person-times (人次), persons and
amount of every claim category, with the cooperative's premiums per year.

The figures come from the one selector the cooperative page reads
(programs.selectors.mutual.claims_by_category), so the page, the PDF and the
workbook show the same totals. No personal data is printed: only counts and
amounts per category.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from accounts.money import ZERO, yuan
from programs.models import Cooperative
from programs.selectors import mutual as coop_selectors

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


def category_columns() -> list[Column]:
    return [
        Column("category", _("互助类别"), TEXT, 20),
        Column("times", _("人次"), INT, 10),
        Column("persons", _("人数"), INT, 10),
        Column("amount", _("金额（元）"), MONEY, 16),
    ]


def coop_claims_table(
    user: User, coop: Cooperative, date_from: Any, date_to: Any
) -> tuple[Table, coop_selectors.CategoryFigures]:
    figures = coop_selectors.claims_by_category(user, coop, date_from, date_to)

    def rows() -> Iterator[Row]:
        for row in figures.rows:
            yield (row.category.display_name, row.times, row.persons, yuan(row.amount))

    table = Table(
        columns=category_columns(),
        rows=rows,
        count=len(figures.rows),
        totals={
            "times": figures.times,  # type: ignore[dict-item]
            "persons": figures.persons,  # type: ignore[dict-item]
            "amount": yuan(figures.amount),
        },
        sheet=_("互助金发放统计"),
        total_label=_("合计"),
        capitals=[(_("互助金发放合计"), yuan(figures.amount))],
        meta={"times": figures.times, "persons": figures.persons},
    )
    return table, figures


@register
class CooperativeClaims(Generator):
    name = "coop_report"
    prefix = "HZTJ"
    action = "household.view"
    formats = (PDF, XLSX)

    def target(self, user: User, pk: Any) -> Cooperative:
        return coop_selectors.get_coop_for(user, pk)

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> PeriodOptions:
        return PeriodOptions(data)

    def ready(self, data: Mapping[str, Any]) -> bool:
        # The whole history is a fair default: the page links without dates.
        return True

    def build(self, user: User, target: Cooperative, options: dict[str, Any]) -> Document:
        date_from, date_to = options.get("date_from"), options.get("date_to")
        table, figures = coop_claims_table(user, target, date_from, date_to)
        period = period_text(date_from, date_to)
        years = coop_selectors.premiums_by_year(user, target)
        premium_total = yuan(sum((y.amount for y in years), ZERO))
        return Document(
            report=self.name,
            title=_("互助金发放统计表"),
            number=self.number(f"C{target.pk}"),
            template="reports/pdf/cooperative.html",
            filename=f"cooperative-{target.pk}",
            table=table,
            context={
                "coop": target,
                "period": period,
                "premium_years": years,
                "premium_total": f"{premium_total:,.2f}",
                "figures": {
                    "times": figures.times,
                    "persons": figures.persons,
                    "amount": f"{yuan(figures.amount):,.2f}",
                },
            },
            facts=[
                (_("合作社"), target.name),
                (_("所属工会"), target.unit.name),
                (_("发放期间"), period),
                (_("人次"), str(figures.times)),
                (_("人数"), str(figures.persons)),
            ],
            obj=target,
            unit=target.unit,
        )
