"""Complaints (投诉与意见): recorded, owned, answered and closed by a deadline.

Anyone with a role who may read the thing complained about records a
complaint, for themselves or on behalf of a worker who phoned, wrote or
came in. The deadline is a number of working days (the union's complaint
desk, default 15) counted on the notices' calendar. The chair assigns an
owner (by default the nearest chair of the union); the owner or the chair
replies and closes it with a decision. Every move goes through
`complaint_move`, which writes the history row.

A complaint about a named cadre (被投诉干部) is read only by the chairs of the
parent union and by auditors, never by the cadre: `may_see` here and
`visible_q` (the selectors' filter) are the one rule, in two forms.
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Membership, Role, Unit, User
from accounts.scoping import covers, roles_for, unit_q
from cases import clock
from cases.models import Household, IntakeNotice
from cases.selectors.desk import complaint_desk_for
from cases.services.intake import deadline_date

from ..models import (
    AidPayment,
    Application,
    Complaint,
    ComplaintCategory,
    ComplaintChange,
    ComplaintChannel,
    ComplaintDecision,
    ComplaintStatus,
)

S = ComplaintStatus
VIEW = "household.view"
CHAIR = "case.decide"
HANDLERS = frozenset({Role.CASEWORKER, Role.CHAIR})
STAFF = (Role.CASEWORKER, Role.CHAIR, Role.FINANCE, Role.AUDITOR)


class IllegalComplaintMove(ValidationError):
    """A move the transition table does not allow from the current status."""


# A complaint's life. A closed one is reopened (back to 处理中) by a chair
# when the complainant is not satisfied; its deadline stays.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({S.HANDLING, S.CLOSED}),
    S.HANDLING: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.HANDLING}),
}


# -- who sees a complaint: the one rule ---------------------------------------------


def parent_path(unit: Unit) -> str:
    """The parent union's path, from the unit's own ("" for a root)."""
    trimmed = unit.path.rstrip("/")
    return trimmed[: trimmed.rfind("/") + 1] if "/" in trimmed else ""


def _reader_roles(user: User, unit: Unit, subject_id: int | None) -> set[str]:
    """The roles through which `user` reads a complaint of `unit`: any role
    covering the union; for a complaint about a named cadre, only a chair
    of a union above it (at the top union: its own chairs) or an auditor,
    and never the cadre."""
    granted = roles_for(user, VIEW)
    if subject_id is None:
        return {m.role for m in granted if m.unit.covers(unit)}
    if subject_id == user.pk:
        return set()
    above = parent_path(unit) or unit.path
    roles = set()
    for m in granted:
        auditor = m.role == Role.AUDITOR and m.unit.covers(unit)
        if auditor or (m.role == Role.CHAIR and above.startswith(m.unit.path)):
            roles.add(m.role)
    return roles


def may_see(user: User, complaint: Complaint) -> bool:
    return bool(_reader_roles(user, complaint.unit, complaint.subject_id))


def visible_q(user: User) -> Q:
    """`may_see` as a filter on complaints, for lists and lookups."""
    granted = roles_for(user, VIEW)
    if not granted:
        return Q(pk__in=[])
    paths = [m.unit.path for m in granted]
    chairs = [m.unit.path for m in granted if m.role == Role.CHAIR]
    auditors = [m.unit.path for m in granted if m.role == Role.AUDITOR]
    plain = Q(subject__isnull=True, unit__in=Unit.objects.filter(unit_q(paths)))
    readers = Unit.objects.filter(
        unit_q(auditors)
        | unit_q(chairs, prefix="parent__")
        | (Q(parent__isnull=True) & unit_q(chairs))
    )
    cadre = Q(subject__isnull=False, unit__in=readers) & ~Q(subject=user)
    return plain | cadre


def may_assign(user: User, complaint: Complaint) -> bool:
    """A chair who reads it: of the union (or above), or for a complaint
    about a cadre, of the parent union."""
    return Role.CHAIR in _reader_roles(user, complaint.unit, complaint.subject_id)


def may_own(user: User, complaint: Complaint) -> bool:
    """Who may answer it: a caseworker or chair who reads it (not an auditor)."""
    return bool(_reader_roles(user, complaint.unit, complaint.subject_id) & HANDLERS)


def may_handle(user: User, complaint: Complaint) -> bool:
    """Reply and close: the owner, or a chair who may assign it."""
    owner = complaint.owner_id == user.pk and may_own(user, complaint)
    return owner or may_assign(user, complaint)


def _handlers(unit: Unit, subject_id: int | None) -> Any:
    """`may_own` as a query: the memberships through which someone may
    answer a complaint of `unit`: a caseworker's or chair's role at the
    union or above; for one about a cadre, a chair's at the parent union or
    above (at the top union, its own), never the cadre's."""
    ids = [int(p) for p in unit.path.split("/") if p]
    roles: Any = HANDLERS
    if subject_id is not None:
        ids = ids[:-1] or ids
        roles = {Role.CHAIR}
    found = Membership.objects.filter(
        role__in=roles, unit_id__in=ids, unit__is_active=True, user__is_active=True
    )
    return found.exclude(user_id=subject_id) if subject_id is not None else found


def owners_for(complaint: Complaint) -> Any:
    """Those the chair may name as owner, in one query."""
    handlers = _handlers(complaint.unit, complaint.subject_id).values("user_id")
    return User.objects.filter(pk__in=handlers).order_by("full_name", "username")


def default_owner(unit: Unit, subject_id: int | None) -> User | None:
    """The nearest chair who may handle it: of the union or the one above it
    (for a complaint about a cadre, of the parent union), never the cadre."""
    chairs = _handlers(unit, subject_id).filter(role=Role.CHAIR)
    first = chairs.select_related("user").order_by("-unit__depth", "user_id").first()
    return first.user if first is not None else None


# -- recording ---------------------------------------------------------------------


def target_unit(target: Household | IntakeNotice | Application | AidPayment) -> Unit:
    if isinstance(target, Household | IntakeNotice):
        return target.unit
    if isinstance(target, Application):
        return target.household.unit
    return target.application.household.unit


def _link(target: Any) -> dict[str, Any]:
    for field, model in (
        ("household", Household),
        ("notice", IntakeNotice),
        ("application", Application),
        ("payment", AidPayment),
    ):
        if isinstance(target, model):
            return {field: target}
    raise ValidationError(_("请选择投诉涉及的家庭、公示、申请或发放。"))


def cadres_of(unit: Unit) -> Any:
    """The people who may be named in a complaint of `unit`: those with a
    working role at the union or a union above it."""
    ids = [int(p) for p in unit.path.split("/") if p]
    staff = Membership.objects.filter(unit_id__in=ids, role__in=STAFF).values("user_id")
    return User.objects.filter(is_active=True, pk__in=staff).order_by("full_name", "username")


def _need(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


@transaction.atomic
def complaint_record(
    *,
    actor: User,
    target: Household | IntakeNotice | Application | AidPayment,
    category: str,
    channel: str,
    content: str,
    complainant_name: str = "",
    complainant_phone: str = "",
    subject: User | None = None,
    received_on: datetime.date | None = None,
) -> Complaint:
    unit = target_unit(target)
    if not covers(actor, VIEW, unit):
        raise PermissionDenied(_("您无权登记该工会的投诉。"))
    if category not in ComplaintCategory.values:
        raise ValidationError({"category": _("请选择投诉类别。")})
    if channel not in ComplaintChannel.values:
        raise ValidationError({"channel": _("请选择投诉渠道。")})
    content = _need(content, "content", _("请填写投诉内容。"))
    today = clock.today()
    received_on = received_on or today
    if received_on > today:
        raise ValidationError({"received_on": _("受理日期不能晚于今天。")})
    if received_on < today - datetime.timedelta(days=366):
        raise ValidationError({"received_on": _("受理日期不能早于一年前。")})
    name = (complainant_name or "").strip()
    if channel == ComplaintChannel.ONLINE and not name:
        name = actor.full_name or actor.username
    if subject is not None and not cadres_of(unit).filter(pk=subject.pk).exists():
        raise ValidationError({"subject": _("被投诉干部须是该工会或上级工会的工作人员。")})
    desk = complaint_desk_for(unit)
    days = desk.working_days if desk is not None else 15
    complaint = Complaint.objects.create(
        unit=unit,
        **_link(target),
        category=category,
        channel=channel,
        complainant_name=name,
        complainant_phone=(complainant_phone or "").strip(),
        content=content,
        subject=subject,
        received_on=received_on,
        working_days=days,
        deadline=deadline_date(received_on, days),
        owner=default_owner(unit, subject.pk if subject else None),
        recorded_by=actor,
    )
    ComplaintChange.objects.create(
        complaint=complaint,
        from_status="",
        to_status=S.OPEN,
        actor=actor,
        at=clock.now(),
        reason=_("受理，办结期限 %(d)s。") % {"d": complaint.deadline.isoformat()},
    )
    # The complainant's name and contact stay out of the trail.
    audit_record(
        actor=actor,
        action="complaint.record",
        obj=complaint,
        unit=unit,
        changes={
            "category": [None, category],
            "channel": [None, channel],
            "deadline": [None, complaint.deadline.isoformat()],
            "subject": [None, bool(subject)],
        },
    )
    return complaint


# -- moves -------------------------------------------------------------------------


def complaint_lock(complaint: Complaint) -> Complaint:
    # of=("self",): the complaint only, not its union's row.
    locked = Complaint.objects.select_for_update(no_key=True, of=("self",)).select_related(
        "unit", "owner"
    )
    return locked.get(pk=complaint.pk)


def complaint_move(
    *, actor: User, complaint: Complaint, to: str, action: str, reason: str = "",
    changes: dict[str, Any] | None = None, reassign: bool = False,
) -> Complaint:  # fmt: skip
    """The one place a complaint's status changes. The caller holds the row
    lock; the history row and the audit event go in its transaction. A new
    owner (`reassign`) keeps the status and is a history row too."""
    before = complaint.status
    same = reassign and to == before
    if not same and to not in TRANSITIONS.get(before, frozenset()):
        raise IllegalComplaintMove(
            _("该投诉当前为“%(f)s”，不能变为“%(t)s”。") % {"f": S(before).label, "t": S(to).label}
        )
    complaint.status = to
    complaint.save()
    ComplaintChange.objects.create(
        complaint=complaint,
        from_status=before,
        to_status=to,
        actor=actor,
        at=clock.now(),
        reason=(reason or "").strip(),
    )
    audit_record(
        actor=actor,
        action=action,
        obj=complaint,
        unit=complaint.unit,
        changes={"status": [before, to], **(changes or {})},
    )
    return complaint


def _check_handler(actor: User, complaint: Complaint) -> None:
    if not may_handle(actor, complaint):
        raise PermissionDenied(_("只有承办人或主席可以处理该投诉。"))


@transaction.atomic
def complaint_assign(
    *, actor: User, complaint: Complaint, owner: User, note: str = ""
) -> Complaint:
    """The chair names who answers it."""
    complaint = complaint_lock(complaint)
    if not may_assign(actor, complaint):
        raise PermissionDenied(_("只有有权查看该投诉的主席可以指定承办人。"))
    if complaint.status == S.CLOSED:
        raise IllegalComplaintMove(_("已办结的投诉不能更换承办人。"))
    if not may_own(owner, complaint):
        raise ValidationError({"owner": _("承办人须是有权查看该投诉的帮扶干部或主席。")})
    before = str(complaint.owner) if complaint.owner else None
    complaint.owner = owner
    reason = _("指定承办人：%(o)s。") % {"o": owner} + (" " + note.strip() if note.strip() else "")
    return complaint_move(
        actor=actor, complaint=complaint, to=complaint.status, action="complaint.assign",
        reason=reason, changes={"owner": [before, str(owner)]}, reassign=True,
    )  # fmt: skip


@transaction.atomic
def complaint_reply(*, actor: User, complaint: Complaint, reply: str) -> Complaint:
    """Record the answer given so far; an open complaint is now 处理中."""
    complaint = complaint_lock(complaint)
    _check_handler(actor, complaint)
    reply = _need(reply, "reply", _("请填写答复意见。"))
    if complaint.status == S.CLOSED:
        raise IllegalComplaintMove(_("已办结的投诉不能再答复；如需重新处理，请主席重新办理。"))
    complaint.reply = reply
    return complaint_move(
        actor=actor, complaint=complaint, to=S.HANDLING, action="complaint.reply",
        reason=_("答复：%(r)s") % {"r": reply},
    )  # fmt: skip


@transaction.atomic
def complaint_close(*, actor: User, complaint: Complaint, decision: str, reply: str) -> Complaint:
    """Close it with a decision (成立/部分成立/不成立) and the reply given;
    whether it was on time follows from the day and the deadline."""
    complaint = complaint_lock(complaint)
    _check_handler(actor, complaint)
    if decision not in ComplaintDecision.values:
        raise ValidationError({"decision": _("请选择办理结论。")})
    reply = _need(reply, "reply", _("办结时须填写答复意见。"))
    now = clock.now()
    complaint.reply = reply
    complaint.decision = decision
    complaint.closed_at = now
    complaint.closed_on = clock.today()
    complaint.closed_by = actor
    late = complaint.closed_on > complaint.deadline
    reason = _("办结，结论：%(d)s。") % {"d": ComplaintDecision(decision).label}
    if late:
        reason += _("超过办结期限 %(d)s。") % {"d": complaint.deadline.isoformat()}
    return complaint_move(
        actor=actor, complaint=complaint, to=S.CLOSED, action="complaint.close",
        reason=reason, changes={"decision": [None, decision], "late": [None, late]},
    )  # fmt: skip


@transaction.atomic
def complaint_reopen(*, actor: User, complaint: Complaint, reason: str) -> Complaint:
    """A chair reopens a closed complaint (the complainant was not satisfied)."""
    complaint = complaint_lock(complaint)
    if not may_assign(actor, complaint):
        raise PermissionDenied(_("只有有权查看该投诉的主席可以重新办理。"))
    reason = _need(reason, "reason", _("重新办理须填写理由。"))
    if complaint.status != S.CLOSED:
        raise IllegalComplaintMove(_("只有已办结的投诉可以重新办理。"))
    previous = complaint.decision
    complaint.decision = ""
    complaint.closed_at = None
    complaint.closed_on = None
    complaint.closed_by = None
    return complaint_move(
        actor=actor, complaint=complaint, to=S.HANDLING, action="complaint.reopen",
        reason=reason, changes={"decision": [previous, None]},
    )  # fmt: skip
