"""Two interest-free loans: a small one repaid in full, a larger one whose
repayments stopped after three months, so it is in arrears."""

import datetime

from programs.models import Application, Loan, PaymentMethod
from programs.services import loans

from ..clock import on_day
from .state import MoneyDemo

day = datetime.date


def loans_create(demo: MoneyDemo) -> None:
    y = demo.year
    with on_day(day(y, 1, 22)):
        small = demo.approve(
            demo.draft(demo.take(), "loan", "8000", "购置缝纫设备，承接服装来料加工")
        )
    with on_day(day(y, 2, 1)):
        settled = _disburse(demo, small, term_months=4, first_due_on=day(y, 3, 1))
    with on_day(day(y, 3, 25)):
        big = demo.approve(
            demo.draft(demo.take(), "loan", "30000", "开办社区早餐店，购置设备及首月房租")
        )
    with on_day(day(y, 4, 1)):
        active = _disburse(demo, big, term_months=12, first_due_on=day(y, 5, 1))
    _repay(demo, settled, "2000", [day(y, month, 1) for month in (3, 4, 5, 6)])
    # Three months repaid, then nothing: the rest falls into arrears.
    _repay(demo, active, "2500", [day(y, 5, 1), day(y, 6, 2), day(y, 7, 3)])


def _disburse(
    demo: MoneyDemo, application: Application, *, term_months: int, first_due_on: datetime.date
) -> Loan:
    return loans.loan_disburse(
        actor=demo.finance,
        application=application,
        fund=demo.funds["grant"],
        method=PaymentMethod.BANK,
        term_months=term_months,
        first_due_on=first_due_on,
    )


def _repay(demo: MoneyDemo, loan: Loan, amount: str, days: list[datetime.date]) -> None:
    # Each repayment recorded on the day it was paid, as a clerk would.
    for paid_on in days:
        with on_day(paid_on):
            loans.repayment_record(actor=demo.finance, loan=loan, amount=amount, paid_on=paid_on)
