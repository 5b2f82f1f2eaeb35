"""Demo files part-way through intake, taken there through the services."""

import datetime
from dataclasses import dataclass

from accounts.models import Unit, User
from cases import clock
from cases.models import CaseRules, Household, HouseholdStatus
from cases.services import intake

from .clock import on_day


@dataclass
class IntakeExamples:
    """What `intake_examples` left for the chair to do today."""

    notice_ended: list[Household]  # on a notice whose period is over: 七确认 now
    to_evaluate: list[Household]  # discussed by the committee: waiting for 五评


def _notice_start(today: datetime.date, working_days: int) -> datetime.date:
    """The latest start day whose notice period is over by `today`."""
    start = today - datetime.timedelta(days=working_days + 2)
    while intake.notice_end_date(start, working_days) >= today:
        start -= datetime.timedelta(days=1)
    return start


def _walk_to_discussed(
    household: Household, worker: User, day: datetime.date, minutes: str
) -> Household:
    """一进二看三算四议 through the services, each on its own day up to `day`."""
    with on_day(day - datetime.timedelta(days=3)):
        intake.intake_visit_log(
            actor=worker,
            household=household,
            data={"seen_housing": "老旧住房，家具简陋", "seen_health": "户主常年服药"},
        )
    money = {f: getattr(household, f) for f in (*intake.INCOME_FIELDS, *intake.EXPENSE_FIELDS)}
    with on_day(day - datetime.timedelta(days=2)):
        intake.assessment_record(
            actor=worker,
            household=household,
            data={**money, "household_size": household.household_size},
        )
    with on_day(day - datetime.timedelta(days=1)):
        intake.discussion_record(
            actor=worker,
            household=household,
            held_on=clock.today(),
            attendees="工会主席、经审委员、职工代表 3 人",
            minutes=minutes,
        )
    household.refresh_from_db()
    return household


def intake_examples(*, worker: User, chair: User, unit: Unit) -> IntakeExamples:
    """Take three of `worker`'s draft files in `unit` through intake with the
    services, the clock moved to each step's day: two listed on a notice whose
    period ended yesterday or before, so 七确认 can be tried at once, and one
    discussed by the committee, waiting for the chair's 五评. The histories,
    audit events and notice are those real work leaves."""
    drafts = list(
        Household.objects.filter(
            unit__path__startswith=unit.path,
            status=HouseholdStatus.DRAFT,
            submitted_by=worker,
        ).order_by("id")[:3]
    )
    if len(drafts) < 3:
        return IntakeExamples([], [])
    today = clock.today()
    start = _notice_start(today, CaseRules.current().notice_working_days)
    noticed = [
        _walk_to_discussed(h, worker, start - datetime.timedelta(days=2), "经评议，同意建档。")
        for h in drafts[:2]
    ]
    with on_day(start - datetime.timedelta(days=1)):
        if not _evaluate(noticed, chair):  # pragma: no cover - the default tiers are seeded
            return IntakeExamples([], [])
    with on_day(start):
        intake.notice_create(
            actor=worker,
            unit=unit,
            title="困难职工建档公示（演示）",
            starts_on=clock.today(),
            posted_at=f"{unit.name}办公楼一楼公告栏",
            households=noticed,
        )
    waiting = _walk_to_discussed(drafts[2], worker, today, "经评议，建议评定为困难职工。")
    for household in noticed:
        household.refresh_from_db()
    return IntakeExamples(noticed, [waiting])


def _evaluate(households: list[Household], chair: User) -> bool:
    """五评 by the chair at the tier the means test suggested; False when
    there is no tier to give."""
    for household in households:
        assessment = intake.latest_assessment(household)
        tier = (assessment.suggested_tier if assessment else None) or household.tier
        if tier is None:
            return False
        intake.case_evaluate(
            actor=chair,
            household=household,
            tier=tier,
            override="经入户核实，排除情形不影响认定。"
            if assessment and assessment.warnings
            else "",
        )
    return True
