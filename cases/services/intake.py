"""The intake workflow (一进二看三算四议五评六公示七确认) as one state machine.

Every move goes through `transition`: the caller holds the row lock (`household_lock`); the
move is checked against the one transition table and the actor's rights, and
writes a StatusChange row and an audit event in the same transaction.
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.middleware import current_ip
from accounts.models import AuditEvent, Unit, User
from accounts.money import ZERO
from accounts.scoping import covers

from .. import clock, workdays
from ..meanstest import Band, MeansInput, MeansResult, Rule, assess
from ..models import (
    Assessment,
    CaseRules,
    Discussion,
    FileNumberCounter,
    Holiday,
    Household,
    IntakeNotice,
    LocalStandard,
    NoticeEntry,
    Objection,
    ObjectionOutcome,
    StatusChange,
    Tier,
    Visit,
)
from ..models import HouseholdStatus as S
from .households import check_id_free, per_capita_monthly


class IllegalTransition(ValidationError):
    """A move the transition table does not allow from the current status."""


# The forward steps of intake, in order.
INTAKE_STEPS: list[str] = [
    S.DRAFT, S.VISITED, S.ASSESSED, S.DISCUSSED, S.EVALUATED, S.NOTICED, S.FILED,
]  # fmt: skip

WORKER = "household.edit"  # a caseworker or a chair of the unit (or above)
CHAIR = "case.decide"  # a chair of the unit (or above), not the submitter

# from → {to: who may make the move}. The only place moves are defined.
TRANSITIONS: dict[str, dict[str, str]] = {
    S.DRAFT: {S.VISITED: WORKER, S.REJECTED: CHAIR},
    S.VISITED: {S.ASSESSED: WORKER, S.DRAFT: WORKER, S.REJECTED: CHAIR},
    S.ASSESSED: {S.DISCUSSED: WORKER, S.VISITED: WORKER, S.REJECTED: CHAIR},
    S.DISCUSSED: {S.EVALUATED: CHAIR, S.ASSESSED: WORKER, S.REJECTED: CHAIR},
    S.EVALUATED: {S.NOTICED: WORKER, S.DISCUSSED: CHAIR, S.REJECTED: CHAIR},
    S.NOTICED: {S.FILED: CHAIR, S.EVALUATED: CHAIR, S.REJECTED: CHAIR},
    S.FILED: {S.EXITED: CHAIR},
    S.EXITED: {S.DRAFT: WORKER},
    S.REJECTED: {S.DRAFT: WORKER},
}

INCOME_FIELDS = (
    "income_wages", "income_business", "income_property", "income_transfer", "income_other",
)  # fmt: skip
EXPENSE_FIELDS = (
    "expense_medical", "expense_disability", "expense_education", "expense_housing",
)  # fmt: skip


def _label(status: str) -> str:
    return str(S(status).label)


def check_actor(actor: User, household: Household, who: str) -> None:
    """Refuse a move the actor may not make (PermissionDenied, so a 403)."""
    if not covers(actor, who, household.unit):
        if who == CHAIR:
            raise PermissionDenied(_("只有本工会或上级工会的主席可以执行此操作。"))
        raise PermissionDenied(_("您无权处理该工会的档案。"))
    if who == CHAIR and household.submitted_by_id == actor.pk:
        raise PermissionDenied(_("提交该档案的人员不能自己评定、确认或驳回。"))


def allowed_moves(household: Household) -> dict[str, str]:
    return TRANSITIONS.get(household.status, {})


def household_lock(household: Household) -> Household:
    # of=("self",): lock the household only. A bare FOR UPDATE over the join
    # would lock its union's row too and queue every case of that union.
    locked = Household.objects.select_for_update(no_key=True, of=("self",)).select_related("unit")
    return locked.get(pk=household.pk)


def transition(
    *, actor: User, household: Household, to: str, reason: str = "", action: str = ""
) -> Household:
    allowed = allowed_moves(household)
    if to not in allowed:
        raise IllegalTransition(
            _("档案当前为“%(from)s”，不能变为“%(to)s”。")
            % {"from": _label(household.status), "to": _label(to)}
        )
    check_actor(actor, household, allowed[to])
    previous = household.status
    household.status = to
    household.save(update_fields=["status", "updated_at"])
    StatusChange.objects.create(
        household=household,
        from_status=previous,
        to_status=to,
        actor=actor,
        at=clock.now(),
        reason=reason,
    )
    changes: dict[str, list[Any]] = {"status": [previous, to]}
    if reason:
        changes["reason"] = [None, reason]
    audit_record(
        actor=actor,
        action=action or "household.transition",
        obj=household,
        unit=household.unit,
        changes=changes,
    )
    return household


def previous_step(status: str) -> str | None:
    if status in INTAKE_STEPS and status != S.FILED:
        index = INTAKE_STEPS.index(status)
        return INTAKE_STEPS[index - 1] if index > 0 else None
    return None


def _need_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("%(what)s须填写理由。") % {"what": what}})
    return reason


@transaction.atomic
def case_send_back(*, actor: User, household: Household, reason: str) -> Household:
    """Send a case back one step, with a reason."""
    reason = _need_reason(reason, _("退回"))
    household = household_lock(household)
    back = previous_step(household.status)
    if back is None:
        raise IllegalTransition(_("“%(s)s”状态的档案不能退回。") % {"s": _label(household.status)})
    moved = transition(
        actor=actor, household=household, to=back, reason=reason, action="household.send_back"
    )
    if back == S.EVALUATED:
        NoticeEntry.objects.filter(household=household).delete()
    return moved


@transaction.atomic
def case_reject(*, actor: User, household: Household, reason: str) -> Household:
    reason = _need_reason(reason, _("驳回"))
    household = household_lock(household)
    return transition(
        actor=actor, household=household, to=S.REJECTED, reason=reason, action="household.reject"
    )


@transaction.atomic
def case_reopen(*, actor: User, household: Household, reason: str) -> Household:
    """File a rejected or exited household again; its history stays."""
    reason = _need_reason(reason, _("重新申请建档"))
    household = household_lock(household)
    check_id_free(household.id_number, exclude_pk=household.pk)
    moved = transition(
        actor=actor, household=household, to=S.DRAFT, reason=reason, action="household.reopen"
    )
    moved.submitted_by = actor
    moved.file_number = None
    moved.filed_on = None
    moved.exit_flagged_on = None
    moved.save(update_fields=["submitted_by", "file_number", "filed_on", "exit_flagged_on"])
    return moved


# -- 一进二看: the intake home visit -------------------------------------------


@transaction.atomic
def intake_visit_log(*, actor: User, household: Household, data: dict[str, Any]) -> Visit:
    """Log the home visit that opens intake (一进) with what was seen (二看)."""
    household = household_lock(household)
    if household.status != S.DRAFT:
        raise IllegalTransition(_("只有待入户的档案需要登记建档入户核查。"))
    if data.get("kind", "home") != "home":
        raise ValidationError({"kind": _("建档核查必须实地入户。")})
    check_actor(actor, household, WORKER)
    visit = visit_record(actor=actor, household=household, data=data, is_intake=True)
    transition(actor=actor, household=household, to=S.VISITED, action="household.visited")
    return visit


VISIT_FIELDS = (
    "visited_on", "kind", "seen_housing", "seen_appliances", "seen_health", "seen_schooling",
    "knows_name", "knows_address", "knows_phone", "knows_spouse", "knows_schooling",
    "knows_events", "needs", "help_given", "follow_up_on",
)  # fmt: skip


def visit_record(
    *, actor: User, household: Household, data: dict[str, Any], is_intake: bool
) -> Visit:
    visited_on = data.get("visited_on") or clock.today()
    if visited_on > clock.today():
        raise ValidationError({"visited_on": _("走访日期不能晚于今天。")})
    visit = Visit(household=household, visitor=actor, is_intake=is_intake)
    for field in VISIT_FIELDS:
        if field in data and data[field] is not None:
            setattr(visit, field, data[field])
    visit.visited_on = visited_on
    visit.save()
    if household.last_visited_on is None or visited_on > household.last_visited_on:
        household.last_visited_on = visited_on
        household.save(update_fields=["last_visited_on", "updated_at"])
    audit_record(
        actor=actor,
        action="visit.log",
        obj=household,
        unit=household.unit,
        changes={"visit": [None, f"{visit.get_kind_display()} {visited_on}"]},
    )
    return visit


# -- 三算: the means test ---------------------------------------------------------


def standard_for(unit: Unit, on: datetime.date) -> LocalStandard | None:
    """The standard in force on a date, from the nearest unit up the tree that
    has one."""
    ancestor_ids = [int(p) for p in unit.path.split("/") if p]
    return (
        LocalStandard.objects.filter(unit_id__in=ancestor_ids, effective_from__lte=on)
        .select_related("unit")
        .order_by("-unit__depth", "-effective_from")
        .first()
    )


def current_rule() -> Rule:
    rules = CaseRules.current()
    return Rule(
        deep_multiple=rules.deep_multiple,
        relative_multiple=rules.relative_multiple,
        accident_share=rules.accident_share,
    )


def tier_for_band(band: str | None) -> Tier | None:
    if band is None:
        return None
    return (
        Tier.objects.filter(national_category=band, is_active=True).order_by("sort_order").first()
    )


def means_preview(household: Household, data: dict[str, Any]) -> MeansResult:
    """The means test on form data, nothing saved (the calculator's preview)."""
    on = data.get("assessed_on") or clock.today()
    standard = standard_for(household.unit, on)
    return assess(
        MeansInput(
            annual_income=sum((data.get(f) or ZERO for f in INCOME_FIELDS), ZERO),
            rigid_expenses=sum((data.get(f) or ZERO for f in EXPENSE_FIELDS), ZERO),
            household_size=data.get("household_size") or household.household_size,
            standard=standard.amount if standard else None,
            accident_cost=data.get("accident_cost") or ZERO,
            exclusions=frozenset(data.get("exclusions") or ()),
        ),
        current_rule(),
    )


@transaction.atomic
def assessment_record(*, actor: User, household: Household, data: dict[str, Any]) -> Assessment:
    """Keep a dated means test and bring the file's money figures up to date.

    At intake it is step 三算 (visited → assessed); on a filed household it is
    a re-check that updates the file without moving it."""
    household = household_lock(household)
    check_actor(actor, household, WORKER)
    if household.status in (S.DRAFT, S.REJECTED, S.EXITED):
        raise IllegalTransition(_("请先完成入户核查，再进行经济状况核算。"))
    result = means_preview(household, data)
    on = data.get("assessed_on") or clock.today()
    if on > clock.today():
        raise ValidationError({"assessed_on": _("核算日期不能晚于今天。")})
    band_tier = tier_for_band(result.band)
    assessment = Assessment(
        household=household,
        assessed_on=on,
        household_size=data.get("household_size") or household.household_size,
        accident_cost=data.get("accident_cost") or ZERO,
        exclusions=sorted(data.get("exclusions") or []),
        per_capita=result.per_capita,
        standard=result.standard,
        ratio=result.ratio,
        suggested_band=result.band or "",
        suggested_tier=band_tier,
        steps=result.stored_steps,
        warnings=result.warnings,
        created_by=actor,
    )
    for field in (*INCOME_FIELDS, *EXPENSE_FIELDS):
        value = data.get(field) or ZERO
        setattr(assessment, field, value)
        setattr(household, field, value)
    assessment.save()
    household.household_size = assessment.household_size
    household.per_capita_monthly_income = per_capita_monthly(household)
    household.save()
    audit_record(
        actor=actor,
        action="assessment.record",
        obj=household,
        unit=household.unit,
        changes={
            "per_capita": [None, str(result.per_capita)],
            "suggested_band": [None, result.band],
        },
    )
    if household.status == S.VISITED:
        transition(actor=actor, household=household, to=S.ASSESSED, action="household.assessed")
    return assessment


def latest_assessment(household: Household) -> Assessment | None:
    return household.assessments.order_by("-assessed_on", "-id").first()


# -- 四议: committee discussion --------------------------------------------------


@transaction.atomic
def discussion_record(
    *,
    actor: User,
    household: Household,
    held_on: datetime.date,
    attendees: str,
    minutes: str,
    upload: UploadedFile | None = None,
) -> Discussion:
    household = household_lock(household)
    if household.status != S.ASSESSED:
        raise IllegalTransition(
            _("只有已核算的档案才能提交民主评议（当前为“%(s)s”）。")
            % {"s": _label(household.status)}
        )
    if held_on > clock.today():
        raise ValidationError({"held_on": _("会议日期不能晚于今天。")})
    if not attendees.strip():
        raise ValidationError({"attendees": _("请填写参会人员。")})
    if not minutes.strip():
        raise ValidationError({"minutes": _("请填写会议纪要。")})
    discussion = Discussion(
        household=household,
        held_on=held_on,
        attendees=attendees.strip(),
        minutes=minutes.strip(),
        recorded_by=actor,
    )
    check_actor(actor, household, WORKER)
    if upload is not None:
        discussion.file.save(upload.name or "minutes", upload, save=False)
    discussion.save()
    transition(actor=actor, household=household, to=S.DISCUSSED, action="household.discussed")
    return discussion


# -- 五评: the chair sets the tier -----------------------------------------------


@transaction.atomic
def case_evaluate(
    *, actor: User, household: Household, tier: Tier, reason: str = "", override: str = ""
) -> Household:
    """The chair decides the tier. Exclusion warnings of the latest means test
    must be overridden with a written reason."""
    household = household_lock(household)
    if household.status != S.DISCUSSED:
        raise IllegalTransition(
            _("只有已评议的档案才能评定（当前为“%(s)s”）。") % {"s": _label(household.status)}
        )
    check_actor(actor, household, CHAIR)
    assessment = latest_assessment(household)
    if assessment is not None and assessment.warnings and not override.strip():
        listed = "；".join(assessment.explained_warnings)
        message = _("存在排除情形：%(w)s。如仍认定，请填写理由。") % {"w": listed}
        raise ValidationError({"override": message})
    if not tier.is_active:
        raise ValidationError({"tier": _("该困难类别已停用。")})
    previous_tier = household.tier.name if household.tier else None
    household.tier = tier
    household.save(update_fields=["tier", "updated_at"])
    text = reason.strip()
    if override.strip():
        text = (text + "\n" if text else "") + _("排除情形认定理由：") + override.strip()
    transition(
        actor=actor,
        household=household,
        to=S.EVALUATED,
        reason=_("评定为“%(t)s”。") % {"t": tier.name} + (" " + text if text else ""),
        action="household.evaluated",
    )
    audit_record(
        actor=actor,
        action="household.tier",
        obj=household,
        unit=household.unit,
        changes={"tier": [previous_tier, tier.name]},
    )
    return household


# -- 六公示: public notice and objections -----------------------------------------


def holidays_between(start: datetime.date, end: datetime.date) -> tuple[set, set]:
    rows = Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_workday")
    days_off = {d for d, workday in rows if not workday}
    makeup = {d for d, workday in rows if workday}
    return days_off, makeup


def notice_end_date(starts_on: datetime.date, working_days: int) -> datetime.date:
    # Holidays within a generous window: a notice never spans more than this.
    window_end = starts_on + datetime.timedelta(days=working_days * 3 + 30)
    days_off, makeup = holidays_between(starts_on, window_end)
    return workdays.notice_end(starts_on, working_days, days_off, makeup)


def deadline_date(received_on: datetime.date, working_days: int) -> datetime.date:
    """The last day of a time limit of `working_days` working days for
    something received on `received_on` (a complaint): the day of receipt
    does not count, the count starts the next day, on the notices' calendar."""
    return notice_end_date(received_on + datetime.timedelta(days=1), working_days)


# At most this many households may be left out of a filtered notice by hand:
# the list travels with the form, so it must stay small; a bigger cut is a
# narrower filter (a lower union, a tier).
MAX_EXCLUDED = 200
BULK = 1000


def notice_candidates(
    *,
    unit: Unit,
    tiers: Any = None,
    households: Any = None,
    exclude: Any = None,
) -> Any:
    """The evaluated households a notice of `unit` would list: the union and
    the unions below it, of the given tiers, only those listed if any are,
    less the excluded. One query whatever the number, never one form field
    per household."""
    qs = Household.objects.filter(status=S.EVALUATED, unit__path__startswith=unit.path)
    if tiers:
        qs = qs.filter(tier__in=list(tiers))
    if households is not None:
        qs = qs.filter(pk__in=[_pk(h) for h in households])
    if exclude:
        qs = qs.exclude(pk__in=[_pk(h) for h in exclude])
    return qs


def _pk(value: Any) -> int:
    return int(value.pk if isinstance(value, Household) else value)


def _check_listed(unit: Unit, households: list[Any]) -> None:
    """Households picked by hand that the notice cannot take, named."""
    ids = [_pk(h) for h in households]
    rows = Household.objects.filter(pk__in=ids).select_related("unit")
    outside = [h.name for h in rows if not unit.covers(h.unit)]
    if outside:
        raise ValidationError(
            {"households": _("%(names)s 不属于所选公示单位。") % {"names": "、".join(outside)}}
        )
    waiting = [h.name for h in rows if h.status != S.EVALUATED]
    if waiting:
        raise IllegalTransition(_("“%(n)s”尚未评定，不能公示。") % {"n": "、".join(waiting)})


@transaction.atomic
def notice_create(
    *,
    actor: User,
    unit: Unit,
    title: str,
    starts_on: datetime.date,
    posted_at: str,
    households: list[Household] | None = None,
    tiers: Any = None,
    exclude: Any = None,
    working_days: int | None = None,
    proof: UploadedFile | None = None,
) -> IntakeNotice:
    """Post a notice listing every evaluated household of the union (and
    below) that matches the filter, or only the households given, less the
    excluded ones. Every household moves to 公示中 with its own history row
    and audit event, written in bulk so 5,000 households take seconds."""
    if not covers(actor, WORKER, unit):
        raise PermissionDenied(_("您无权在该工会发布公示。"))
    if households is not None and not households:
        raise ValidationError({"households": _("请至少选择一户已评定的家庭。")})
    if exclude and len(list(exclude)) > MAX_EXCLUDED:
        raise ValidationError(
            {
                "exclude": _("最多可排除 %(n)s 户；请缩小筛选范围（如按下级工会或困难类别）。")
                % {"n": MAX_EXCLUDED}
            }
        )
    if starts_on < clock.today():
        # A backdated start would let a notice end before anyone could see it.
        raise ValidationError({"starts_on": _("公示开始日期不能早于今天。")})
    days = working_days or CaseRules.current().notice_working_days
    if days < 1 or days > 60:
        raise ValidationError({"working_days": _("公示期应为 1 到 60 个工作日。")})
    if not posted_at.strip():
        raise ValidationError({"posted_at": _("请填写张贴地点。")})
    if households is not None:
        _check_listed(unit, list(households))
    chosen = notice_candidates(unit=unit, tiers=tiers, households=households, exclude=exclude)
    # of=("self",): lock the households only, not their union's row.
    locked = list(
        chosen.select_for_update(no_key=True, of=("self",))
        .order_by("pk")
        .values_list("pk", "name", "unit_id", "submitted_by_id")
    )
    if not locked:
        raise ValidationError({"households": _("没有符合条件的已评定家庭。")})
    if TRANSITIONS[S.EVALUATED][S.NOTICED] != WORKER:  # pragma: no cover - table guard
        raise IllegalTransition(_("公示规则已变更，请联系管理员。"))
    notice = IntakeNotice(
        unit=unit,
        title=title.strip() or _("困难职工建档公示"),
        starts_on=starts_on,
        working_days=days,
        ends_on=notice_end_date(starts_on, days),
        posted_at=posted_at.strip(),
        created_by=actor,
    )
    if proof is not None:
        notice.proof.save(proof.name or "proof", proof, save=False)
    notice.save()
    _notice_households(actor, notice, locked)
    audit_record(
        actor=actor,
        action="notice.create",
        obj=notice,
        unit=unit,
        changes={
            "households": [None, len(locked)],
            "excluded": [None, len(list(exclude or []))],
            "ends_on": [None, str(notice.ends_on)],
        },
    )
    return notice


def _notice_households(actor: User, notice: IntakeNotice, locked: list[tuple]) -> None:
    """The EVALUATED → NOTICED move of `transition`, for many rows at once:
    the entry, the status, a history row and an audit event per household."""
    now = clock.now()
    reason = _("公示期 %(a)s 至 %(b)s。") % {"a": notice.starts_on, "b": notice.ends_on}
    ids = [row[0] for row in locked]
    NoticeEntry.objects.bulk_create(
        [NoticeEntry(notice=notice, household_id=pk) for pk in ids], batch_size=BULK
    )
    for start in range(0, len(ids), BULK):
        Household.objects.filter(pk__in=ids[start : start + BULK]).update(
            status=S.NOTICED, updated_at=now
        )
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                household_id=pk,
                from_status=S.EVALUATED,
                to_status=S.NOTICED,
                actor=actor,
                at=now,
                reason=reason,
            )
            for pk in ids
        ],
        batch_size=BULK,
    )
    units = {u.pk: u for u in Unit.objects.filter(pk__in={row[2] for row in locked})}
    changes = {"status": [S.EVALUATED, S.NOTICED], "reason": [None, reason]}
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                action="household.noticed",
                object_type=Household._meta.label_lower,
                object_id=str(pk),
                object_repr=name[:200],
                unit=units.get(unit_id),
                changes=changes,
                ip=current_ip.get(),
            )
            for pk, name, unit_id, _submitter in locked
        ],
        batch_size=BULK,
    )


@transaction.atomic
def notice_proof_add(*, actor: User, notice: IntakeNotice, proof: UploadedFile) -> IntakeNotice:
    if not covers(actor, WORKER, notice.unit):
        raise PermissionDenied
    notice.proof.save(proof.name or "proof", proof, save=True)
    audit_record(actor=actor, action="notice.proof", obj=notice, unit=notice.unit)
    return notice


def current_notice(household: Household) -> IntakeNotice | None:
    return (
        IntakeNotice.objects.filter(entries__household=household)
        .order_by("-starts_on", "-id")
        .first()
    )


@transaction.atomic
def objection_record(
    *,
    actor: User,
    household: Household,
    content: str,
    received_on: datetime.date | None = None,
    raised_by: str = "",
) -> Objection:
    household = household_lock(household)
    check_actor(actor, household, WORKER)
    if household.status != S.NOTICED:
        raise IllegalTransition(_("只有公示中的档案可以登记异议。"))
    if not content.strip():
        raise ValidationError({"content": _("请填写异议内容。")})
    notice = current_notice(household)
    if notice is None:  # pragma: no cover - a noticed case always has a notice
        raise IllegalTransition(_("未找到该档案的公示。"))
    objection = Objection.objects.create(
        notice=notice,
        household=household,
        received_on=received_on or clock.today(),
        raised_by=raised_by.strip(),
        content=content.strip(),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="objection.record",
        obj=household,
        unit=household.unit,
        changes={"objection": [None, objection.pk]},
    )
    return objection


@transaction.atomic
def objection_resolve(
    *, actor: User, objection: Objection, outcome: str, resolution: str
) -> Objection:
    """Upheld: the case goes back to evaluation. Dismissed: a reason is kept."""
    objection = Objection.objects.select_for_update(no_key=True).get(pk=objection.pk)
    household = household_lock(objection.household)
    check_actor(actor, household, CHAIR)
    if objection.outcome != ObjectionOutcome.OPEN:
        raise IllegalTransition(_("该异议已处理。"))
    if outcome not in (ObjectionOutcome.UPHELD, ObjectionOutcome.DISMISSED):
        raise ValidationError({"outcome": _("请选择处理结果。")})
    resolution = _need_reason(resolution, _("处理异议"))
    objection.outcome = outcome
    objection.resolution = resolution
    objection.resolved_by = actor
    objection.resolved_at = clock.now()
    objection.save()
    audit_record(
        actor=actor,
        action="objection.resolve",
        obj=household,
        unit=household.unit,
        changes={"outcome": [ObjectionOutcome.OPEN, outcome]},
    )
    if outcome == ObjectionOutcome.UPHELD and household.status == S.NOTICED:
        transition(
            actor=actor,
            household=household,
            to=S.EVALUATED,
            reason=_("公示异议成立：%(r)s") % {"r": resolution},
            action="household.objection_upheld",
        )
        NoticeEntry.objects.filter(household=household).delete()
    return objection


# -- 七确认: confirmation and the file number -------------------------------------


def _next_file_number(unit: Unit, year: int) -> str:
    """`<unit code>-<year>-<sequence>`, unique and gap-free per unit and year.

    The counter row is created if missing (a concurrent creator wins and we
    use its row) and then locked, so two chairs confirming at the same moment
    take consecutive numbers; a rolled-back confirmation rolls its number back
    too, so no gap is left."""
    try:
        with transaction.atomic():
            FileNumberCounter.objects.get_or_create(unit=unit, year=year)
    except IntegrityError:
        pass  # someone else created it first; it exists now
    counter = FileNumberCounter.objects.select_for_update(no_key=True).get(unit=unit, year=year)
    # A register brought in (建档迁移) may already hold numbers in this
    # pattern: carry on after the highest of them, and never hand out a
    # number the union already has in whatever spelling.
    prefix = f"{unit.code}-{year}-"
    legacy = Household.objects.filter(
        unit=unit, file_number__startswith=prefix, migrated_at__isnull=False
    ).values_list("file_number", flat=True)
    tails = (number[len(prefix) :] for number in legacy if number)
    counter.last = max([counter.last, *(int(t) for t in tails if t.isdigit())]) + 1
    while Household.objects.filter(unit=unit, file_number=f"{prefix}{counter.last:04d}").exists():
        counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}{counter.last:04d}"


def confirm_blockers(household: Household) -> list[str]:
    """Why this case cannot be confirmed today (empty when it can)."""
    reasons = []
    notice = current_notice(household)
    if household.status != S.NOTICED or notice is None:
        reasons.append(_("档案不在公示中。"))
        return reasons
    if clock.today() <= notice.ends_on:
        reasons.append(
            _("公示期至 %(d)s 结束，期满后方可确认。") % {"d": notice.ends_on.isoformat()}
        )
    if household.objections.filter(outcome=ObjectionOutcome.OPEN).exists():
        reasons.append(_("有未处理的公示异议。"))
    return reasons


@transaction.atomic
def case_confirm(*, actor: User, household: Household) -> Household:
    household = household_lock(household)
    if household.status != S.NOTICED:
        raise IllegalTransition(
            _("只有公示中的档案可以确认建档（当前为“%(s)s”）。") % {"s": _label(household.status)}
        )
    check_actor(actor, household, CHAIR)
    blockers = confirm_blockers(household)
    if blockers:
        raise ValidationError(" ".join(blockers))
    today = clock.today()
    household.file_number = _next_file_number(household.unit, today.year)
    household.filed_on = today
    household.save(update_fields=["file_number", "filed_on", "updated_at"])
    transition(
        actor=actor,
        household=household,
        to=S.FILED,
        reason=_("建档，档案编号 %(n)s。") % {"n": household.file_number},
        action="household.filed",
    )
    return household


def band_label(band: str) -> str:
    return {
        Band.DEEP: _("深度困难"),
        Band.RELATIVE: _("相对困难"),
        Band.ACCIDENT: _("意外致困"),
        Band.EDGE: _("边缘"),
    }.get(band, "")
