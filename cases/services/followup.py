"""Helpers (结对帮扶人) and follow-up visits of filed households.

A helper's next visit falls due a configurable number of months after their
last visit (or, before the first one, after the pairing started). The lists
never compute that date row by row: "overdue" is the same as "last visit (or
start) before a cutoff date", and the cutoff is worked out once per request
(`visit_cutoff`), so the database can filter and sort on an index.
"""

import calendar
import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.idempotency import replay_of
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


def visit_interval(rules: CaseRules | None = None) -> int:
    """Months between visits; `rules` when the caller already read them."""
    return max(1, (rules or CaseRules.current()).visit_interval_months)


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
    ancestors = _ancestor_ids(household.unit)
    holders = Membership.objects.filter(
        unit_id__in=ancestors, unit__is_active=True, role__in=HELPER_ROLES
    ).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("full_name", "username")


def _ancestor_ids(unit: Unit) -> list[int]:
    return [int(p) for p in unit.path.split("/") if p]


def roster_choices(household: Household) -> Any:
    """Roster people who may be paired with the household: those in the
    roster of its union or of a union above it, still on the roster."""
    return (
        HelperPerson.objects.filter(unit_id__in=_ancestor_ids(household.unit), is_active=True)
        .select_related("unit")
        .order_by("-unit__depth", "name", "id")
    )


def roster_logins(unit: Unit) -> Any:
    """Logins a roster entry of `unit` may be linked to: active users with a
    role in that union or a union above it."""
    holders = Membership.objects.filter(
        unit_id__in=_ancestor_ids(unit), unit__is_active=True
    ).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("full_name", "username")


def helper_capacity(rules: CaseRules | None = None) -> tuple[int, bool]:
    """(helpers per household, is the first helper counted on top?). One
    place for the rule: the assignment check and the household page ask here."""
    rules = rules or CaseRules.current()
    return max(1, rules.helpers_per_household), rules.first_helper_extra


def helper_room(active_count: int, rules: CaseRules | None = None) -> bool:
    """May one more helper be paired with a household that has `active_count`?

    With the first helper counted on top, a household holds the usual number
    plus the first; there is always exactly one first among active helpers,
    so that is one more place in all."""
    limit, extra = helper_capacity(rules)
    return active_count < limit + (1 if extra else 0)


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


# -- the helper roster (帮扶人名册) ------------------------------------------------

ROSTER_FIELDS = ("name", "post", "workplace", "phone", "user")


def _check_roster_worker(actor: User, unit: Unit) -> None:
    if not covers(actor, "household.edit", unit):
        raise PermissionDenied(_("您无权维护该工会的帮扶人名册。"))


def _clean_roster(unit: Unit, data: dict[str, Any], *, exclude_pk: int | None) -> dict[str, Any]:
    clean = {f: data.get(f) for f in ROSTER_FIELDS}
    for f in ("name", "post", "workplace", "phone"):
        clean[f] = (clean[f] or "").strip()
    if not clean["name"]:
        raise ValidationError({"name": _("请填写帮扶人姓名。")})
    user = clean["user"]
    if user is not None:
        if not roster_logins(unit).filter(pk=user.pk).exists():
            raise ValidationError(
                {"user": _("账号“%(u)s”不属于本工会或其上级工会，不能关联。") % {"u": user}}
            )
        taken = HelperPerson.objects.filter(unit=unit, user=user)
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        holder = taken.first()
        if holder is not None:
            raise ValidationError(
                {
                    "user": _("账号“%(u)s”已关联名册中的“%(n)s”，每个账号在一个工会只能关联一人。")
                    % {"u": user, "n": holder.name}
                }
            )
    return clean


def _roster_snapshot(person: HelperPerson) -> dict[str, Any]:
    return {
        "name": person.name,
        "post": person.post,
        "workplace": person.workplace,
        "phone": person.phone,
        "user": str(person.user) if person.user_id else None,
        "is_active": person.is_active,
    }


@transaction.atomic
def helper_person_create(*, actor: User, unit: Unit, data: dict[str, Any]) -> HelperPerson:
    """Add someone to a union's helper roster; a login is optional."""
    _check_roster_worker(actor, unit)
    clean = _clean_roster(unit, data, exclude_pk=None)
    person = HelperPerson.objects.create(unit=unit, created_by=actor, **clean)
    audit_record(
        actor=actor,
        action="helper_person.create",
        obj=person,
        unit=unit,
        changes={k: [None, v] for k, v in _roster_snapshot(person).items() if v not in ("", None)},
    )
    return person


@transaction.atomic
def helper_person_update(
    *, actor: User, person: HelperPerson, data: dict[str, Any]
) -> HelperPerson:
    """Correct a roster entry. Its pairings follow a changed login, so
    "my households" shows them to the new one."""
    person = (
        HelperPerson.objects.select_for_update(no_key=True).select_related("unit").get(pk=person.pk)
    )
    _check_roster_worker(actor, person.unit)
    before = _roster_snapshot(person)
    # Fields the caller leaves out keep their values.
    merged = {f: getattr(person, f) for f in ROSTER_FIELDS}
    merged.update(data)
    clean = _clean_roster(person.unit, merged, exclude_pk=person.pk)
    user_changed = (clean["user"].pk if clean["user"] else None) != person.user_id
    for f, v in clean.items():
        setattr(person, f, v)
    person.save()
    if user_changed:
        Helper.objects.filter(person=person, end_on=None).update(user=person.user)
    after = _roster_snapshot(person)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(
            actor=actor,
            action="helper_person.update",
            obj=person,
            unit=person.unit,
            changes=changes,
        )
    return person


@transaction.atomic
def helper_person_set_active(*, actor: User, person: HelperPerson, active: bool) -> HelperPerson:
    """Take someone off the roster (or back on). Someone still paired with a
    household stays until those pairings are ended: a household must never
    lose a helper without a recorded end."""
    person = (
        HelperPerson.objects.select_for_update(no_key=True).select_related("unit").get(pk=person.pk)
    )
    _check_roster_worker(actor, person.unit)
    if person.is_active == active:
        return person
    if not active:
        paired = Helper.objects.filter(person=person, end_on=None).count()
        if paired:
            raise ValidationError(
                _("“%(n)s”仍与 %(c)d 户家庭结对，请先在这些家庭页面结束帮扶，再移出名册。")
                % {"n": person.name, "c": paired}
            )
    person.is_active = active
    person.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="helper_person.activate" if active else "helper_person.deactivate",
        obj=person,
        unit=person.unit,
        changes={"is_active": [not active, active]},
    )
    return person


# -- pairings -----------------------------------------------------------------------


@transaction.atomic
def helper_assign(
    *,
    actor: User,
    household: Household,
    role: str,
    is_first: bool,
    start_on: datetime.date,
    person: HelperPerson | None = None,
    user: User | None = None,
) -> Helper:
    """Pair a roster person with a filed household, within the number of
    helpers the rules allow, exactly one of them the first helper. A new
    first helper takes the flag over. Passing a `user` instead of a person
    pairs that login's roster entry (made on first use)."""
    household = household_lock(household)
    _check_worker(actor, household)
    _need_filed(household)
    if role not in HelperRole.values:
        raise ValidationError({"role": _("请选择帮扶人身份。")})
    if start_on > clock.today():
        raise ValidationError({"start_on": _("开始日期不能晚于今天。")})
    # Errors name the field the caller filled in: the roster person, or the login.
    field = "person" if person is not None else "user"
    if person is None:
        if user is None:
            raise ValidationError({"person": _("请选择帮扶人。")})
        if not eligible_helpers(household).filter(pk=user.pk).exists():
            raise ValidationError(
                {
                    "user": _("“%(u)s”不在该家庭所属工会或其上级工会任职，不能担任帮扶人。")
                    % {"u": user}
                }
            )
        person = roster_person_for(unit=household.unit, user=user)
    elif not roster_choices(household).filter(pk=person.pk).exists():
        raise ValidationError(
            {
                "person": _("“%(p)s”不在该家庭所属工会或其上级工会的帮扶人名册中，不能担任帮扶人。")
                % {"p": person}
            }
        )
    # Locked so two people adding helpers at once cannot both take the last place.
    active = list(
        Helper.objects.select_for_update(no_key=True).filter(household=household, end_on=None)
    )
    if any(
        h.person_id == person.pk or (person.user_id and h.user_id == person.user_id) for h in active
    ):
        raise ValidationError({field: _("“%(p)s”已是该家庭的帮扶人。") % {"p": person}})
    if not helper_room(len(active)):
        limit, extra = helper_capacity()
        message = (
            _("每户最多 %(n)d 名结对帮扶人，另加第一帮扶人 1 名，请先结束一名现有帮扶人的帮扶。")
            if extra
            else _("每户最多 %(n)d 名结对帮扶人，请先结束一名现有帮扶人的帮扶。")
        )
        raise ValidationError(message % {"n": limit})
    previous_first = next((h for h in active if h.is_first), None)
    first = is_first or previous_first is None
    if first and previous_first is not None:
        previous_first.is_first = False
        previous_first.save(update_fields=["is_first"])
    helper = Helper.objects.create(
        household=household,
        person=person,
        user_id=person.user_id,
        role=role,
        is_first=first,
        start_on=start_on,
    )
    changes: dict[str, list[Any]] = {
        "helper": [None, f"{person} {helper.get_role_display()}"],
        "start_on": [None, start_on.isoformat()],
    }
    if first:
        changes["first_helper"] = [
            str(previous_first.person) if previous_first else None,
            str(person),
        ]
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
    helper = (
        Helper.objects.select_for_update(no_key=True).select_related("person").get(pk=helper.pk)
    )
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
        "helper": [str(helper.person), None],
        "end_on": [None, end_on.isoformat()],
        "reason": [None, reason],
    }
    if was_first:
        successor = (
            Helper.objects.select_for_update(no_key=True)
            .filter(household=household, end_on=None)
            .order_by("start_on", "id")
            .select_related("person")
            .first()
        )
        if successor is not None:
            successor.is_first = True
            successor.save(update_fields=["is_first"])
            changes["first_helper"] = [str(helper.person), str(successor.person)]
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


def _visit_by_key(actor: User, client_key: uuid.UUID) -> Visit | None:
    visit = Visit.objects.filter(visitor=actor, client_key=client_key).first()
    if visit is not None:
        visit.replayed = True
    return visit


@transaction.atomic
def visit_log(
    *,
    actor: User,
    household: Household,
    data: dict[str, Any],
    photos: Sequence[UploadedFile] = (),
    on_behalf_of: HelperPerson | None = None,
    client_key: uuid.UUID | None = None,
) -> Visit:
    """Log a follow-up visit of a filed household with its photos; the visit
    counts for the actor's own pairing with the household, if any.

    A caseworker may record the visit of a helper without a login
    (`on_behalf_of`): the visit keeps both names, and counts for that
    helper's pairing instead of the caseworker's.

    `client_key` is the key the phone (or an API client) gave the visit when
    it was written down. A visit already logged by the actor under that key
    is returned as it is, marked `replayed`, and nothing is written: a draft
    sent again after a lost answer, or from two tabs at once, is one visit."""
    if client_key is not None:
        earlier = replay_of(_visit_by_key(actor, client_key), household=household)
        if earlier is not None:
            return earlier
    household = household_lock(household)
    if client_key is not None:
        # A twin send for the same household waited on the lock above and
        # may have committed meanwhile.
        earlier = replay_of(_visit_by_key(actor, client_key), household=household)
        if earlier is not None:
            return earlier
    if not may_log_visit(actor, household):
        raise PermissionDenied(_("您不是该家庭的帮扶人，也无权处理该工会的档案。"))
    _need_filed(household)
    pairing: Helper | None = None
    if on_behalf_of is not None:
        if not covers(actor, "household.edit", household.unit):
            raise PermissionDenied(_("只有本工会的经办人或主席可以代帮扶人登记走访。"))
        pairing = (
            Helper.objects.select_for_update(no_key=True)
            .filter(household=household, person=on_behalf_of, end_on=None)
            .first()
        )
        if pairing is None:
            raise ValidationError(
                {
                    "on_behalf_of": _("“%(p)s”不是该家庭当前的帮扶人，不能代其登记走访。")
                    % {"p": on_behalf_of}
                }
            )
    if data.get("kind") not in (None, *VisitKind.values):
        raise ValidationError({"kind": _("请选择走访方式。")})
    visited_on = data.get("visited_on") or clock.today()
    follow_up = data.get("follow_up_on")
    if follow_up is not None and follow_up < visited_on:
        raise ValidationError({"follow_up_on": _("下次跟进日期不能早于走访日期。")})
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("每次走访最多上传 %(n)d 张照片。") % {"n": MAX_PHOTOS}})
    typed = [(upload, photo_type(upload)) for upload in photos]
    try:
        with transaction.atomic():
            visit = visit_record(
                actor=actor,
                household=household,
                data={**data, "visited_on": visited_on},
                is_intake=False,
            )
            if client_key is not None:
                visit.client_key = client_key
                visit.save(update_fields=["client_key"])
    except IntegrityError:
        # The same key sent at the same moment for another household: the
        # unique constraint let one through; the other is not its replay.
        earlier = _visit_by_key(actor, client_key) if client_key is not None else None
        if earlier is None:
            raise
        replayed = replay_of(earlier, household=household)
        assert replayed is not None
        return replayed
    if pairing is not None:
        # visit_record keeps the recorder as the visitor; the helper who
        # actually went is named beside them.
        visit.on_behalf_of = on_behalf_of
        visit.save(update_fields=["on_behalf_of"])
        audit_record(
            actor=actor,
            action="visit.on_behalf",
            obj=household,
            unit=household.unit,
            changes={"on_behalf_of": [None, str(on_behalf_of)]},
        )
    own = pairing or (
        Helper.objects.select_for_update(no_key=True)
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
