"""Reads of loans: the figures of each loan (outstanding, due, arrears, how
long overdue), lists of them and one loan's schedule.

The figures are computed by the database as subquery annotations, so a list
page costs the same few queries whether it shows one loan or a hundred, and
it can be filtered and sorted on arrears before it is paginated.

A loan is read by those who answer for the money (`fund.view`) and those who
look after the family (`household.view`), in the loan's household's union.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import (
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.money import CENT, NO_MONEY, SUM_FIELD
from accounts.scoping import get_scoped, scope_q
from cases import clock
from funds.models import LedgerEntry

from ..models import (
    Application,
    ApplicationStatus,
    Installment,
    Kind,
    Loan,
    LoanStatus,
    Repayment,
)

VIEW_ACTIONS = ("fund.view", "household.view")
# Amounts are whole cents. SQLite adds them as floating point, so "more than"
# is asked as "more than half a cent more", which is exact on both engines.
HALF_CENT = CENT / 2


# -- figures -------------------------------------------------------------------


def live_repayments() -> QuerySet[Repayment]:
    """Repayments that stand. A mistaken one is reversed in the ledger and
    keeps its row; its entry's reversal is what marks it, so every figure
    here leaves it out."""
    return Repayment.objects.filter(entry__reversed_by__isnull=True)


def _total(queryset: QuerySet[Any]) -> Coalesce:
    sums = queryset.order_by().values("loan").annotate(total=Sum("amount")).values("total")[:1]
    return Coalesce(Subquery(sums, output_field=SUM_FIELD), NO_MONEY, output_field=SUM_FIELD)


def with_figures(queryset: QuerySet[Loan], today: datetime.date) -> QuerySet[Loan]:
    """Annotate repaid, outstanding, due (installments due by `today`),
    arrears (due − repaid, never below 0) and overdue_since: the due date of
    the earliest installment that the repayments, allocated to installments
    in order, do not cover yet."""
    queryset = queryset.annotate(
        repaid=_total(live_repayments().filter(loan=OuterRef("pk"))),
        due=_total(Installment.objects.filter(loan=OuterRef("pk"), due_on__lte=today)),
    )
    # What the schedule asks for up to and including each installment.
    running = (
        Installment.objects.filter(loan=OuterRef("loan"), seq__lte=OuterRef("seq"))
        .order_by()
        .values("loan")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    uncovered = (
        Installment.objects.filter(loan=OuterRef("pk"), due_on__lte=today)
        .annotate(running=Subquery(running, output_field=SUM_FIELD))
        .filter(running__gt=OuterRef("repaid") + HALF_CENT)
        .order_by("seq")
        .values("due_on")[:1]
    )
    return queryset.annotate(
        outstanding=F("principal") - F("repaid"),
        arrears=Greatest(F("due") - F("repaid"), NO_MONEY, output_field=SUM_FIELD),
        overdue_since=Subquery(uncovered),
    )


def days_overdue(loan: Loan, today: datetime.date) -> int:
    since = getattr(loan, "overdue_since", None)
    return (today - since).days if since is not None else 0


def _decorated(loans: list[Loan], today: datetime.date) -> list[Loan]:
    for loan in loans:
        loan.days_overdue = days_overdue(loan, today)  # type: ignore[attr-defined]
    return loans


# -- lists ---------------------------------------------------------------------


@dataclass
class LoanFilter:
    status: str = ""
    arrears_only: bool = False


def _visible(user: User) -> QuerySet[Loan]:
    scope = scope_q(user, VIEW_ACTIONS, "household__unit__")
    if scope is None:
        raise PermissionDenied
    return Loan.objects.filter(scope)


def loan_list(user: User, flt: LoanFilter, today: datetime.date | None = None) -> QuerySet[Loan]:
    today = today or clock.today()
    queryset = with_figures(_visible(user), today)
    if flt.status in LoanStatus.values:
        queryset = queryset.filter(status=flt.status)
    if flt.arrears_only:
        queryset = queryset.filter(Q(arrears__gt=HALF_CENT), status=LoanStatus.ACTIVE)
    return queryset.select_related("household__unit", "application__program").order_by(
        "-issued_on", "-id"
    )


def loan_arrears(user: User, today: datetime.date | None = None) -> QuerySet[Loan]:
    """逾期未还: loans with money due and not repaid, longest overdue first."""
    today = today or clock.today()
    return (
        with_figures(_visible(user), today)
        .filter(Q(arrears__gt=HALF_CENT), status=LoanStatus.ACTIVE)
        .select_related("household__unit", "application__program")
        .order_by("overdue_since", "id")
    )


def page_rows(loans: Any, today: datetime.date | None = None) -> list[Loan]:
    """A page of loans from the lists above, with days overdue attached."""
    return _decorated(list(loans), today or clock.today())


AWAITING_SHOWN = 20


def awaiting_disbursement(user: User) -> list[Application]:
    """Approved loan applications the user's finance role may pay out (待放款)."""
    scope = scope_q(user, ("fund.manage",), "household__unit__")
    if scope is None:
        return []
    return list(
        Application.objects.filter(
            scope, status=ApplicationStatus.APPROVED, program__kind=Kind.LOAN
        )
        .select_related("household__unit", "program")
        .order_by("drafted_at", "id")[:AWAITING_SHOWN]
    )


# -- one loan ------------------------------------------------------------------


def get_loan_for(
    user: User, pk: object, *, action: str | None = None, today: datetime.date | None = None
) -> Loan:
    """One loan with its figures: readable with `fund.view` or
    `household.view`, or only with `action` when given (fund.manage)."""
    actions = (action,) if action else VIEW_ACTIONS
    queryset = with_figures(Loan.objects.all(), today or clock.today()).select_related(
        "household__unit", "fund__unit", "application__program", "payment", "created_by"
    )
    loan: Loan = get_scoped(user, queryset, pk, action=actions, unit_field="household__unit")
    return loan


@dataclass
class ScheduleRow:
    installment: Installment
    covered: Decimal  # how much of it the repayments, in order, have paid
    state: str  # paid, partly, overdue, upcoming

    @property
    def unpaid(self) -> Decimal:
        return self.installment.amount - self.covered

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


STATE_LABELS = {
    "paid": gettext_lazy("已还清"),
    "partly": gettext_lazy("部分还款"),
    "overdue": gettext_lazy("到期未还"),
    "upcoming": gettext_lazy("未到期"),
}


@dataclass
class RepaymentRow:
    repayment: Repayment
    # The entry that reversed it, if it was reversed, with the reason given.
    reversal: LedgerEntry | None
    reason: str = ""

    @property
    def reversed(self) -> bool:
        return self.reversal is not None


def reversal_reason(reversal: LedgerEntry) -> str:
    """The reason typed when reversing, from the reversal's memo: the
    reversal services write it as "冲正：<reason>" whoever is signed in."""
    return reversal.memo.removeprefix("冲正：")


def schedule(
    loan: Loan, today: datetime.date | None = None
) -> tuple[list[ScheduleRow], list[RepaymentRow]]:
    """The installments with their state, and the repayments, newest first.
    Repayments pay the installments in order: the oldest debt first; a
    reversed repayment is listed but pays nothing."""
    today = today or clock.today()
    installments = list(loan.installments.order_by("seq"))
    repayments = []
    for r in loan.repayments.select_related("actor", "entry__reversed_by").order_by(
        "-paid_on", "-id"
    ):
        reversal = getattr(r.entry, "reversed_by", None)
        reason = reversal_reason(reversal) if reversal is not None else ""
        repayments.append(RepaymentRow(r, reversal, reason))
    left = sum((r.repayment.amount for r in repayments if not r.reversed), Decimal("0"))
    rows = []
    for inst in installments:
        covered = min(left, inst.amount)
        left -= covered
        if covered == inst.amount:
            state = "paid"
        elif covered > 0:
            state = "partly"
        elif inst.due_on <= today:
            state = "overdue"
        else:
            state = "upcoming"
        rows.append(ScheduleRow(installment=inst, covered=covered, state=state))
    return rows, repayments


def get_repayment_for(
    user: User, pk: object, *, action: str, today: datetime.date | None = None
) -> tuple[Repayment, Loan]:
    """One repayment, for those holding `action` over the loan's fund (the
    fund the money went into): 403 without it, 404 outside its units. With
    its loan's figures as they stand."""
    queryset = Repayment.objects.select_related("entry__reversed_by", "actor")
    repayment: Repayment = get_scoped(
        user, queryset, pk, action=(action,), unit_field="loan__fund__unit"
    )
    loan = (
        with_figures(Loan.objects.filter(pk=repayment.loan_id), today or clock.today())
        .select_related("household__unit", "fund__unit", "application__program")
        .get()
    )
    return repayment, loan
