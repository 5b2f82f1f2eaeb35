"""Keeping filed households alive (动态管理): the annual review with its
on-site sample, monthly incomes and the exit rule, exits, non-cash help.

Re-filing an exited household is the intake workflow's `case_reopen`; exits go
through the same state machine (`intake.transition`), so every closure leaves a
StatusChange row like any other step.
"""

import datetime
import random
import secrets
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.money import yuan
from accounts.scoping import covers

from .. import clock
from ..models import (
    CaseRules,
    ExitKind,
    Helper,
    Household,
    MonthlyIncome,
    NonCashHelp,
    NonCashKind,
    ReviewItem,
    ReviewOutcome,
    ReviewRound,
)
from ..models import HouseholdStatus as S
from .intake import CHAIR, WORKER, check_actor, household_lock, standard_for, transition

# Seeds fit a signed 64-bit column with room to spare.
SEED_BOUND = 2**62


def _need_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _not_future(day: datetime.date, field: str, message: str) -> None:
    if day > clock.today():
        raise ValidationError({field: message})


def _require_filed(household: Household, message: str) -> None:
    if household.status != S.FILED:
        raise ValidationError(
            message % {"s": S(household.status).label if household.status else ""}
        )


# -- 年审: the annual review -------------------------------------------------------


def sample_size(total: int, percent: int) -> int:
    """At least `percent` of `total`, rounded up (30% of 7 is 3, not 2)."""
    return min(total, (total * percent + 99) // 100)


def draw_sample(household_ids: Iterable[int], percent: int, seed: int) -> set[int]:
    """The households to re-check on the spot.

    Drawn over the ids in ascending order with a generator seeded by `seed`,
    so the same seed over the same households always gives the same sample."""
    ordered = sorted(household_ids)
    return set(random.Random(seed).sample(ordered, sample_size(len(ordered), percent)))


def review_sample(round: ReviewRound) -> set[int]:
    """Draw the round's sample again from its stored seed (household ids)."""
    ids = ReviewItem.objects.filter(round=round).values_list("household_id", flat=True)
    return draw_sample(ids, round.sample_percent, round.seed)


@transaction.atomic
def review_round_start(
    *, actor: User, unit: Unit, year: int, seed: int | None = None
) -> ReviewRound:
    """Start the year's review of every filed household in the unit's subtree.

    A household already under review that year in another round (a unit above
    or below this one started first) is left out, so nobody reviews a file
    twice in one year."""
    if not covers(actor, CHAIR, unit):
        raise PermissionDenied(_("只有本工会或上级工会的主席可以发起年审。"))
    if not unit.is_active:
        raise ValidationError({"unit": _("该工会已停用。")})
    this_year = clock.today().year
    if year < 2000 or year > this_year:
        raise ValidationError({"year": _("年度应在 2000 年至 %(y)s 年之间。") % {"y": this_year}})
    # Serialises two chairs starting the same unit's round at the same moment.
    Unit.objects.select_for_update(no_key=True).get(pk=unit.pk)
    if ReviewRound.objects.filter(unit=unit, year=year).exists():
        raise ValidationError(
            {"year": _("“%(u)s” %(y)s 年度的年审已经发起。") % {"u": unit.name, "y": year}}
        )
    already = ReviewItem.objects.filter(round__year=year).values("household_id")
    household_ids = list(
        Household.objects.filter(unit__path__startswith=unit.path, status=S.FILED)
        .exclude(pk__in=already)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not household_ids:
        message = _("“%(u)s”没有需要 %(y)s 年度年审的已建档家庭。")
        raise ValidationError({"unit": message % {"u": unit.name, "y": year}})
    percent = CaseRules.current().review_sample_percent
    if seed is None:
        seed = secrets.randbelow(SEED_BOUND)
    try:
        with transaction.atomic():
            round = ReviewRound.objects.create(
                unit=unit, year=year, seed=seed, sample_percent=percent, started_by=actor
            )
    except IntegrityError:
        raise ValidationError(
            {"year": _("“%(u)s” %(y)s 年度的年审已经发起。") % {"u": unit.name, "y": year}}
        ) from None
    sampled = draw_sample(household_ids, percent, seed)
    ReviewItem.objects.bulk_create(
        ReviewItem(round=round, household_id=pk, sampled=pk in sampled) for pk in household_ids
    )
    audit_record(
        actor=actor,
        action="review.start",
        obj=round,
        unit=unit,
        changes={
            "households": [None, len(household_ids)],
            "sampled": [None, len(sampled)],
            "seed": [None, seed],
        },
    )
    return round


RECORDABLE_OUTCOMES = (ReviewOutcome.UNCHANGED, ReviewOutcome.UPDATED, ReviewOutcome.EXIT)


@transaction.atomic
def review_item_record(
    *,
    actor: User,
    item: ReviewItem,
    outcome: str,
    notes: str,
    checked_on: datetime.date | None,
) -> ReviewItem:
    """Record one household's review. The caseworker updates the file itself
    through the edit page or a new means test; this keeps what was found."""
    item = (
        ReviewItem.objects.select_for_update(no_key=True)
        .select_related("round", "household__unit")
        .get(pk=item.pk)
    )
    household = item.household
    check_actor(actor, household, WORKER)
    if household.status != S.FILED:
        message = _("该家庭当前为“%(s)s”，不在年审范围内。")
        raise ValidationError(message % {"s": _status(household)})
    if outcome not in RECORDABLE_OUTCOMES:
        raise ValidationError({"outcome": _("请选择审核结果。")})
    notes = (notes or "").strip()
    if outcome in (ReviewOutcome.UPDATED, ReviewOutcome.EXIT) and not notes:
        raise ValidationError({"notes": _("情况有变化或建议退出时，请写明具体情况。")})
    if checked_on is None:
        if item.sampled:
            raise ValidationError(
                {"checked_on": _("该户是实地复核抽样户，请填写实地复核（入户）日期。")}
            )
        checked_on = clock.today()
    _not_future(checked_on, "checked_on", _("审核日期不能晚于今天。"))
    if checked_on.year < item.round.year:
        raise ValidationError(
            {"checked_on": _("审核日期不能早于 %(y)s 年。") % {"y": item.round.year}}
        )
    before = [item.outcome, item.checked_on.isoformat() if item.checked_on else None]
    item.outcome = outcome
    item.notes = notes
    item.checked_on = checked_on
    item.checked_by = actor
    item.save(update_fields=["outcome", "notes", "checked_on", "checked_by"])
    audit_record(
        actor=actor,
        action="review.item",
        obj=household,
        unit=household.unit,
        changes={
            "review": [None, f"{item.round.year}"],
            "outcome": [before[0], outcome],
            "checked_on": [before[1], checked_on.isoformat()],
        },
    )
    return item


def _status(household: Household) -> str:
    return str(S(household.status).label)


# -- Monthly incomes and the exit rule (脱困) ---------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def above_run(incomes: Sequence[MonthlyIncome]) -> int:
    """How many consecutive calendar months, up to the latest recorded one,
    per-capita income was above the standard.

    `incomes` newest first. A month at or below the standard ends the run, so
    does a month with no record, and so does a month whose run a chair has
    already dismissed (the next run starts after it)."""
    run = 0
    expected: datetime.date | None = None
    for income in incomes:
        if expected is not None and income.month != expected:
            break
        if not income.above_standard or income.run_dismissed:
            break
        run += 1
        expected = previous_month(income.month)
    return run


def _latest_incomes(household: Household, count: int) -> list[MonthlyIncome]:
    return list(MonthlyIncome.objects.filter(household=household).order_by("-month")[:count])


def _apply_exit_rule(actor: User, household: Household) -> int:
    """Raise or clear the exit flag so it says what the rule says; the run."""
    needed = CaseRules.current().exit_consecutive_months
    run = above_run(_latest_incomes(household, needed))
    flagged = run >= needed
    if flagged and household.exit_flagged_on is None:
        household.exit_flagged_on = clock.today()
        household.save(update_fields=["exit_flagged_on", "updated_at"])
        audit_record(
            actor=actor,
            action="household.exit_flag",
            obj=household,
            unit=household.unit,
            changes={"exit_flagged_on": [None, household.exit_flagged_on.isoformat()]},
        )
    elif not flagged and household.exit_flagged_on is not None:
        # A newer month at or below the standard: the run the flag stood on is over.
        previous = household.exit_flagged_on.isoformat()
        household.exit_flagged_on = None
        household.save(update_fields=["exit_flagged_on", "updated_at"])
        audit_record(
            actor=actor,
            action="household.exit_flag_cleared",
            obj=household,
            unit=household.unit,
            changes={"exit_flagged_on": [previous, None]},
        )
    return run


@transaction.atomic
def monthly_income_record(
    *,
    actor: User,
    household: Household,
    month: datetime.date,
    household_income: Decimal,
    household_size: int,
) -> MonthlyIncome:
    """Record one month's household income and re-apply the exit rule.

    Recording a month that already has a figure replaces it: a caseworker
    fixing a typo should not need an administrator, and the audit event keeps
    the old and new figures, so nothing is lost. The comparison uses the
    standard in force on the last day of that month, so a raise of the
    standard during the month counts in the household's favour."""
    household = household_lock(household)
    check_actor(actor, household, WORKER)
    _require_filed(household, _("只有已建档的家庭登记月收入（当前为“%(s)s”）。"))
    month = month_start(month)
    if month > month_start(clock.today()):
        raise ValidationError({"month": _("不能登记以后月份的收入。")})
    if household.filed_on is not None and month < month_start(household.filed_on):
        # Months before the filing say nothing about getting out of hardship.
        raise ValidationError(
            {"month": _("月份不能早于建档月份 %(m)s。") % {"m": f"{household.filed_on:%Y-%m}"}}
        )
    if household_income is None or household_income < 0:
        raise ValidationError({"household_income": _("家庭月收入不能为负数。")})
    if household_size is None or household_size < 1:
        raise ValidationError({"household_size": _("家庭人口至少为 1 人。")})
    per_capita = yuan(Decimal(household_income) / household_size)
    standard = standard_for(household.unit, month_end(month))
    amount = standard.amount if standard is not None else None
    above = amount is not None and per_capita > amount
    income = MonthlyIncome.objects.select_for_update(no_key=True).filter(
        household=household, month=month
    )
    existing = income.first()
    before = None
    if existing is None:
        record = MonthlyIncome(household=household, month=month)
    else:
        record = existing
        before = f"{existing.household_income}/{existing.household_size}"
    record.household_income = yuan(household_income)
    record.household_size = household_size
    record.per_capita = per_capita
    record.standard = amount
    record.above_standard = above
    record.recorded_by = actor
    record.save()
    audit_record(
        actor=actor,
        action="income.record" if existing is None else "income.replace",
        obj=household,
        unit=household.unit,
        changes={
            "month": [None, f"{month:%Y-%m}"],
            "income": [before, f"{record.household_income}/{household_size}"],
            "above_standard": [None, above],
        },
    )
    _apply_exit_rule(actor, household)
    return record


@transaction.atomic
def exit_flag_dismiss(*, actor: User, household: Household, reason: str) -> Household:
    """A chair decides the household stays despite the income run. The run
    starts counting again after the latest recorded month."""
    reason = _need_text(reason, "reason", _("否决脱困提示须填写理由。"))
    household = household_lock(household)
    check_actor(actor, household, CHAIR)
    if household.exit_flagged_on is None:
        raise ValidationError(_("该家庭没有待处理的脱困提示。"))
    latest = (
        MonthlyIncome.objects.select_for_update(no_key=True)
        .filter(household=household)
        .order_by("-month")
    ).first()
    if latest is not None:
        latest.run_dismissed = True
        latest.save(update_fields=["run_dismissed"])
    previous = household.exit_flagged_on.isoformat()
    household.exit_flagged_on = None
    household.save(update_fields=["exit_flagged_on", "updated_at"])
    audit_record(
        actor=actor,
        action="household.exit_flag_dismiss",
        obj=household,
        unit=household.unit,
        changes={"exit_flagged_on": [previous, None], "reason": [None, reason]},
    )
    return household


# -- 退出: exits and retention -------------------------------------------------------


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def household_exit(
    *,
    actor: User,
    household: Household,
    kind: str,
    reason: str,
    exited_on: datetime.date,
) -> Household:
    """Close a filed household's file (退出). It is kept until the retention
    date; its helpers' assignments end on the exit date."""
    household = household_lock(household)
    check_actor(actor, household, CHAIR)
    if kind not in ExitKind.values:
        raise ValidationError({"kind": _("请选择退出类型。")})
    reason = _need_text(reason, "reason", _("退出须填写原因。"))
    if exited_on is None:
        raise ValidationError({"exited_on": _("请填写退出日期。")})
    _not_future(exited_on, "exited_on", _("退出日期不能晚于今天。"))
    if household.filed_on is not None and exited_on < household.filed_on:
        raise ValidationError(
            {"exited_on": _("退出日期不能早于建档日期 %(d)s。") % {"d": household.filed_on}}
        )
    label = str(ExitKind(kind).label)
    household.exit_kind = kind
    household.exit_reason = reason
    household.exited_on = exited_on
    household.retention_until = add_years(exited_on, CaseRules.current().retention_years)
    household.exit_flagged_on = None
    household.save(
        update_fields=[
            "exit_kind", "exit_reason", "exited_on", "retention_until", "exit_flagged_on",
            "updated_at",
        ]
    )  # fmt: skip
    transition(
        actor=actor,
        household=household,
        to=S.EXITED,
        reason=_("%(kind)s：%(reason)s") % {"kind": label, "reason": reason},
        action="household.exit",
    )
    for helper in Helper.objects.select_for_update(no_key=True).filter(
        household=household, end_on__isnull=True
    ):
        helper.end_on = max(exited_on, helper.start_on)
        helper.save(update_fields=["end_on"])
    audit_record(
        actor=actor,
        action="household.exit_record",
        obj=household,
        unit=household.unit,
        changes={
            "exit_kind": [None, label],
            "exited_on": [None, exited_on.isoformat()],
            "retention_until": [None, household.retention_until.isoformat()],
        },
    )
    return household


# -- 非现金帮扶: help that is not money -------------------------------------------------


@transaction.atomic
def noncash_help_record(
    *,
    actor: User,
    household: Household,
    kind: str,
    given_on: datetime.date,
    description: str,
    outcome: str = "",
) -> NonCashHelp:
    """Job placement, training, referrals, legal aid, housing: recorded on the
    file like aid, with no money. File first, then help: only for filed
    households, and not dated before the filing."""
    household = household_lock(household)
    check_actor(actor, household, WORKER)
    _require_filed(household, _("只有已建档的家庭可以登记帮扶（当前为“%(s)s”）。"))
    if kind not in NonCashKind.values:
        raise ValidationError({"kind": _("请选择帮扶类型。")})
    description = _need_text(description, "description", _("请填写帮扶内容。"))
    if given_on is None:
        raise ValidationError({"given_on": _("请填写帮扶日期。")})
    _not_future(given_on, "given_on", _("帮扶日期不能晚于今天。"))
    if household.filed_on is not None and given_on < household.filed_on:
        raise ValidationError(
            {"given_on": _("帮扶日期不能早于建档日期 %(d)s。") % {"d": household.filed_on}}
        )
    record = NonCashHelp.objects.create(
        household=household,
        kind=kind,
        given_on=given_on,
        description=description,
        outcome=(outcome or "").strip(),
        given_by=actor,
    )
    audit_record(
        actor=actor,
        action="noncash.record",
        obj=household,
        unit=household.unit,
        changes={"noncash": [None, f"{record.get_kind_display()} {given_on}"]},
    )
    return record
