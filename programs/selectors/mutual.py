"""Reads of mutual-aid cooperatives, their members and claims.

A cooperative is seen in the units of its union (`household.view` or
`fund.view`); its members and claims in the units of the member households.
A cooperative's balance is its fund's ledger, never a stored figure.
"""

from dataclasses import dataclass
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

from accounts.models import User
from accounts.scoping import covers, get_scoped
from cases import clock
from cases.models import Household
from cases.selectors import search_q
from funds.models import LedgerEntry

from ..models import Claim, ClaimStatus, ClaimVote, Cooperative, CoopMember, Premium, PremiumKind
from .loans import MONEY, ZERO, reversal_reason, scope_q

VIEW_ACTIONS = ("household.view", "fund.view")
ENROLL_ACTIONS = ("household.edit", "fund.manage")
SEARCH_LIMIT = 20


def _balance() -> Coalesce:
    sums = (
        LedgerEntry.objects.filter(fund=OuterRef("fund"))
        .order_by()
        .values("fund")
        .annotate(total=Sum(F("amount") * F("direction"), output_field=MONEY))
        .values("total")[:1]
    )
    return Coalesce(Subquery(sums, output_field=MONEY), ZERO, output_field=MONEY)


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


def coop_members(user: User, coop: Cooperative, year: int | None = None) -> QuerySet[CoopMember]:
    """The members the user may see, with whether they paid for `year` (a
    reversed premium is not paid)."""
    year = year or clock.today().year
    paid = live_premiums().filter(member=OuterRef("pk"), year=year)
    first = live_premiums().filter(member=OuterRef("pk"), kind=PremiumKind.FIRST)
    return (
        CoopMember.objects.filter(_member_scope(user, "household__unit__"), cooperative=coop)
        .annotate(paid_this_year=Exists(paid), first_paid=Exists(first))
        .select_related("household__unit")
        .order_by("household__name", "id")
    )


def _claims_with_votes(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    return queryset.annotate(
        yes=Count("votes", filter=Q(votes__approve=True)),
        no=Count("votes", filter=Q(votes__approve=False)),
    )


CLAIMS_SHOWN = 30


def coop_claims(user: User, coop: Cooperative) -> list[Claim]:
    """The latest claims the user may see: those awaiting the committee first."""
    queryset = Claim.objects.filter(
        _member_scope(user, "member__household__unit__"), member__cooperative=coop
    )
    return list(
        _claims_with_votes(queryset)
        .select_related("member__household", "application")
        .order_by(
            # Pending claims first, then the newest decisions.
            F("decided_at").desc(nulls_first=True),
            "-submitted_at",
            "-id",
        )[:CLAIMS_SHOWN]
    )


def get_member_for(user: User, pk: object, *, actions: tuple[str, ...]) -> CoopMember:
    queryset = CoopMember.objects.select_related(
        "cooperative__unit", "cooperative__fund__unit", "household__unit"
    )
    member: CoopMember = get_scoped(
        user, queryset, pk, action=actions, unit_field="household__unit"
    )
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
        "member__household__unit",
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
        "member__household__unit",
        "submitted_by",
        "application",
    )
    claim: Claim = get_scoped(
        user, queryset, pk, action=VIEW_ACTIONS, unit_field="member__household__unit"
    )
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
    members = CoopMember.objects.filter(cooperative=coop, household=OuterRef("pk"))
    return list(
        Household.objects.filter(scope, search_q(term), unit__path__startswith=coop.unit.path)
        .exclude(Exists(members))
        .select_related("unit")
        .order_by("name", "id")[:limit]
    )


def may_enroll(user: User, coop: Cooperative) -> bool:
    return any(covers(user, action, coop.unit) for action in ENROLL_ACTIONS)
