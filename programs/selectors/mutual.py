"""Reads of mutual-aid cooperatives, their members and claims.

A cooperative is seen in the units of its union (`household.view` or
`fund.view`); its members, their premiums and claims in the units of each
member's own union (CoopMember.unit). A cooperative's balance is its fund's
ledger, never a stored figure; every figure of the cooperative page is a sum
the database makes over the same rows the lists show.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from accounts.models import Unit, User
from accounts.money import NO_MONEY, SUM_FIELD, ZERO
from accounts.paging import paged
from accounts.scoping import covers, get_scoped, scope_q
from cases import clock, idnumber
from cases.models import Household
from cases.selectors.households import search_q
from funds.models import LedgerEntry

from ..models import (
    Claim,
    ClaimCategory,
    ClaimStatus,
    ClaimVote,
    Cooperative,
    CoopMember,
    Premium,
    PremiumKind,
)
from .loans import reversal_reason

VIEW_ACTIONS = ("household.view", "fund.view")
ENROLL_ACTIONS = ("household.edit", "fund.manage")
SEARCH_LIMIT = 20


def _balance() -> Coalesce:
    sums = (
        LedgerEntry.objects.filter(fund=OuterRef("fund"))
        .order_by()
        .values("fund")
        .annotate(total=Sum(F("amount") * F("direction"), output_field=SUM_FIELD))
        .values("total")[:1]
    )
    return Coalesce(Subquery(sums, output_field=SUM_FIELD), NO_MONEY, output_field=SUM_FIELD)


def _members_count() -> Coalesce:
    counts = (
        CoopMember.objects.filter(cooperative=OuterRef("pk"))
        .order_by()
        .values("cooperative")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _with_figures(queryset: QuerySet[Cooperative]) -> QuerySet[Cooperative]:
    return queryset.annotate(member_count=_members_count(), balance=_balance())


def coop_list(user: User) -> QuerySet[Cooperative]:
    scope = scope_q(user, VIEW_ACTIONS, "unit__")
    if scope is None:
        raise PermissionDenied
    return (
        _with_figures(Cooperative.objects.filter(scope))
        .select_related("unit", "fund", "program")
        .order_by("unit__path", "name")
    )


def get_coop_for(user: User, pk: object, *, actions: tuple[str, ...] = VIEW_ACTIONS) -> Cooperative:
    queryset = _with_figures(Cooperative.objects.select_related("unit", "fund__unit", "program"))
    coop: Cooperative = get_scoped(user, queryset, pk, action=actions, unit_field="unit")
    return coop


def committee(coop: Cooperative) -> list[User]:
    return list(coop.committee.order_by("full_name", "username"))


def _member_scope(user: User, prefix: str) -> Q:
    scope = scope_q(user, VIEW_ACTIONS, prefix)
    return scope if scope is not None else Q(pk__in=[])


@dataclass
class MemberFilter:
    q: str = ""  # a name, or an ID number (whole or its last digits)
    unit: Unit | None = None


def coop_members(
    user: User, coop: Cooperative, year: int | None = None, flt: MemberFilter | None = None
) -> QuerySet[CoopMember]:
    """The members the user may see, with whether they paid for `year` (a
    reversed premium is not paid)."""
    year = year or clock.today().year
    flt = flt or MemberFilter()
    paid = live_premiums().filter(member=OuterRef("pk"), year=year)
    first = live_premiums().filter(member=OuterRef("pk"), kind=PremiumKind.FIRST)
    queryset = CoopMember.objects.filter(_member_scope(user, "unit__"), cooperative=coop)
    term = flt.q.strip()
    if term:
        number = idnumber.normalize(term)
        if number.isdigit() or (number[:-1].isdigit() and number.endswith("X")):
            queryset = queryset.filter(id_number__endswith=number)
        else:
            queryset = queryset.filter(name__contains=term)
    if flt.unit is not None:
        queryset = queryset.filter(unit__path__startswith=flt.unit.path)
    return paged(
        queryset.annotate(paid_this_year=Exists(paid), first_paid=Exists(first))
        .select_related("unit", "household")
        .order_by("name", "id")
    )


def member_units(user: User, coop: Cooperative) -> QuerySet[Unit]:
    """The unions the member filter offers: inside the cooperative's union
    and the user's own."""
    scope = _member_scope(user, "")
    return Unit.objects.filter(scope, path__startswith=coop.unit.path).order_by("path")


def _claims_with_votes(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    return queryset.annotate(
        yes=Count("votes", filter=Q(votes__approve=True)),
        no=Count("votes", filter=Q(votes__approve=False)),
    )


@dataclass
class ClaimFilter:
    status: str = ""
    category: ClaimCategory | None = None
    date_from: datetime.date | None = None  # the day it was submitted
    date_to: datetime.date | None = None


def _visible_claims(user: User, coop: Cooperative) -> QuerySet[Claim]:
    return Claim.objects.filter(_member_scope(user, "member__unit__"), member__cooperative=coop)


def coop_claims(user: User, coop: Cooperative, flt: ClaimFilter | None = None) -> QuerySet[Claim]:
    """The claims the user may see, filtered: those awaiting the committee
    first, then the newest decisions."""
    flt = flt or ClaimFilter()
    queryset = _visible_claims(user, coop)
    if flt.status:
        queryset = queryset.filter(status=flt.status)
    if flt.category is not None:
        queryset = queryset.filter(category=flt.category)
    if flt.date_from is not None:
        queryset = queryset.filter(submitted_at__date__gte=flt.date_from)
    if flt.date_to is not None:
        queryset = queryset.filter(submitted_at__date__lte=flt.date_to)
    return paged(
        _claims_with_votes(queryset)
        .select_related("member__unit", "category", "entry__reversed_by")
        .order_by(F("decided_at").desc(nulls_first=True), "-submitted_at", "-id")
    )


def paid_claims_q(prefix: str = "") -> Q:
    """Claims paid and not taken back: paid straight from the fund (an entry
    not reversed), or paid earlier through their aid application (no entry)."""
    return Q(**{f"{prefix}status": ClaimStatus.PAID}) & (
        Q(**{f"{prefix}entry__isnull": True}) | Q(**{f"{prefix}entry__reversed_by__isnull": True})
    )


@dataclass
class CategoryRow:
    category: ClaimCategory
    times: int  # 人次: paid claims
    persons: int  # distinct members
    amount: Decimal


@dataclass
class CategoryFigures:
    rows: list[CategoryRow] = field(default_factory=list)
    times: int = 0
    persons: int = 0
    amount: Decimal = ZERO


NONE_PAID = ZERO


def claims_by_category(
    user: User,
    coop: Cooperative,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> CategoryFigures:
    """Paid claims by category for a period, by the day each was paid
    (paid_on): person-times, persons and amount. Every active category is
    listed, with zeros when it had no claim; a retired one when it had."""
    claims = _visible_claims(user, coop).filter(paid_claims_q())
    if date_from is not None:
        claims = claims.filter(paid_on__gte=date_from)
    if date_to is not None:
        claims = claims.filter(paid_on__lte=date_to)
    sums = {
        row["category"]: row
        for row in claims.order_by()
        .values("category")
        .annotate(
            times=Count("pk"),
            persons=Count("member", distinct=True),
            amount=Coalesce(Sum("amount"), NO_MONEY, output_field=SUM_FIELD),
        )
    }
    totals = claims.aggregate(
        persons=Count("member", distinct=True),
        amount=Coalesce(Sum("amount"), NO_MONEY, output_field=SUM_FIELD),
        times=Count("pk"),
    )
    figures = CategoryFigures(
        times=totals["times"], persons=totals["persons"], amount=totals["amount"]
    )
    for category in ClaimCategory.objects.filter(Q(is_active=True) | Q(pk__in=list(sums))):
        row = sums.get(category.pk, {})
        figures.rows.append(
            CategoryRow(
                category,
                row.get("times", 0),
                row.get("persons", 0),
                row.get("amount", NONE_PAID),
            )
        )
    return figures


@dataclass
class YearRow:
    year: int
    count: int
    amount: Decimal


def premiums_by_year(user: User, coop: Cooperative) -> list[YearRow]:
    """Premiums that stand, by the year they pay for: how many and how much."""
    rows = (
        live_premiums()
        .filter(_member_scope(user, "member__unit__"), member__cooperative=coop)
        .order_by()
        .values("year")
        .annotate(
            count=Count("pk"), amount=Coalesce(Sum("amount"), NO_MONEY, output_field=SUM_FIELD)
        )
        .order_by("-year")
    )
    return [YearRow(r["year"], r["count"], r["amount"]) for r in rows]


def get_member_for(user: User, pk: object, *, actions: tuple[str, ...]) -> CoopMember:
    queryset = CoopMember.objects.select_related(
        "cooperative__unit", "cooperative__fund__unit", "unit", "household__unit"
    )
    member: CoopMember = get_scoped(user, queryset, pk, action=actions, unit_field="unit")
    return member


def live_premiums() -> QuerySet[Premium]:
    """Premiums that stand. A mistaken one is reversed in the ledger and
    keeps its row; its entry's reversal is what marks it."""
    return Premium.objects.filter(entry__reversed_by__isnull=True)


@dataclass
class PremiumRow:
    premium: Premium
    # The entry that reversed it, if it was reversed, with the reason given.
    reversal: LedgerEntry | None
    reason: str = ""

    @property
    def reversed(self) -> bool:
        return self.reversal is not None


def member_premiums(member: CoopMember) -> list[PremiumRow]:
    """The member's premiums, newest year first, each with its reversal."""
    rows = []
    for p in member.premiums.select_related("actor", "entry__reversed_by").order_by("-year", "-id"):
        reversal = getattr(p.entry, "reversed_by", None)
        rows.append(PremiumRow(p, reversal, reversal_reason(reversal) if reversal else ""))
    return rows


def get_premium_for(user: User, pk: object, *, action: str) -> Premium:
    """One premium, for those holding `action` over the cooperative's fund
    (the fund the money went into): 403 without it, 404 outside its units."""
    queryset = Premium.objects.select_related(
        "member__cooperative__fund__unit",
        "member__unit",
        "entry__reversed_by",
        "actor",
    )
    premium: Premium = get_scoped(
        user, queryset, pk, action=(action,), unit_field="member__cooperative__fund__unit"
    )
    return premium


def get_claim_for(user: User, pk: object) -> Claim:
    queryset = Claim.objects.select_related(
        "member__cooperative__program",
        "member__cooperative__fund__unit",
        "member__unit",
        "member__household",
        "category",
        "submitted_by",
        "paid_by",
        "application",
        "entry__reversed_by",
    )
    claim: Claim = get_scoped(user, queryset, pk, action=VIEW_ACTIONS, unit_field="member__unit")
    return claim


def claim_votes(claim: Claim) -> list[ClaimVote]:
    return list(claim.votes.select_related("voter").order_by("voted_at", "id"))


def vote_context(user: User, claim: Claim, votes: list[ClaimVote]) -> dict[str, Any]:
    """What the claim page says about voting, and whether this user may."""
    members = committee(claim.member.cooperative)
    ids = {u.pk for u in members}
    voted = {v.voter_id for v in votes}
    yes = sum(1 for v in votes if v.approve)
    return {
        "committee": members,
        "yes": yes,
        "no": len(votes) - yes,
        "needed": len(members) // 2 + 1,
        "is_member": user.pk in ids,
        "has_voted": user.pk in voted,
        "is_submitter": claim.submitted_by_id == user.pk,
        "can_vote": claim.status == ClaimStatus.PENDING
        and user.pk in ids
        and user.pk not in voted
        and claim.submitted_by_id != user.pk,
    }


def enroll_candidates(
    user: User, coop: Cooperative, term: str, limit: int = SEARCH_LIMIT
) -> list[Household]:
    """Households the user may enroll that match a search and are not yet
    members: inside the cooperative's union and the user's own units."""
    term = term.strip()
    if not term:
        return []
    scope = scope_q(user, ENROLL_ACTIONS, "unit__")
    if scope is None:
        return []
    members = CoopMember.objects.filter(cooperative=coop).filter(
        Q(household=OuterRef("pk")) | Q(id_number=OuterRef("id_number"))
    )
    return list(
        Household.objects.filter(scope, search_q(term), unit__path__startswith=coop.unit.path)
        .exclude(Exists(members))
        .select_related("unit")
        .order_by("name", "id")[:limit]
    )


def may_enroll(user: User, coop: Cooperative) -> bool:
    return any(covers(user, action, coop.unit) for action in ENROLL_ACTIONS)
