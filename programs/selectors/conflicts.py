"""Reads of the 回避 flags: the applications waiting for another chair
(回避转办) and the auditors' report of flagged cases.

Both start from the flags, which are few, never from every application."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from accounts.masking import mask_name
from accounts.models import User
from accounts.scoping import Unmasker, roles_for, units_for
from cases.kin import Match, household_match, kin_of, reason_label

from ..models import Application, ApplicationStatus, ConflictFlag, ConflictStep

S = ApplicationStatus
DECIDE = "case.decide"
AUDIT = "audit.view"
AWAITING = (S.PENDING, S.PENDING_PARENT)


def escalations_for(user: User) -> QuerySet[Application]:
    """回避转办: applications awaiting a decision that a chair was refused for
    (回避), in unions strictly below one this chair chairs (the parent
    union's chair and above), leaving out those this chair is flagged on."""
    granted = roles_for(user, DECIDE)
    if not granted:
        return Application.objects.none()
    refused_here = ConflictFlag.objects.filter(
        step=ConflictStep.APPROVE, refused=True, application__isnull=False
    )
    own = ConflictFlag.objects.filter(application_id=OuterRef("pk"), user=user)
    flags = ConflictFlag.objects.filter(application__isnull=False).select_related("user")
    return (
        Application.objects.filter(
            pk__in=refused_here.values("application_id"),
            status__in=AWAITING,
            household__unit__in=units_for(user, DECIDE),
        )
        .exclude(household__unit__in=[m.unit_id for m in granted])
        .exclude(Exists(own))
        .select_related("household__unit", "program")
        .prefetch_related(Prefetch("conflict_flags", queryset=flags.order_by("created_at", "id")))
        .order_by("-id")
    )


def escalation_rows(applications: list[Application]) -> list[dict[str, Any]]:
    return [
        {
            "application": a,
            "recused": sorted(
                {str(f.user) for f in a.conflict_flags.all() if f.step == ConflictStep.APPROVE}
            ),
            "reasons": sorted({reason_label(r) for f in a.conflict_flags.all() for r in f.reasons}),
        }
        for a in applications
    ]


def recusal(user: User, application: Application) -> list[Match]:
    """Why this user must recuse from the application (empty: no reason):
    the same rule the guard applies, so the page hides what it would refuse."""
    return household_match(kin_of(user), application.household)


def flag_notes(application: Application) -> list[dict[str, Any]]:
    """The application's flags for its page: who, which step, why."""
    return [
        {
            "user": str(f.user),
            "user_id": f.user_id,
            "step": f.get_step_display(),
            "reasons": "、".join(reason_label(r) for r in f.reasons),
            "refused": f.refused,
            "at": f.created_at,
        }
        for f in application.conflict_flags.select_related("user").order_by("created_at", "id")
    ]


def flags_for(user: User, *, step: str = "") -> QuerySet[ConflictFlag]:
    """The auditors' report: every flag in the auditor's unions, newest first."""
    qs = ConflictFlag.objects.filter(unit__in=units_for(user, AUDIT)).order_by("-created_at", "-id")
    if step:
        qs = qs.filter(step=step)
    return qs.select_related(
        "unit",
        "user",
        "application__household__unit",
        "application__program",
        "claim__member__unit",
        "claim__category",
    )


@dataclass
class FlagRow:
    """One line of the report, as the screen and the workbook show it."""

    at: Any
    unit: str
    subject: str  # the household (or member) as this reader may see it
    what: str  # the application or claim
    status: str
    user: str
    step: str
    reasons: str
    refused: bool
    application_id: int | None


def flag_rows(user: User, flags: list[ConflictFlag]) -> list[FlagRow]:
    unmask = Unmasker(user)
    rows = []
    for f in flags:
        if f.application is not None:
            household = f.application.household
            subject = unmask.name(household.name, household.unit.path)
            what = f"{f.application.program.name} {f.application.amount:,.2f}"
            status = f.application.get_status_display()
        else:
            assert f.claim is not None
            member = f.claim.member
            subject = member.name if unmask(member.unit.path) else mask_name(member.name)
            what = f"{f.claim.category.name} {f.claim.amount:,.2f}"
            status = f.claim.get_status_display()
        rows.append(
            FlagRow(
                at=f.created_at,
                unit=f.unit.name,
                subject=subject,
                what=what,
                status=str(status),
                user=str(f.user),
                step=str(f.get_step_display()),
                reasons="、".join(reason_label(r) for r in f.reasons),
                refused=f.refused,
                application_id=f.application_id,
            )
        )
    return rows
