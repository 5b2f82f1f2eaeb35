"""Reads of 回访核实 the views and the report share, scoped to the person.

Samples are scoped by the union whose fund paid (the sample's union), lines
by the household's union (a county's caseworkers verify their households
in a city fund's batch), cases by the union they went to for chairs and by
the household's union for auditors."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from accounts.scoping import get_scoped, require_action, roles_for, scope_q, unit_q

from ..models import (
    CaseStatus,
    Outcome,
    VerificationCase,
    VerificationLine,
    VerificationRules,
    VerificationSample,
)

VIEW = "verification.view"
RECORD = "verification.record"
SETTLE = "verification.settle"
CASES = "verification.cases"
CONFIGURE = "verification.configure"


def share_rules(user: User) -> QuerySet[VerificationRules]:
    """The shares the unions in the person's reach have set themselves."""
    scope = scope_q(user, (CONFIGURE,), "unit__")
    if scope is None:
        raise PermissionDenied
    return (
        VerificationRules.objects.filter(scope)
        .select_related("unit", "updated_by")
        .order_by("unit__path")
    )


def sample_list(user: User) -> QuerySet[VerificationSample]:
    scope = scope_q(user, (VIEW,), "unit__")
    if scope is None:
        raise PermissionDenied
    return (
        VerificationSample.objects.filter(scope)
        .select_related("unit", "payment_batch", "drawn_by")
        .order_by("-drawn_on", "-id")
    )


def get_sample_for(user: User, pk: object) -> VerificationSample:
    return get_scoped(
        user,
        VerificationSample.objects.select_related("unit", "payment_batch__fund", "drawn_by"),
        pk,
        action=VIEW,
    )


def sample_lines(sample: VerificationSample) -> QuerySet[VerificationLine]:
    return (
        VerificationLine.objects.filter(sample=sample)
        .select_related("household__unit", "payment__application__program", "verifier", "case")
        .order_by("position")
    )


def get_line_for(user: User, pk: object, *, action: str = RECORD) -> VerificationLine:
    return get_scoped(
        user,
        VerificationLine.objects.select_related(
            "sample__unit",
            "household__unit",
            "payment__application__program",
            "payment__fund",
            "payment__paid_by",
            "verifier",
            "case",
        ),
        pk,
        action=action,
        unit_field="household__unit",
    )


def open_lines(user: User, *, mine: bool = False) -> QuerySet[VerificationLine]:
    """待回访: lines nobody has verified yet, in the person's households'
    unions, newest draw first; `mine` the ones this person has taken."""
    scope = scope_q(user, (RECORD,), "household__unit__")
    if scope is None:
        raise PermissionDenied
    lines = VerificationLine.objects.filter(scope, outcome="")
    if mine:
        lines = lines.filter(verifier=user)
    return lines.select_related(
        "household__unit", "payment__application__program", "verifier", "sample"
    ).order_by("-id")


def _case_scope(user: User) -> Q:
    granted = require_action(user, CASES)
    chairs = [m.unit.path for m in granted if m.role == Role.CHAIR]
    auditors = [m.unit.path for m in granted if m.role == Role.AUDITOR]
    scope = Q(pk__in=[])
    if chairs:
        scope |= unit_q(chairs, prefix="unit__")
    if auditors:
        scope |= unit_q(auditors, prefix="line__household__unit__")
    return scope


def case_list(user: User, *, status: str = CaseStatus.OPEN) -> QuerySet[VerificationCase]:
    cases = VerificationCase.objects.filter(_case_scope(user))
    if status:
        cases = cases.filter(status=status)
    return cases.select_related(
        "unit", "line__household__unit", "line__payment", "line__verifier", "resolved_by"
    ).order_by("-opened_at", "-id")


def get_case_for(user: User, pk: object) -> VerificationCase:
    scope = _case_scope(user)
    try:
        number = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Http404 from None
    case = (
        VerificationCase.objects.filter(scope, pk=number)
        .select_related(
            "unit",
            "resolved_by",
            "line__household__unit",
            "line__payment__application__program",
            "line__payment__fund",
            "line__verifier",
            "line__sample",
        )
        .first()
    )
    if case is None:
        raise Http404
    return case


def can_settle(user: User, case: VerificationCase) -> bool:
    return any(m.unit.covers(case.unit) for m in roles_for(user, SETTLE))


# -- Rates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    """One union's figures for a period (by the day the sample was drawn)."""

    unit_name: str
    sampled: int
    verified: int
    full: int
    partial: int
    not_received: int
    unreachable: int

    @property
    def problems(self) -> int:
        return self.partial + self.not_received + self.unreachable

    @property
    def verified_percent(self) -> Decimal | None:
        return percent(self.verified, self.sampled)


def percent(part: int, whole: int) -> Decimal | None:
    """part of whole in percent, two places (None of nothing): the one
    rounding the screen, the PDF and the workbook show."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _counts() -> dict[str, Count]:
    return {
        "sampled": Count("pk"),
        "verified": Count("pk", filter=~Q(outcome="")),
        "full": Count("pk", filter=Q(outcome=Outcome.FULL)),
        "partial": Count("pk", filter=Q(outcome=Outcome.PARTIAL)),
        "not_received": Count("pk", filter=Q(outcome=Outcome.NONE)),
        "unreachable": Count("pk", filter=Q(outcome=Outcome.UNREACHABLE)),
    }


def rated_lines(
    user: User, date_from: datetime.date | None, date_to: datetime.date | None
) -> QuerySet[VerificationLine]:
    """The lines of the person's households' unions drawn in the period (by
    the day the sample was drawn)."""
    scope = scope_q(user, (VIEW,), "household__unit__")
    if scope is None:
        raise PermissionDenied
    lines = VerificationLine.objects.filter(scope)
    if date_from:
        lines = lines.filter(sample__drawn_on__gte=date_from)
    if date_to:
        lines = lines.filter(sample__drawn_on__lte=date_to)
    return lines


def rates_by_union(lines: QuerySet[VerificationLine]) -> QuerySet[VerificationLine, dict[str, Any]]:
    """Per union of the households: sampled, verified, and each outcome. One
    GROUP BY; the screen, the PDF and the workbook read it."""
    return (
        lines.values("household__unit__path", "household__unit__name")
        .annotate(**_counts())
        .order_by("household__unit__path")
    )


def rates_of(row: dict[str, Any]) -> Rates:
    return Rates(
        unit_name=row["household__unit__name"],
        sampled=row["sampled"],
        verified=row["verified"],
        full=row["full"],
        partial=row["partial"],
        not_received=row["not_received"],
        unreachable=row["unreachable"],
    )


def rates_total(lines: QuerySet[VerificationLine]) -> Rates:
    """The same figures over every union, added up by the database."""
    return Rates(unit_name="", **lines.aggregate(**_counts()))
