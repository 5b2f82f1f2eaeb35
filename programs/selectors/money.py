"""The household's money view: what it applied for, what it actually
received, and how much of each yearly cap it has used.

Every figure comes from rows, never from the template: applied amounts from
applications, received amounts from the ledger (payment entries minus their
reversals), caps by `rules.yearly_caps`, which the check measures by too. The number
of queries does not depend on how many applications a household has.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.money import ZERO, yuan
from accounts.scoping import covers, get_scoped
from cases import clock
from cases.models import Household, HouseholdStatus, Member, NonCashHelp
from funds.models import LedgerEntry

from ..models import AidPayment, Application, CapRule, Installment, Loan, Program, Repayment
from ..models.aid import COUNTED
from ..services import rules


def get_household_for(user: User, pk: object) -> Household:
    return get_scoped(user, Household.objects.select_related("unit"), pk, action="household.view")


@dataclass
class ApplicationRow:
    application: Application
    received: Decimal
    url: str
    payment: AidPayment | None  # the live (not reversed) payment, if paid

    @property
    def counted(self) -> bool:
        return self.application.status in COUNTED


@dataclass
class ProgramGroup:
    program: Program
    rows: list[ApplicationRow] = field(default_factory=list)
    applied: Decimal = ZERO  # counted applications only, as the caps count
    received: Decimal = ZERO


@dataclass
class YearGroup:
    year: int
    programs: list[ProgramGroup] = field(default_factory=list)
    applied: Decimal = ZERO
    received: Decimal = ZERO
    noncash: int = 0


@dataclass
class CapLine:
    """One cap this year: what is used of what is allowed."""

    key: str
    label: str
    used: Decimal | int
    limit: Decimal | int | None  # None: no limit can be worked out (explained in note)
    left: Decimal | int | None
    months: bool = False  # counted in months rather than yuan
    note: str = ""
    # 医疗救助: each request declares its own cost, which raises the limit,
    # so a limit reached today is not a wall.
    grows: bool = False

    @property
    def full(self) -> bool:
        return not self.grows and self.limit is not None and self.used >= self.limit


@dataclass
class LoanLine:
    loan: Loan
    principal: Decimal
    repaid: Decimal
    outstanding: Decimal
    arrears: Decimal  # due by today and not yet repaid
    url: str


@dataclass
class MoneyView:
    household: Household
    year: int  # this year: the caps and the non-cash count refer to it
    years: list[YearGroup]
    caps: list[CapLine]
    loans: list[LoanLine]
    noncash_this_year: int
    applied_total: Decimal
    received_total: Decimal
    apply_url: str


def _received_by_application(household: Household) -> dict[int, Decimal]:
    """Money received per application: its payment entries (out of a fund)
    minus their reversals (back in), from the ledger rows of this household."""
    rows = (
        LedgerEntry.objects.filter(household=household)
        .filter(Q(aid_payment__isnull=False) | Q(reversed_aid_payment__isnull=False))
        .annotate(
            application_id=Coalesce(
                "aid_payment__application_id", "reversed_aid_payment__application_id"
            )
        )
        .values("application_id")
        .annotate(net=Sum(F("amount") * F("direction")))
        .order_by()
    )
    # A payment leaves the fund (direction −1): what the household received
    # is the opposite of the fund's movement.
    return {r["application_id"]: yuan(ZERO - (r["net"] or ZERO)) for r in rows}


def _noncash_by_year(household: Household) -> dict[int, int]:
    rows = (
        NonCashHelp.objects.filter(household=household)
        .annotate(year=ExtractYear("given_on"))
        .values("year")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["year"]: r["n"] for r in rows}


def _years(
    applications: list[Application], received: dict[int, Decimal], noncash: dict[int, int]
) -> list[YearGroup]:
    groups: dict[int, YearGroup] = {}
    by_program: dict[tuple[int, int], ProgramGroup] = {}
    for application in applications:
        year = groups.setdefault(application.year, YearGroup(application.year))
        key = (application.year, application.program_id)
        group = by_program.get(key)
        if group is None:
            group = by_program[key] = ProgramGroup(application.program)
            year.programs.append(group)
        live = application.live_payments  # type: ignore[attr-defined]
        row = ApplicationRow(
            application,
            received.get(application.pk, ZERO),
            reverse("programs:application_detail", args=[application.pk]),
            live[0] if live else None,
        )
        group.rows.append(row)
        group.received += row.received
        year.received += row.received
        if row.counted:
            group.applied += application.amount
            year.applied += application.amount
    for year_number, count in noncash.items():
        groups.setdefault(year_number, YearGroup(year_number)).noncash = count
    for group_year in groups.values():
        group_year.programs.sort(key=lambda g: (g.program.name, g.program.pk))
    return [groups[y] for y in sorted(groups, reverse=True)]


def _caps(
    household: Household,
    year: int,
    applications: list[Application],
    students: list[Member],
    fixed_programs: list[Program],
) -> list[CapLine]:
    """The caps of 总工发〔2015〕20号 against this year's use, as
    `rules.check_caps` measures them (`rules.yearly_caps`)."""
    lines: list[CapLine] = []
    for cap in rules.yearly_caps(
        household,
        year,
        applications=applications,
        students=students,
        fixed_programs=fixed_programs,
    ):
        if cap.rule == CapRule.DIBAO_ANNUAL:
            note = (
                _("上限为当地低保年标准合计（月标准 × 12 × %(n)s 人）。")
                % {"n": household.household_size}
                if not cap.no_standard
                else _("未设置当地低保标准，无法核定上限。")
            )
            lines.append(CapLine("living", _("生活救助"), cap.used, cap.limit, cap.left, note=note))
        elif cap.rule == CapRule.OUT_OF_POCKET:
            note = _("上限为本年申报的个人自付医疗费用合计，新的申请须同时申报自付费用。")
            lines.append(
                CapLine(
                    "medical", _("医疗救助"), cap.used, cap.limit, cap.left, note=note, grows=True
                )
            )
        elif cap.rule == CapRule.TEN_MONTHS_PER_STUDENT:
            lines.extend(
                CapLine(
                    f"school-{s.member.pk}",
                    _("金秋助学 · %(name)s") % {"name": s.member.name},
                    s.used,
                    cap.max_months,
                    s.left,
                    months=True,
                )
                for s in cap.students
            )
        elif cap.program is not None:
            program = cap.program
            lines.append(
                CapLine(
                    f"program-{program.pk}", program.display_name, cap.used, cap.limit, cap.left
                )
            )
    return lines


def _loans(household: Household, today: datetime.date) -> list[LoanLine]:
    repayments = Repayment.objects.filter(entry__reversed_by__isnull=True)
    loans = (
        Loan.objects.filter(household=household)
        .select_related("application__program")
        .prefetch_related(
            Prefetch("repayments", queryset=repayments, to_attr="live_repayments"),
            Prefetch("installments", queryset=Installment.objects.order_by("seq")),
        )
        .order_by("-issued_on", "-id")
    )
    lines = []
    for loan in loans:
        repaid = sum((r.amount for r in loan.live_repayments), ZERO)  # type: ignore[attr-defined]
        due = sum((i.amount for i in loan.installments.all() if i.due_on <= today), ZERO)
        lines.append(
            LoanLine(
                loan=loan,
                principal=loan.principal,
                repaid=repaid,
                outstanding=max(loan.principal - repaid, ZERO),
                arrears=max(due - repaid, ZERO),
                url=reverse("programs:loan_detail", args=[loan.pk]),
            )
        )
    return lines


def household_money(user: User, household: Household) -> MoneyView:
    """Everything the money view shows, in a fixed number of queries."""
    today = clock.today()
    year = today.year
    applications: list[Application] = list(
        Application.objects.filter(household=household)
        .select_related("program", "student")
        .prefetch_related(
            Prefetch(
                "payments",
                queryset=AidPayment.objects.filter(reversal__isnull=True),
                to_attr="live_payments",
            )
        )
        .order_by("-year", "program__name", "-drafted_at", "-id")
    )
    received = _received_by_application(household)
    noncash = _noncash_by_year(household)
    students = list(household.members.exclude(school_stage="").order_by("id"))
    # Fixed caps of the programs open to the household: its union's and above.
    ancestors = [int(p) for p in household.unit.path.split("/") if p]
    fixed = list(
        Program.objects.filter(
            cap_rule=CapRule.FIXED, is_active=True, cap_amount__isnull=False, unit_id__in=ancestors
        )
    )
    years = _years(applications, received, noncash)
    can_apply = household.status == HouseholdStatus.FILED and covers(
        user, "household.edit", household.unit
    )
    return MoneyView(
        household=household,
        year=year,
        years=years,
        caps=_caps(household, year, applications, students, fixed),
        loans=_loans(household, today),
        noncash_this_year=noncash.get(year, 0),
        applied_total=sum((y.applied for y in years), ZERO),
        received_total=sum((y.received for y in years), ZERO),
        apply_url=reverse("programs:application_create", args=[household.pk]) if can_apply else "",
    )
