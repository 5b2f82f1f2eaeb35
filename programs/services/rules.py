"""The program rules every application passes: eligibility, the application
window and the per-household yearly caps. Each refusal says why, on the field
it concerns."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from cases import clock
from cases.models import Household, HouseholdStatus, Member
from cases.services.intake import standard_for

from ..models import Application, CapRule, Program
from ..models.aid import COUNTED

# Two places, so every figure in a message reads as money (0.00, not 0).
ZERO = Decimal("0.00")
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
    return _yuan(standard.amount * 12 * household.household_size)


def _counted(household: Household, year: int, exclude: int | None) -> "Q":
    q = Q(household=household, year=year, status__in=COUNTED)
    if exclude:
        q &= ~Q(pk=exclude)
    return q


def _yuan(value: Decimal | None) -> Decimal:
    # SQLite returns a sum as Decimal("25000"); messages show yuan to the fen.
    return (value or ZERO).quantize(ZERO)


def _sum(qs: object, field: str = "amount") -> Decimal:
    return _yuan(qs.aggregate(total=Sum(field))["total"])  # type: ignore[attr-defined]


def _counted_qs(household: Household, year: int, exclude: int | None = None) -> Any:
    return Application.objects.filter(_counted(household, year, exclude))


def _medical_used(household: Household, year: int, exclude: int | None) -> tuple[Decimal, Decimal]:
    """(aid applied for, out-of-pocket cost registered) under the medical cap."""
    medical = _counted_qs(household, year, exclude).filter(program__cap_rule=CapRule.OUT_OF_POCKET)
    totals = medical.aggregate(used=Sum("amount"), cost=Sum("out_of_pocket"))
    return _yuan(totals["used"]), _yuan(totals["cost"])


def _student_months(household: Household, year: int, exclude: int | None = None) -> dict[int, int]:
    rows = (
        _counted_qs(household, year, exclude)
        .filter(program__cap_rule=CapRule.TEN_MONTHS_PER_STUDENT, student__isnull=False)
        .order_by()
        .values("student")
        .annotate(total=Sum("months"))
    )
    return {row["student"]: row["total"] or 0 for row in rows}


@dataclass
class StudentMonths:
    member: Member
    used: int
    left: int


@dataclass
class CapStatus:
    """A household's standing against a program's yearly cap, for a person
    to read before asking: the limit in force, what is used, what is left."""

    rule: str
    label: str
    limit: Decimal | None = None
    used: Decimal = ZERO
    left: Decimal | None = None
    # 医疗救助: out-of-pocket costs already registered this year.
    cost: Decimal | None = None
    # 低保 annual: no local standard is set, so no aid can be checked.
    no_standard: bool = False
    students: list[StudentMonths] = field(default_factory=list)
    max_months: int = MAX_SCHOOL_MONTHS


def cap_status(program: Program, household: Household, year: int) -> CapStatus:
    """What check_caps would measure a request against, without a request."""
    rule = program.cap_rule
    status = CapStatus(rule=rule, label=str(CapRule(rule).label))
    counted = _counted_qs(household, year)
    if rule == CapRule.DIBAO_ANNUAL:
        status.limit = dibao_annual(household, year)
        status.no_standard = status.limit is None
        status.used = _sum(counted.filter(program__cap_rule=CapRule.DIBAO_ANNUAL))
    elif rule == CapRule.OUT_OF_POCKET:
        status.used, status.cost = _medical_used(household, year, None)
    elif rule == CapRule.TEN_MONTHS_PER_STUDENT:
        used = _student_months(household, year)
        for member in household.members.exclude(school_stage="").order_by("id"):
            months = used.get(member.pk, 0)
            status.students.append(
                StudentMonths(member, months, max(MAX_SCHOOL_MONTHS - months, 0))
            )
    elif rule == CapRule.FIXED and program.cap_amount is not None:
        status.limit = program.cap_amount
        status.used = _sum(counted.filter(program=program))
    if status.limit is not None:
        status.left = max(status.limit - status.used, ZERO)
    return status


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
    """Refuse an amount that would take the household over a yearly cap.
    Every application not rejected or withdrawn counts, paid or not."""
    counted = _counted_qs(household, year, exclude)
    rule = program.cap_rule
    if rule == CapRule.DIBAO_ANNUAL:
        limit = dibao_annual(household, year)
        if limit is None:
            raise ValidationError({"amount": _("未设置当地低保标准，无法核定生活救助上限。")})
        used = _sum(counted.filter(program__cap_rule=CapRule.DIBAO_ANNUAL))
        if used + amount > limit:
            raise ValidationError(
                {
                    "amount": _(
                        "超过年度生活救助上限：当地低保年标准合计 %(limit)s 元，"
                        "本年已申请 %(used)s 元，本次最多 %(left)s 元。"
                    )
                    % {"limit": limit, "used": used, "left": max(limit - used, ZERO)}
                }
            )
    elif rule == CapRule.OUT_OF_POCKET:
        if out_of_pocket is None or out_of_pocket <= 0:
            raise ValidationError({"out_of_pocket": _("医疗救助须填写个人自付医疗费用。")})
        used, cost = _medical_used(household, year, exclude)
        limit = cost + out_of_pocket
        if used + amount > limit:
            raise ValidationError(
                {
                    "amount": _(
                        "超过医疗救助上限：本年个人自付医疗费用合计 %(limit)s 元，"
                        "已申请 %(used)s 元，本次最多 %(left)s 元。"
                    )
                    % {"limit": limit, "used": used, "left": max(limit - used, ZERO)}
                }
            )
    elif rule == CapRule.TEN_MONTHS_PER_STUDENT:
        if student is None or student.household_id != household.pk:
            raise ValidationError({"student": _("请选择本家庭在读的受助学生。")})
        if not student.school_stage:
            raise ValidationError({"student": _("该成员未登记在读学段。")})
        if not months or months < 1:
            raise ValidationError({"months": _("请填写资助月数。")})
        used_months = _student_months(household, year, exclude).get(student.pk, 0)
        if used_months + months > MAX_SCHOOL_MONTHS:
            raise ValidationError(
                {
                    "months": _(
                        "超过助学上限：每名学生每年最多资助 %(max)s 个月，"
                        "%(name)s 本年已资助 %(used)s 个月。"
                    )
                    % {"max": MAX_SCHOOL_MONTHS, "name": student.name, "used": used_months}
                }
            )
    elif rule == CapRule.FIXED and program.cap_amount is not None:
        used = _sum(counted.filter(program=program))
        if used + amount > program.cap_amount:
            raise ValidationError(
                {
                    "amount": _(
                        "超过本项目年度上限 %(limit)s 元：本年已申请 %(used)s 元，"
                        "本次最多 %(left)s 元。"
                    )
                    % {
                        "limit": _yuan(program.cap_amount),
                        "used": used,
                        "left": max(program.cap_amount - used, ZERO),
                    }
                }
            )
