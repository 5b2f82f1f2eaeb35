"""Reads of funds and their ledgers, always inside the user's units.

Every money figure a page shows comes from here, added up by the database:
in and out are the sums of the entries of each direction (a reversal counts
in the direction it moves money), the balance is in − out. Totals, balances
and the period summary add up the funds' day totals (LedgerDay, kept current
with every entry: funds/summary.py); the ledger's own pages read the rows.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.i18n import pick_name
from accounts.models import Unit, User
from accounts.money import NO_MONEY, SUM_FIELD, ZERO, yuan
from accounts.paging import paged
from accounts.scoping import get_scoped, require_action, units_for
from cases.models import Household
from cases.selectors.households import prefix_q

from .models import EntryKind, Fund, IncomeSource, LedgerDay, LedgerEntry

VIEW = "fund.view"
MANAGE = "fund.manage"


def _fund_sum(direction: int) -> Coalesce:
    """One fund's entries of one direction, added up from its day totals
    (LedgerDay) by a subquery."""
    days = (
        LedgerDay.objects.filter(fund=OuterRef("pk"), direction=direction)
        .order_by()
        .values("fund")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(days, output_field=SUM_FIELD), NO_MONEY, output_field=SUM_FIELD)


def with_totals(funds: QuerySet[Fund]) -> QuerySet[Fund]:
    """Each fund with `total_in`, `total_out` and `balance`, in the same query.

    Per fund, as subqueries over the fund's day totals (LedgerDay, kept
    current with every entry: funds/summary.py) rather than over its entries:
    the pager's count needs no ledger row at all, and a page adds up a few
    thousand day rows per fund, however many entries it holds."""
    return funds.annotate(total_in=_fund_sum(1), total_out=_fund_sum(-1)).annotate(
        balance=ExpressionWrapper(F("total_in") - F("total_out"), output_field=SUM_FIELD)
    )


@dataclass
class FundFilter:
    year: int | None = None
    unit: Unit | None = None
    # Funds that received money from this source (a fund has many sources).
    source: IncomeSource | None = None


def fund_list(user: User, flt: FundFilter) -> QuerySet[Fund]:
    require_action(user, VIEW)
    qs = Fund.objects.filter(unit__in=units_for(user, VIEW))
    if flt.unit is not None:
        qs = qs.filter(unit__path__startswith=flt.unit.path)
    if flt.year is not None:
        qs = qs.filter(year=flt.year)
    if flt.source is not None:
        qs = qs.filter(Exists(LedgerEntry.objects.filter(fund=OuterRef("pk"), source=flt.source)))
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
        return yuan(self.total_in - self.total_out)


def _direction_sum(direction: int) -> Coalesce:
    return Coalesce(Sum("amount", filter=Q(direction=direction)), NO_MONEY, output_field=SUM_FIELD)


def fund_totals(fund: Fund) -> Totals:
    """In, out and the balance, from the fund's day totals (LedgerDay)."""
    row = LedgerDay.objects.filter(fund=fund).aggregate(
        total_in=_direction_sum(1), total_out=_direction_sum(-1)
    )
    return Totals(yuan(row["total_in"]), yuan(row["total_out"]))


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
            "total": yuan(r["total"]),
            "count": r["count"],
        }
        for r in rows
    ]


# Household columns no ledger row shows, left unread (`defer`).
_HOUSEHOLD_UNSHOWN = tuple(
    f"household__{f.name}"
    for f in Household._meta.concrete_fields
    if f.name not in ("id", "name", "unit")
)


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
    # Only the row's own many-to-ones are joined (its actor, source and
    # household); what else a row shows is read by one small subquery each
    # (see `_entry_facts`). Joining them all (reversal, counterpart and its
    # fund, the owning payment and its reversal, repayment, premium: thirteen
    # tables) cost PostgreSQL 50-80 ms to plan on a fresh connection, for a
    # page it then reads in 2 ms.
    return paged(
        qs.select_related("actor", "source", "household__unit")
        # A row shows the household's name (masked outside the user's
        # unmasked unions), not the rest of its wide row.
        .defer(*_HOUSEHOLD_UNSHOWN)
        .annotate(**_entry_facts())
        .order_by("-occurred_on", "-id")
    )


def _first(qs: QuerySet[Any], field: str = "pk") -> Subquery:
    return Subquery(qs.order_by().values(field)[:1])


def _entry_facts() -> dict[str, Subquery]:
    """Per entry: the entry that reversed it, the other fund of a transfer,
    and the record that owns it (an aid payment and its reversal, a loan
    repayment, a premium), as ids and names. The owners are reached by their
    models looked up by name, so funds imports nothing of programs."""
    payment = apps.get_model("programs", "AidPayment")._default_manager
    repayment = apps.get_model("programs", "Repayment")._default_manager
    premium = apps.get_model("programs", "Premium")._default_manager
    here = OuterRef("pk")
    # A transfer's other leg: the one it points at (an in-leg names its
    # out-leg as counterpart), or the one pointing at it.
    other_leg = LedgerEntry.objects.filter(Q(pk=OuterRef("counterpart_id")) | Q(counterpart=here))
    return {
        "reversed_by_pk": _first(LedgerEntry.objects.filter(reverses=here)),
        "other_fund_name": _first(other_leg, "fund__name"),
        "other_fund_year": _first(other_leg, "fund__year"),
        "payment_pk": _first(payment.filter(entry=here)),
        "payment_reversal_pk": _first(payment.filter(entry=here), "reversal_id"),
        "repayment_pk": _first(repayment.filter(entry=here)),
        "premium_pk": _first(premium.filter(entry=here)),
    }


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


def active_sources() -> QuerySet[IncomeSource]:
    """The sources a new receipt may name, in the admin's order."""
    return IncomeSource.objects.filter(is_active=True).order_by("sort_order", "id")


# -- The period summary: one selector for the fund page, the PDF and the xlsx --------


@dataclass(frozen=True)
class SummaryLine:
    """One line of a period summary: what it is, how many entries, how much.
    `direction` says which way the money moved (+1 in, −1 out)."""

    group: str  # "receipt", "payment", "transfer", "reversal"
    label: str
    count: int
    amount: Decimal
    direction: int


@dataclass
class PeriodSummary:
    date_from: datetime.date | None
    date_to: datetime.date | None
    opening: Decimal
    receipts: list[SummaryLine]  # by source
    payments: list[SummaryLine]  # by program; other payments their own line
    transfers: list[SummaryLine]
    reversals: list[SummaryLine]  # by what they reverse

    @property
    def lines(self) -> list[SummaryLine]:
        return [*self.receipts, *self.payments, *self.transfers, *self.reversals]

    def _total(self, lines: list[SummaryLine]) -> Decimal:
        return sum((x.amount * x.direction for x in lines), ZERO)

    @property
    def receipts_total(self) -> Decimal:
        return self._total(self.receipts)

    @property
    def receipts_count(self) -> int:
        return sum(x.count for x in self.receipts)

    @property
    def payments_total(self) -> Decimal:
        return -self._total(self.payments)

    @property
    def total_in(self) -> Decimal:
        return sum((x.amount for x in self.lines if x.direction > 0), ZERO)

    @property
    def total_out(self) -> Decimal:
        return sum((x.amount for x in self.lines if x.direction < 0), ZERO)

    @property
    def closing(self) -> Decimal:
        """opening + every line in its direction: receipts − payments ±
        transfers ± reversals. Each line is a group of the period's entries
        and every entry is in exactly one group, so this is the balance at
        the end of the period."""
        return yuan(self.opening + self._total(self.lines))


def _program_name(field: str) -> Subquery:
    """The name of a day row's program (programs.Program, looked up by id in
    the same query: funds imports nothing of programs)."""
    program = apps.get_model("programs", "Program")
    names = program.objects.filter(pk=OuterRef("program_id")).values(field)[:1]
    return Subquery(names)


def fund_period_summary(
    fund: Fund, date_from: datetime.date | None, date_to: datetime.date | None
) -> PeriodSummary:
    """The fund's period by value date (LedgerEntry.occurred_on, never the
    moment recorded): the opening balance (every entry before `date_from`),
    receipts by source, aid payments by the application's program (other
    payments on their own line), transfers, reversals by what they reverse,
    and the closing balance. Two queries whatever the period, both over the
    fund's day totals (LedgerDay: funds/summary.py), not its entries: the
    opening sum and one grouped query over the period's days."""
    days = LedgerDay.objects.filter(fund=fund)
    opening = ZERO
    if date_from is not None:
        row = days.filter(day__lt=date_from).aggregate(
            total=Coalesce(Sum(F("amount") * F("direction"), output_field=SUM_FIELD), NO_MONEY)
        )
        opening = yuan(row["total"])
    period = days
    if date_from is not None:
        period = period.filter(day__gte=date_from)
    if date_to is not None:
        period = period.filter(day__lte=date_to)
    grouped = (
        period.annotate(
            program_name=_program_name("name"), program_name_en=_program_name("name_en")
        )
        .values(
            "line",
            "direction",
            "source_id",
            "source__name",
            "source__name_en",
            "source__sort_order",
            "program_id",
            "program_name",
            "program_name_en",
        )
        .annotate(n=Sum("entries"), total=Sum("amount"))
        .order_by()
    )
    kinds = dict(EntryKind.choices)
    receipts: dict[Any, list[Any]] = {}
    payments: dict[Any, list[Any]] = {}
    transfers: dict[Any, list[Any]] = {}
    reversals: dict[Any, list[Any]] = {}
    for g in grouped:
        line, direction, n, total = g["line"], g["direction"], g["n"], g["total"]
        head, _sep, tail = line.partition(":")
        if not n:
            continue
        if head == "source":
            key: tuple[Any, ...] = (g["source__sort_order"] or 0, g["source_id"] or 0)
            label = pick_name(g["source__name"], g["source__name_en"]) or _("（未注明来源）")
            bucket = receipts
        elif head in ("program", "payment"):
            program = g["program_id"]
            # Aid payments by program first (by name), then other payments.
            key = (0, g["program_name"], program) if program else (1, "", 0)
            label = pick_name(g["program_name"], g["program_name_en"]) if program else _("其他支出")
            bucket = payments
        elif head in (EntryKind.TRANSFER_IN, EntryKind.TRANSFER_OUT):
            key = (direction * -1,)
            label = str(kinds[head])
            bucket = transfers
        else:
            key = (direction * -1, tail)
            label = _("冲正%(k)s") % {"k": kinds.get(tail, "")}
            bucket = reversals
        entry = bucket.setdefault(key, [label, 0, ZERO, direction])
        entry[1] += n
        entry[2] += Decimal(total)

    def lines(group: str, bucket: dict[Any, list[Any]]) -> list[SummaryLine]:
        return [
            SummaryLine(group, str(label), count, yuan(amount), direction)
            for _key, (label, count, amount, direction) in sorted(bucket.items())
        ]

    return PeriodSummary(
        date_from=date_from,
        date_to=date_to,
        opening=opening,
        receipts=lines("receipt", receipts),
        payments=lines("payment", payments),
        transfers=lines("transfer", transfers),
        reversals=lines("reversal", reversals),
    )
