"""回避 (conflict of interest): the guard every service calls before a user
drafts, approves, pays or verifies aid for a household.

The rule itself is `cases.kin.kin_match`: the household head's and members'
ID numbers against the user's own and their registered relatives' (keyed
hashes), the household's phone and address against the user's. On a match
the guard flags the application (ConflictFlag: who, which step, why, when)
and, for approving, paying and verifying, refuses with ConflictOfInterest;
drafting is flagged only, as the drafter decides nothing and the chair who
decides sees the flag.

Why the flag survives the refusal: the guard writes it in a transaction of
its own, and the services call it *before* they open theirs, so the refusal
rolls back the caller's work and not the flag. (The alternative, computing
the flags at draft time for every chair and finance officer who covers the
household, would have to be redone whenever someone registers a relative or
takes up a role; the check at the moment of acting always reads today's
registrations.) A caller already inside a transaction of its own that it
then rolls back takes the flag with it; the services below never do that.
"""

import functools
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import covers
from cases.kin import Kin, Match, household_match, kin_match, kin_of
from cases.models import Household

from ..models import (
    REFUSED_STEPS,
    Application,
    ApplicationStatus,
    Claim,
    ConflictFlag,
    ConflictStep,
)


class ConflictOfInterest(PermissionDenied):
    """The acting user is, or is close kin of, someone in the household."""


P = ParamSpec("P")
R = TypeVar("R")


def guard_first(
    check: Callable[[dict[str, Any]], None],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run `check` (given the service's keyword arguments) before the
    service, placed above its `@transaction.atomic`: the guard's flag is
    committed before the service's transaction opens, so a refusal keeps it.

        @guard_first(_payer_guard)
        @transaction.atomic
        def aid_pay(*, actor, application, fund, ...): ..."""

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            check(kwargs)
            return service(*args, **kwargs)

        return guarded

    return decorate


STEP = ConflictStep
CHAIR = "case.decide"
AWAITING = (ApplicationStatus.PENDING, ApplicationStatus.PENDING_PARENT)

_WHAT: dict[str, Any] = {
    STEP.APPROVE: gettext_lazy("审批"),
    STEP.PAY: gettext_lazy("发放"),
    STEP.VERIFY: gettext_lazy("回访核实"),
}


def refusal_message(matches: list[Match], step: str) -> str:
    """What the refused user reads: why (only what they registered), and who acts instead."""
    why = "；".join(m.for_actor() for m in matches)
    if step == STEP.APPROVE:
        instead = _("请由其他工会主席审批；上级工会主席可在“回避转办”中办理。")
    elif step == STEP.PAY:
        instead = _("请由其他财务人员发放。")
    else:
        instead = _("请由其他人员办理。")
    what = str(_WHAT.get(step, step))
    return _("回避：%(why)s，您不能%(what)s该笔帮扶。%(instead)s") % {
        "why": why,
        "what": what,
        "instead": instead,
    }


def _flag(
    *,
    actor: User,
    step: str,
    matches: list[Match],
    unit: Unit,
    application: Application | None = None,
    claim: Claim | None = None,
    action: str = "",
) -> ConflictFlag:
    """Record the flag (once per user, subject and step) and, for a refused
    step, the attempt; committed on its own when no transaction is open."""
    refused = step in REFUSED_STEPS
    reasons = [m.stored for m in matches]
    subject: dict[str, Any] = (
        {"application": application} if application is not None else {"claim": claim}
    )
    household: Household | None = application.household if application is not None else None
    with transaction.atomic():
        flag, created = ConflictFlag.objects.get_or_create(
            user=actor,
            step=step,
            **subject,
            defaults={"reasons": reasons, "refused": refused, "unit": unit},
        )
        if created or refused:
            audit_record(
                actor=actor,
                action=action or ("conflict.refuse" if refused else "conflict.flag"),
                obj=household if household is not None else claim,
                unit=unit,
                changes={
                    "step": [None, step],
                    "reasons": [None, reasons],
                    **({"application": [None, application.pk]} if application else {}),
                    **({"claim": [None, claim.pk]} if claim else {}),
                },
            )
    return flag


def loaded(application: Application) -> Application:
    """The application with its household, for a caller that passed only its
    id (Application(pk=...)), as the services have always accepted."""
    if application.household_id is None:
        return Application.objects.select_related("household__unit").get(pk=application.pk)
    return application


def conflict_guard(
    *, actor: User, application: Application, step: str, kin: Kin | None = None
) -> None:
    """Refuse `step` ("draft", "approve", "pay", "verify") when the actor has
    a conflict with the application's household, and flag the application.

    Call it first thing in a service, outside its `transaction.atomic`, so
    the flag it records survives the refusal. `kin` is the actor's
    registration when the caller already read it (a batch)."""
    if step not in STEP.values:
        raise ValueError(f"unknown step {step!r}")
    application = loaded(application)
    household = application.household
    matches = household_match(kin if kin is not None else kin_of(actor), household)
    if not matches:
        return
    _flag(actor=actor, step=step, matches=matches, unit=household.unit, application=application)
    if step in REFUSED_STEPS:
        raise ConflictOfInterest(refusal_message(matches, step))


def application_recuse(*, actor: User, application: Application) -> ConflictFlag:
    """回避 declared: a chair who could decide the application but sees on its
    page that she must recuse says so, without trying to decide. The flag is
    the same as a refusal's, so the parent union's chair finds the
    application in 回避转办."""
    application = loaded(application)
    household = application.household
    if not covers(actor, CHAIR, household.unit):
        raise PermissionDenied(_("只有本工会或上级工会的主席可以申请回避。"))
    if application.status not in AWAITING:
        raise ValidationError(
            _("该申请当前为“%(s)s”，不在审批中。") % {"s": application.get_status_display()}
        )
    matches = household_match(kin_of(actor), household)
    if not matches:
        raise ValidationError(_("您与该家庭没有登记的回避关系，请直接审批。"))
    with transaction.atomic():
        return _flag(
            actor=actor,
            step=STEP.APPROVE,
            matches=matches,
            unit=household.unit,
            application=application,
            action="conflict.recuse",
        )


def conflicted(
    *, actor: User, applications: Iterable[Application], step: str
) -> dict[int, ConflictOfInterest]:
    """Guard many applications at once (a batch decision or payment): each
    conflicted one flagged, its refusal returned by application id, the
    registration read once. Load the applications with their households and
    `household__members` to ask no query per line."""
    kin = kin_of(actor)
    if kin.empty:
        return {}
    refusals: dict[int, ConflictOfInterest] = {}
    for application in applications:
        try:
            conflict_guard(actor=actor, application=application, step=step, kin=kin)
        except ConflictOfInterest as exc:
            refusals[application.pk] = exc
    return refusals


def claim_conflict_guard(*, actor: User, claim: Claim, step: str) -> None:
    """The same guard for a mutual-aid claim: the member's own ID number and
    phone, and the household file linked to the member, if any."""
    kin = kin_of(actor)
    if kin.empty:
        return
    member = claim.member
    matches = kin_match(kin, id_numbers=[member.id_number], phone=member.phone, address="")
    if member.household is not None:
        seen = {m.stored for m in matches}
        matches += [m for m in household_match(kin, member.household) if m.stored not in seen]
    if not matches:
        return
    _flag(actor=actor, step=step, matches=matches, unit=member.unit, claim=claim)
    if step in REFUSED_STEPS:
        raise ConflictOfInterest(refusal_message(matches, step))
