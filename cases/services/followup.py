"""Helpers (结对帮扶人) and follow-up visits of filed households.

A helper's next visit falls due a configurable number of months after their
last visit (or, before the first one, after the pairing started). The lists
never compute that date row by row: "overdue" is the same as "last visit (or
start) before a cutoff date", and the cutoff is worked out once per request
(`visit_cutoff`), so the database can filter and sort on an index.
"""

import calendar
import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Membership, Role, Unit, User
from accounts.scoping import covers

from .. import clock
from ..models import (
    CaseRules,
    Helper,
    HelperPerson,
    HelperRole,
    Household,
    Visit,
    VisitKind,
    VisitPhoto,
)
from ..models import HouseholdStatus as S
from ..uploads import SUFFIX, checked_upload
from .intake import household_lock, visit_record

MAX_HELPERS = 3
MAX_PHOTOS = 10

# Who may be paired with a household: people who work its cases or its money.
# Auditors are left out: oversight stays independent of the work it checks.
HELPER_ROLES = frozenset({Role.CASEWORKER, Role.CHAIR, Role.FINANCE})


# -- due dates ---------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def visit_interval() -> int:
    return max(1, CaseRules.current().visit_interval_months)


def due_on(helper: Helper, months: int) -> datetime.date:
    return add_months(helper.last_visited_on or helper.start_on, months)


def visit_cutoff(today: datetime.date, months: int) -> datetime.date:
    """The earliest base date (last visit or start) whose visit is not yet overdue.

    A helper is overdue when base + months < today. Month ends make
    `today - months` alone slightly wrong (on 31 May, a visit on 28 February
    fell due on 28 May), so step to the exact edge: every base before the
    cutoff is overdue, the cutoff and every later base is not.
    """
    cutoff = add_months(today, -months)
    while add_months(cutoff, months) < today:
        cutoff += datetime.timedelta(days=1)
    while add_months(cutoff - datetime.timedelta(days=1), months) >= today:
        cutoff -= datetime.timedelta(days=1)
    return cutoff


def is_overdue(helper: Helper, cutoff: datetime.date) -> bool:
    return (helper.last_visited_on or helper.start_on) < cutoff


# -- helpers -------------------------------------------------------------------------


def eligible_helpers(household: Household) -> Any:
    """Users who hold a working role in the household's unit or a unit above it."""
    ancestors = [int(p) for p in household.unit.path.split("/") if p]
    holders = Membership.objects.filter(
        unit_id__in=ancestors, unit__is_active=True, role__in=HELPER_ROLES
    ).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("full_name", "username")


def _check_worker(actor: User, household: Household) -> None:
    if not covers(actor, "household.edit", household.unit):
        raise PermissionDenied(_("您无权处理该工会的档案。"))


def _need_filed(household: Household) -> None:
    if household.status != S.FILED:
        raise ValidationError(
            _("只有已建档的家庭才能结对帮扶和登记走访（当前为“%(s)s”）。")
            % {"s": S(household.status).label}
        )


def roster_person_for(*, unit: Unit, user: User) -> HelperPerson:
    """The roster entry of a helper who has a login, made on first pairing."""
    person, _created = HelperPerson.objects.get_or_create(
        unit=unit,
        user=user,
        defaults={"name": user.full_name or user.username, "phone": user.phone},
    )
    return person


@transaction.atomic
def helper_assign(
    *,
    actor: User,
    household: Household,
    user: User,
    role: str,
    is_first: bool,
    start_on: datetime.date,
) -> Helper:
    """Pair a helper with a filed household: at most three at a time, exactly
    one of them the first helper. A new first helper takes the flag over."""
    household = household_lock(household)
    _check_worker(actor, household)
    _need_filed(household)
    if role not in HelperRole.values:
        raise ValidationError({"role": _("请选择帮扶人身份。")})
    if start_on > clock.today():
        raise ValidationError({"start_on": _("开始日期不能晚于今天。")})
    if not eligible_helpers(household).filter(pk=user.pk).exists():
        raise ValidationError(
            {"user": _("“%(u)s”不在该家庭所属工会或其上级工会任职，不能担任帮扶人。") % {"u": user}}
        )
    # Locked so two people adding helpers at once cannot both take the third place.
    active = list(Helper.objects.select_for_update().filter(household=household, end_on=None))
    if any(h.user_id == user.pk for h in active):
        raise ValidationError({"user": _("“%(u)s”已是该家庭的帮扶人。") % {"u": user}})
    if len(active) >= MAX_HELPERS:
        raise ValidationError(
            _("每户最多 %(n)d 名结对帮扶人，请先结束一名现有帮扶人的帮扶。") % {"n": MAX_HELPERS}
        )
    previous_first = next((h for h in active if h.is_first), None)
    first = is_first or previous_first is None
    if first and previous_first is not None:
        previous_first.is_first = False
        previous_first.save(update_fields=["is_first"])
    person = roster_person_for(unit=household.unit, user=user)
    helper = Helper.objects.create(
        household=household, person=person, user=user, role=role, is_first=first, start_on=start_on
    )
    changes: dict[str, list[Any]] = {
        "helper": [None, f"{user} {helper.get_role_display()}"],
        "start_on": [None, start_on.isoformat()],
    }
    if first:
        changes["first_helper"] = [str(previous_first.user) if previous_first else None, str(user)]
    audit_record(
        actor=actor, action="helper.assign", obj=household, unit=household.unit, changes=changes
    )
    return helper


@transaction.atomic
def helper_end(*, actor: User, helper: Helper, end_on: datetime.date, reason: str) -> Helper:
    """End a pairing. If it was the first helper, the longest-serving remaining
    helper becomes first, so a household with helpers always has one."""
    household = household_lock(helper.household)
    _check_worker(actor, household)
    helper = Helper.objects.select_for_update().select_related("user").get(pk=helper.pk)
    if helper.end_on is not None:
        raise ValidationError(_("该帮扶人的帮扶已于 %(d)s 结束。") % {"d": helper.end_on})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写结束帮扶的原因。")})
    if end_on > clock.today():
        raise ValidationError({"end_on": _("结束日期不能晚于今天。")})
    if end_on < helper.start_on:
        raise ValidationError(
            {"end_on": _("结束日期不能早于开始日期 %(d)s。") % {"d": helper.start_on}}
        )
    helper.end_on = end_on
    helper.end_reason = reason
    was_first = helper.is_first
    helper.is_first = False
    helper.save(update_fields=["end_on", "end_reason", "is_first"])
    changes: dict[str, list[Any]] = {
        "helper": [str(helper.user), None],
        "end_on": [None, end_on.isoformat()],
        "reason": [None, reason],
    }
    if was_first:
        successor = (
            Helper.objects.select_for_update()
            .filter(household=household, end_on=None)
            .order_by("start_on", "id")
            .select_related("user")
            .first()
        )
        if successor is not None:
            successor.is_first = True
            successor.save(update_fields=["is_first"])
            changes["first_helper"] = [str(helper.user), str(successor.user)]
    audit_record(
        actor=actor, action="helper.end", obj=household, unit=household.unit, changes=changes
    )
    return helper


# -- visits -------------------------------------------------------------------------


def photo_type(upload: UploadedFile) -> str:
    """The photo's real type (JPEG or PNG) from its first bytes, or a
    ValidationError naming the file and why it was refused."""
    try:
        return checked_upload(upload, images_only=True, match_extension=False)
    except ValidationError as exc:
        name = upload.name or _("照片")
        raise ValidationError([f"“{name}”：{m}" for m in exc.messages]) from None


def is_active_helper(user: User, household: Household) -> bool:
    return Helper.objects.filter(household=household, user=user, end_on=None).exists()


def may_log_visit(user: User, household: Household) -> bool:
    """Caseworkers and chairs of the unit, and the household's own helpers,
    whatever their role."""
    return covers(user, "household.edit", household.unit) or is_active_helper(user, household)


@transaction.atomic
def visit_log(
    *,
    actor: User,
    household: Household,
    data: dict[str, Any],
    photos: Sequence[UploadedFile] = (),
) -> Visit:
    """Log a follow-up visit of a filed household with its photos; the visit
    counts for the actor's own pairing with the household, if any."""
    household = household_lock(household)
    if not may_log_visit(actor, household):
        raise PermissionDenied(_("您不是该家庭的帮扶人，也无权处理该工会的档案。"))
    _need_filed(household)
    if data.get("kind") not in (None, *VisitKind.values):
        raise ValidationError({"kind": _("请选择走访方式。")})
    visited_on = data.get("visited_on") or clock.today()
    follow_up = data.get("follow_up_on")
    if follow_up is not None and follow_up < visited_on:
        raise ValidationError({"follow_up_on": _("下次跟进日期不能早于走访日期。")})
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("每次走访最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}})
    typed = [(upload, photo_type(upload)) for upload in photos]
    visit = visit_record(
        actor=actor, household=household, data={**data, "visited_on": visited_on}, is_intake=False
    )
    own = (
        Helper.objects.select_for_update()
        .filter(household=household, user=actor, end_on=None)
        .first()
    )
    if own is not None and (own.last_visited_on is None or visited_on > own.last_visited_on):
        own.last_visited_on = visited_on
        own.save(update_fields=["last_visited_on"])
    saved: list[str] = []
    try:
        for upload, content_type in typed:
            photo = VisitPhoto(visit=visit, content_type=content_type, size=upload.size or 0)
            ext = SUFFIX[content_type]
            # Our own name: a phone's file name may carry a place or a person.
            photo.file.save(f"visit-{visit.pk}.{ext}", upload, save=False)
            saved.append(photo.file.name)
            photo.save()
    except Exception:
        storage = VisitPhoto._meta.get_field("file").storage  # type: ignore[attr-defined]
        for name in saved:
            storage.delete(name)
        raise
    if typed:
        audit_record(
            actor=actor,
            action="visit.photos",
            obj=household,
            unit=household.unit,
            changes={"photos": [None, len(typed)]},
        )
    return visit


@transaction.atomic
def visit_photo_open(*, actor: User, photo: VisitPhoto) -> VisitPhoto:
    """Record that someone looked at a visit photo: it shows a family's home."""
    household = photo.visit.household
    audit_record(
        actor=actor,
        action="visit.photo_view",
        obj=household,
        unit=household.unit,
        changes={"photo": [None, photo.pk]},
    )
    return photo
