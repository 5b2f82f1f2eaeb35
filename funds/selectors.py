"""Reads of funds and their ledgers, always inside the user's units.

Every money figure a page shows comes from here, added up from ledger rows
by the database: in and out are the sums of the entries of each direction
(a reversal counts in the direction it moves money), the balance is in − out.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Unit, User
from accounts.paging import paged
from accounts.scoping import get_scoped, require_action, units_for
from cases.models import Household
from cases.selectors import prefix_q

from .models import EntryKind, Fund, LedgerEntry

VIEW = "fund.view"
MANAGE = "fund.manage"
MONEY: DecimalField = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)
CENT = Decimal("0.01")


def _sum(direction: int, prefix: str = "entries__") -> Coalesce:
    return Coalesce(
        Sum(f"{prefix}amount", filter=Q(**{f"{prefix}direction": direction})),
        ZERO,
        output_field=MONEY,
    )


def _fund_sum(direction: int) -> Coalesce:
    """One fund's entries of one direction, added up by a subquery that reads
    the (fund, direction, amount) index."""
    entries = (
        LedgerEntry.objects.filter(fund=OuterRef("pk"), direction=direction)
        .order_by()
        .values("fund")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(entries, output_field=MONEY), ZERO, output_field=MONEY)


def with_totals(funds: QuerySet[Fund]) -> QuerySet[Fund]:
    """Each fund with `total_in`, `total_out` and `balance`, in the same query.

    Per fund, as subqueries rather than one join over every entry grouped by
    fund: the pager's count then needs no ledger row at all, and a page adds
    up the ledgers of its own funds only (bench/money.py)."""
    return funds.annotate(total_in=_fund_sum(1), total_out=_fund_sum(-1)).annotate(
        balance=ExpressionWrapper(F("total_in") - F("total_out"), output_field=MONEY)
    )


@dataclass
class FundFilter:
    year: int | None = None
    unit: Unit | None = None
    source: str = ""


def fund_list(user: User, flt: FundFilter) -> QuerySet[Fund]:
    require_action(user, VIEW)
    qs = Fund.objects.filter(unit__in=units_for(user, VIEW))
    if flt.unit is not None:
        qs = qs.filter(unit__path__startswith=flt.unit.path)
    if flt.year is not None:
        qs = qs.filter(year=flt.year)
    if flt.source:
        qs = qs.filter(source=flt.source)
    return with_totals(qs.select_related("unit")).order_by("-year", "unit__path", "name", "pk")


def get_fund_for(user: User, pk: Any, *, action: str = VIEW) -> Fund:
    queryset = Fund.objects.select_related("unit", "restricted_household__unit", "created_by")
    return get_scoped(user, queryset, pk, action=action)


@dataclass
class Totals:
    total_in: Decimal
    total_out: Decimal

    @property
    def balance(self) -> Decimal:
        return (self.total_in - self.total_out).quantize(CENT)


def fund_totals(fund: Fund) -> Totals:
    row = LedgerEntry.objects.filter(fund=fund).aggregate(
        total_in=_sum(1, prefix=""), total_out=_sum(-1, prefix="")
    )
    return Totals(Decimal(row["total_in"]).quantize(CENT), Decimal(row["total_out"]).quantize(CENT))


def campaign_sums(fund: Fund) -> list[dict[str, Any]]:
    """Donations still standing (not reversed), added up per campaign."""
    rows = (
        LedgerEntry.objects.filter(fund=fund, kind=EntryKind.DONATION, reversed_by__isnull=True)
        .values("campaign")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("campaign")
    )
    return [
        {
            "campaign": r["campaign"],
            "total": Decimal(r["total"]).quantize(CENT),
            "count": r["count"],
        }
        for r in rows
    ]


@dataclass
class EntryFilter:
    kind: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    entry_id: int | None = None


def ledger_entries(fund: Fund, flt: EntryFilter) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.filter(fund=fund)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.date_from is not None:
        qs = qs.filter(occurred_on__gte=flt.date_from)
    if flt.date_to is not None:
        qs = qs.filter(occurred_on__lte=flt.date_to)
    if flt.entry_id is not None:
        qs = qs.filter(pk=flt.entry_id)
    # The records that own an entry are reached by their reverse one-to-one
    # names (aid payment, loan repayment, premium), so funds imports nothing
    # of programs; the page sends their reversal to their own screens.
    return paged(
        qs.select_related(
            "actor",
            "household__unit",
            "reverses",
            "reversed_by",
            "counterpart__fund",
            "aid_payment__reversal",
            "repayment",
            "premium",
        ).order_by("-occurred_on", "-id")
    )


def transfer_targets(entries: list[LedgerEntry]) -> dict[int, Fund]:
    """For each transfer-out entry on a page, the fund it went to (one query)."""
    outs = [e.pk for e in entries if e.kind == EntryKind.TRANSFER_OUT]
    legs = LedgerEntry.objects.filter(counterpart_id__in=outs).select_related("fund")
    return {leg.counterpart_id: leg.fund for leg in legs if leg.counterpart_id is not None}


def get_entry_for(user: User, pk: Any, *, action: str = MANAGE) -> LedgerEntry:
    queryset = LedgerEntry.objects.select_related(
        "fund__unit", "household__unit", "actor", "reversed_by", "aid_payment", "repayment",
        "premium",
    )  # fmt: skip
    return get_scoped(user, queryset, pk, action=action, unit_field="fund__unit")


def managed_funds(user: User) -> QuerySet[Fund]:
    """Active funds the user may move money in, with their balances."""
    qs = Fund.objects.filter(unit__in=units_for(user, MANAGE), is_active=True)
    return with_totals(qs.select_related("unit")).order_by("-year", "unit__path", "name", "pk")


def finance_units(user: User) -> QuerySet[Unit]:
    return units_for(user, MANAGE).filter(is_active=True)


def household_lookup(unit: Unit, term: str) -> list[Household]:
    """Households of the union's subtree whose file number is `term`, or
    whose name starts with it (at most 20, for a pick list)."""
    term = term.strip()
    if not term:
        return []
    qs = Household.objects.filter(unit__path__startswith=unit.path)
    by_number = list(qs.filter(file_number=term).select_related("unit")[:1])
    if by_number:
        return by_number
    return list(
        qs.filter(prefix_q("name", term)).select_related("unit").order_by("name", "pk")[:20]
    )
