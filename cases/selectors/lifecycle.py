"""Reads for the annual review, monthly incomes, exits and non-cash help.

A review round belongs to the unit that started it, which may lie above the
units a user covers (a county round seen by a factory union's caseworker).
Such a user sees the round, but only the items, counts and households of
the units she covers: nothing of a neighbouring union leaks in.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.scoping import get_scoped, require_action, roles_for, units_for

from ..models import (
    CaseRules,
    Household,
    HouseholdStatus,
    MonthlyIncome,
    NonCashHelp,
    ReviewItem,
    ReviewOutcome,
    ReviewRound,
)
from ..services.lifecycle import above_run

# Months of income history the household page shows.
INCOME_HISTORY_MONTHS = 12


def rules() -> CaseRules:
    return CaseRules.current()


def _round_scope(user: User, action: str) -> Q:
    granted = require_action(user, action)
    ancestors = {int(part) for m in granted for part in m.unit.path.split("/") if part}
    return Q(unit_id__in=ancestors) | Q(unit__in=units_for(user, action))


def _pending() -> Q:
    return Q(items__outcome=ReviewOutcome.PENDING)


def review_rounds_for(user: User) -> QuerySet[ReviewRound]:
    """Rounds the user takes part in, newest first, with her own progress."""
    scope = _round_scope(user, "household.view")
    mine = Q(items__household__unit__in=units_for(user, "household.view"))
    return (
        ReviewRound.objects.filter(scope)
        .select_related("unit", "started_by")
        .annotate(
            total=Count("items", filter=mine),
            done=Count("items", filter=mine & ~_pending()),
            sampled_total=Count("items", filter=mine & Q(items__sampled=True)),
        )
        .order_by("-year", "-id")
    )


def get_round_for(user: User, pk: object) -> ReviewRound:
    scope = _round_scope(user, "household.view")
    try:
        number = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Http404 from None
    review = (
        ReviewRound.objects.filter(scope, pk=number).select_related("unit", "started_by").first()
    )
    if review is None:
        raise Http404
    return review


def round_items(
    user: User, review: ReviewRound, *, only_sampled: bool = False, outcome: str = ""
) -> QuerySet[ReviewItem]:
    items = ReviewItem.objects.filter(
        round=review, household__unit__in=units_for(user, "household.view")
    )
    if only_sampled:
        items = items.filter(sampled=True)
    if outcome:
        items = items.filter(outcome=outcome)
    return items.select_related("household__unit", "checked_by").order_by(
        "-sampled", "household_id"
    )


@dataclass
class Progress:
    total: int
    done: int
    sampled: int
    sampled_done: int
    unchanged: int
    updated: int
    exit: int

    @property
    def pending(self) -> int:
        return self.total - self.done


def round_progress(user: User, review: ReviewRound) -> Progress:
    """Counts over the items the user may see, in one query."""
    items = ReviewItem.objects.filter(
        round=review, household__unit__in=units_for(user, "household.view")
    )
    done = ~Q(outcome=ReviewOutcome.PENDING)
    # Aggregate names must not shadow the model's own fields (`sampled`).
    counts = items.aggregate(
        n_total=Count("id"),
        n_done=Count("id", filter=done),
        n_sampled=Count("id", filter=Q(sampled=True)),
        n_sampled_done=Count("id", filter=Q(sampled=True) & done),
        n_unchanged=Count("id", filter=Q(outcome=ReviewOutcome.UNCHANGED)),
        n_updated=Count("id", filter=Q(outcome=ReviewOutcome.UPDATED)),
        n_exit=Count("id", filter=Q(outcome=ReviewOutcome.EXIT)),
    )
    return Progress(**{key[2:]: value for key, value in counts.items()})


def round_sampled_ids(review: ReviewRound) -> tuple[list[int], set[int]]:
    """All household ids of the round and the ones marked as sampled."""
    rows = list(ReviewItem.objects.filter(round=review).values_list("household_id", "sampled"))
    return [pk for pk, _s in rows], {pk for pk, sampled in rows if sampled}


def get_review_item_for(user: User, pk: object, *, action: str = "household.edit") -> ReviewItem:
    queryset = ReviewItem.objects.select_related("round__unit", "household__unit", "checked_by")
    return get_scoped(user, queryset, pk, action=action, unit_field="household__unit")


def can_start_review(user: User) -> bool:
    return bool(roles_for(user, "case.decide"))


@dataclass
class Panel:
    incomes: list[MonthlyIncome]
    run: int
    run_capped: bool
    noncash: list[NonCashHelp]
    reviews: list[ReviewItem]


def ever_filed(household: Household) -> bool:
    """Could the household have any living-file records at all?

    They are only written while a file is filed; a filed file leaves only by
    an exit, and the exit date stays when it is filed again."""
    return household.status in (HouseholdStatus.FILED, HouseholdStatus.EXITED) or bool(
        household.exited_on
    )


def lifecycle_panel(household: Household) -> Panel:
    """What the household page shows of the living file, in three queries
    whatever the number of records (none for a case still in intake)."""
    if not ever_filed(household):
        return Panel(incomes=[], run=0, run_capped=False, noncash=[], reviews=[])
    # Twice the history shown, so a run longer than the table is still counted.
    window = INCOME_HISTORY_MONTHS * 2
    incomes = list(
        MonthlyIncome.objects.filter(household=household)
        .select_related("recorded_by")
        .order_by("-month")[:window]
    )
    run = above_run(incomes)
    noncash = list(
        NonCashHelp.objects.filter(household=household)
        .select_related("given_by")
        .order_by("-given_on", "-id")[:50]
    )
    reviews = list(
        ReviewItem.objects.filter(household=household)
        .select_related("round__unit", "checked_by")
        .order_by("-round__year", "-id")[:10]
    )
    return Panel(
        incomes=incomes[:INCOME_HISTORY_MONTHS],
        run=run,
        run_capped=run == window,
        noncash=noncash,
        reviews=reviews,
    )
