"""The program rules every application passes: eligibility, the application
window and the per-household yearly caps. Each refusal says why, on the field
it concerns."""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.money import ZERO, yuan
from cases import clock
from cases.models import Household, HouseholdStatus, Member
from cases.services.intake import standard_for

from ..models import Application, CapRule, Program
from ..models.aid import COUNTED

MAX_SCHOOL_MONTHS = 10


def _month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


def window_open(program: Program, on: datetime.date) -> bool:
    """Is the application window open on this date? A window that crosses the
    new year (12-01 to 02-28) is open at both ends."""
    if not program.window_start:
        return True
    start, end = _month_day(program.window_start), _month_day(program.window_end)
    today = (on.month, on.day)
    if start <= end:
        return start <= today <= end
    return today >= start or today <= end


def check_window(program: Program, on: datetime.date) -> None:
    if not window_open(program, on):
        raise ValidationError(
            {
                "program": _("“%(p)s”的申请时间为每年 %(s)s 至 %(e)s，现在不在申请期内。")
                % {"p": program.display_name, "s": program.window_start, "e": program.window_end}
            }
        )


def check_eligible(program: Program, household: Household) -> None:
    """The household may apply to the program: its file is in force, the
    program is open to its union, tier and cause, and the household carries
    one of the file categories the program requires (if it names any)."""
    if not program.is_active:
        raise ValidationError({"program": _("该帮扶项目已停用。")})
    if household.status != HouseholdStatus.FILED:
        raise ValidationError({"household": _("只有已建档的家庭可以申请帮扶。")})
    if not program.unit.covers(household.unit):
        raise ValidationError({"program": _("该项目不面向该家庭所在的工会。")})
    tiers = {t.pk for t in program.eligible_tiers.all()}
    if tiers and household.tier_id not in tiers:
        raise ValidationError(
            {"program": _("该项目不适用于“%(t)s”家庭。") % {"t": household.tier or _("未定类别")}}
        )
    causes = {c.pk for c in program.eligible_causes.all()}
    if causes:
        own = {household.main_cause_id, *(c.pk for c in household.secondary_causes.all())}
        if not causes & own:
            raise ValidationError({"program": _("该家庭的致困原因不在本项目的适用范围内。")})
    required = list(program.required_categories.all())
    if required:
        own_categories = {c.pk for c in household.categories.all()}
        if not own_categories & {c.pk for c in required}:
            raise ValidationError(
                {
                    "program": _(
                        "该项目仅面向以下档案分类的家庭：%(c)s；该家庭不属于其中任何一类。"
                    )
                    % {"c": "、".join(c.name for c in required)}
                }
            )


def standard_amount(program: Program, household: Household) -> Decimal | None:
    """补助标准 for the household's tier, or None when the program sets none."""
    for row in program.amounts.all():
        if row.tier_id == household.tier_id:
            return row.amount
    return None


def dibao_annual(household: Household, year: int) -> Decimal | None:
    """The local 低保 annual total for the household: standard × 12 × people."""
    on = min(datetime.date(year, 12, 31), max(datetime.date(year, 1, 1), clock.today()))
    standard = standard_for(household.unit, on)
    if standard is None:
        return None
    return yuan(standard.amount * 12 * household.household_size)


def counted(
    applications: Iterable[Application], year: int, exclude: int | None = None
) -> Iterator[Application]:
    """The applications a yearly cap counts: the year's, paid or not, unless
    rejected or withdrawn. `exclude` is one being amended, which is measured
    by its new figures instead."""
    for a in applications:
        if a.year == year and a.status in COUNTED and (exclude is None or a.pk != exclude):
            yield a


@dataclass
class YearUse:
    """What a household's counted applications of one year add up to, under
    each cap rule."""

    living: Decimal = ZERO  # 生活救助, against the 低保 annual total
    medical: Decimal = ZERO  # 医疗救助 applied for
    medical_cost: Decimal = ZERO  # out-of-pocket costs declared with it
    months: dict[int, int] = field(default_factory=dict)  # 助学 months per student
    students: dict[int, Member] = field(default_factory=dict)
    # Per program applied to: what the fixed caps read.
    by_program: dict[int, Decimal] = field(default_factory=dict)
    programs: dict[int, Program] = field(default_factory=dict)


def year_use(applications: Iterable[Application], year: int, exclude: int | None = None) -> YearUse:
    """Add up the counted applications (with their programs loaded). The
    check, the application screen and the household's money screen all
    measure the caps by this sum."""
    use = YearUse()
    for a in counted(applications, year, exclude):
        rule = a.program.cap_rule
        use.programs[a.program_id] = a.program
        use.by_program[a.program_id] = use.by_program.get(a.program_id, ZERO) + a.amount
        if rule == CapRule.DIBAO_ANNUAL:
            use.living += a.amount
        elif rule == CapRule.OUT_OF_POCKET:
            use.medical += a.amount
            use.medical_cost += a.out_of_pocket or ZERO
        elif rule == CapRule.TEN_MONTHS_PER_STUDENT and a.student_id is not None:
            use.months[a.student_id] = use.months.get(a.student_id, 0) + (a.months or 0)
            if a.student is not None:
                use.students[a.student_id] = a.student
    return use


def _use_of(household: Household, year: int, exclude: int | None) -> YearUse:
    rows = Application.objects.filter(
        household=household, year=year, status__in=COUNTED
    ).select_related("program", "student")
    return year_use(rows, year, exclude)


@dataclass
class StudentMonths:
    member: Member
    used: int
    left: int


@dataclass
class CapStatus:
    """A household's standing against one yearly cap, for a person to read
    before asking and for the check to measure a request by: the limit in
    force, what is used, what is left."""

    rule: str
    label: str
    limit: Decimal | None = None
    used: Decimal = ZERO
    left: Decimal | None = None
    # 医疗救助: out-of-pocket costs already registered this year; they are the
    # limit, which each new request raises by the cost it declares.
    cost: Decimal | None = None
    # 低保 annual: no local standard is set, so no aid can be checked.
    no_standard: bool = False
    students: list[StudentMonths] = field(default_factory=list)
    max_months: int = MAX_SCHOOL_MONTHS
    program: Program | None = None  # the program of a fixed cap


def _status(
    rule: str,
    household: Household,
    year: int,
    use: YearUse,
    *,
    program: Program | None = None,
    students: Iterable[Member] | None = None,
) -> CapStatus:
    status = CapStatus(rule=rule, label=str(CapRule(rule).label))
    if rule == CapRule.DIBAO_ANNUAL:
        status.limit = dibao_annual(household, year)
        status.no_standard = status.limit is None
        status.used = use.living
    elif rule == CapRule.OUT_OF_POCKET:
        status.used = use.medical
        status.limit = status.cost = use.medical_cost
    elif rule == CapRule.TEN_MONTHS_PER_STUDENT:
        if students is None:
            students = household.members.exclude(school_stage="")
        # Those in school, and any applied for this year who no longer are.
        members = {m.pk: m for m in students} | use.students
        for pk in sorted(members):
            months = use.months.get(pk, 0)
            status.students.append(
                StudentMonths(members[pk], months, max(MAX_SCHOOL_MONTHS - months, 0))
            )
    elif rule == CapRule.FIXED and program is not None and program.cap_amount is not None:
        status.program = program
        status.limit = program.cap_amount
        status.used = use.by_program.get(program.pk, ZERO)
    if status.limit is not None:
        status.left = max(status.limit - status.used, ZERO)
    return status


def cap_status(
    program: Program,
    household: Household,
    year: int,
    *,
    exclude: int | None = None,
    students: Iterable[Member] | None = None,
) -> CapStatus:
    """The household's standing against the program's yearly cap: what
    check_caps measures a request by."""
    use = _use_of(household, year, exclude)
    return _status(program.cap_rule, household, year, use, program=program, students=students)


def yearly_caps(
    household: Household,
    year: int,
    *,
    applications: Iterable[Application],
    students: Iterable[Member],
    fixed_programs: Iterable[Program],
) -> list[CapStatus]:
    """Every cap the household stands against in a year, from its
    applications already loaded (with program and student): 生活救助,
    医疗救助, 助学 (a line per student) and each fixed-cap program given
    (those open to it) or applied to this year."""
    use = year_use(applications, year)
    caps = [
        _status(CapRule.DIBAO_ANNUAL, household, year, use),
        _status(CapRule.OUT_OF_POCKET, household, year, use),
        _status(CapRule.TEN_MONTHS_PER_STUDENT, household, year, use, students=students),
    ]
    programs = {p.pk: p for p in fixed_programs}
    for pk, program in use.programs.items():
        if program.cap_rule == CapRule.FIXED and program.cap_amount is not None:
            programs.setdefault(pk, program)
    for program in sorted(programs.values(), key=lambda p: (p.name, p.pk)):
        caps.append(_status(CapRule.FIXED, household, year, use, program=program))
    return caps


def check_caps(
    *,
    program: Program,
    household: Household,
    year: int,
    amount: Decimal,
    out_of_pocket: Decimal | None = None,
    student: Member | None = None,
    months: int | None = None,
    exclude: int | None = None,
) -> None:
    """Refuse an amount that would take the household over a yearly cap,
    measured by the same `cap_status` the screens show."""
    rule = program.cap_rule
    if rule == CapRule.OUT_OF_POCKET and (out_of_pocket is None or out_of_pocket <= 0):
        raise ValidationError({"out_of_pocket": _("医疗救助须填写个人自付医疗费用。")})
    if rule == CapRule.TEN_MONTHS_PER_STUDENT:
        if student is None or student.household_id != household.pk:
            raise ValidationError({"student": _("请选择本家庭在读的受助学生。")})
        if not student.school_stage:
            raise ValidationError({"student": _("该成员未登记在读学段。")})
        if not months or months < 1:
            raise ValidationError({"months": _("请填写资助月数。")})
    if rule == CapRule.NONE or (rule == CapRule.FIXED and program.cap_amount is None):
        return
    status = cap_status(
        program, household, year, exclude=exclude, students=[student] if student else None
    )
    if rule == CapRule.TEN_MONTHS_PER_STUDENT and student is not None:
        used_months = next(s.used for s in status.students if s.member.pk == student.pk)
        if used_months + (months or 0) > MAX_SCHOOL_MONTHS:
            raise ValidationError(
                {
                    "months": _(
                        "超过助学上限：每名学生每年最多资助 %(max)s 个月，"
                        "%(name)s 本年已资助 %(used)s 个月。"
                    )
                    % {"max": MAX_SCHOOL_MONTHS, "name": student.name, "used": used_months}
                }
            )
        return
    if rule == CapRule.DIBAO_ANNUAL and status.no_standard:
        raise ValidationError({"amount": _("未设置当地低保标准，无法核定生活救助上限。")})
    limit = status.limit or ZERO
    if rule == CapRule.OUT_OF_POCKET:
        # The request's own cost raises the limit it is measured against.
        limit += out_of_pocket or ZERO
    if status.used + amount <= limit:
        return
    message = {
        CapRule.DIBAO_ANNUAL: _(
            "超过年度生活救助上限：当地低保年标准合计 %(limit)s 元，"
            "本年已申请 %(used)s 元，本次最多 %(left)s 元。"
        ),
        CapRule.OUT_OF_POCKET: _(
            "超过医疗救助上限：本年个人自付医疗费用合计 %(limit)s 元，"
            "已申请 %(used)s 元，本次最多 %(left)s 元。"
        ),
        CapRule.FIXED: _(
            "超过本项目年度上限 %(limit)s 元：本年已申请 %(used)s 元，本次最多 %(left)s 元。"
        ),
    }[CapRule(rule)]
    left = max(limit - status.used, ZERO)
    raise ValidationError(
        {"amount": message % {"limit": yuan(limit), "used": yuan(status.used), "left": yuan(left)}}
    )
