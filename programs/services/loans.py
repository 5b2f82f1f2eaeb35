"""Loans (无息贷款, 创业担保借款): paying one out with its schedule, and
recording what comes back.

A loan starts as an ordinary application of a loan program, drafted and
approved like any aid. Finance pays it out here: the payment itself goes
through `payments.pay` (separation of duties, the fund's lock, one live
payment per application), and the loan with its monthly schedule is written
in the same transaction, so a loan never exists without its payment or the
other way round. Repayments are receipts into the fund the loan came from.

A mistaken repayment is reversed, never deleted: a reversing ledger entry
takes the money back out of the fund and both rows stay. The repayment row
cannot carry a mark of its own (the model is fixed), so the ledger is the
mark: a repayment whose entry has a reversal no longer counts, here and in
the selectors that work out what is owed.
"""

import calendar
import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from accounts.money import CENT, yuan
from accounts.scoping import covers
from cases import clock
from cases.uploads import checked_upload
from funds import services as ledger
from funds.models import OTHER_SOURCE, Fund, LedgerEntry, PayerKind

from ..models import Application, Installment, Loan, LoanStatus, PaymentMethod, Repayment
from .applications import application_lock, to_amount
from .conflicts import guard_first
from .payments import guard_payer, pay

FINANCE = "fund.manage"
MAX_TERM_MONTHS = 120
# A loan is money handed to the household, never goods.
LOAN_METHODS = (PaymentMethod.BANK, PaymentMethod.CASH)


def add_months(start: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day when it is shorter
    (a schedule starting on 1-31 falls due on 2-28, then 3-31)."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    return datetime.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def schedule_amounts(principal: Decimal, term_months: int) -> list[Decimal]:
    """Equal monthly amounts in whole cents; the last takes the remainder, so
    the schedule adds up to the principal exactly."""
    base = (principal / term_months).quantize(CENT, rounding=ROUND_DOWN)
    return [base] * (term_months - 1) + [principal - base * (term_months - 1)]


def _check_finance(actor: User, fund: Fund) -> None:
    if not covers(actor, FINANCE, fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以办理借款。"))


def _sheet(upload: UploadedFile | None) -> UploadedFile | None:
    if upload is None:
        return None
    try:
        checked_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"signed_sheet": exc.messages}) from None
    return upload


def _term(term_months: Any) -> int:
    try:
        term = int(term_months)
    except (TypeError, ValueError):
        raise ValidationError({"term_months": _("请填写还款期限（月数）。")}) from None
    if not 1 <= term <= MAX_TERM_MONTHS:
        raise ValidationError(
            {"term_months": _("还款期限应在 1 至 %(n)s 个月之间。") % {"n": MAX_TERM_MONTHS}}
        )
    return term


@guard_first(guard_payer)
@transaction.atomic
def loan_disburse(
    *,
    actor: User,
    application: Application,
    fund: Fund,
    method: str,
    term_months: Any,
    first_due_on: datetime.date | None,
    signed_sheet: UploadedFile | None = None,
) -> Loan:
    """Pay out an approved loan application and set its repayment schedule:
    `term_months` equal monthly installments from `first_due_on`. A repeated
    submit finds the loan written first and returns it. The conflict guard
    (回避) runs first, outside the transaction, as for any payment."""
    _check_finance(actor, fund)
    # The application row is the queue: a second submit waits here, then
    # finds the loan the first one wrote.
    application = application_lock(application)
    existing = Loan.objects.filter(application=application).first()
    if existing is not None:
        return existing
    term = _term(term_months)
    today = clock.today()
    if first_due_on is None:
        raise ValidationError({"first_due_on": _("请填写首期还款日期。")})
    if first_due_on <= today:
        raise ValidationError({"first_due_on": _("首期还款日期应晚于放款日期（今天）。")})
    if method not in LOAN_METHODS:
        raise ValidationError({"method": _("借款只能通过银行转账或现金（签收）发放。")})
    payment = pay(
        actor=actor,
        application=application,
        fund=fund,
        method=method,
        signed_sheet=_sheet(signed_sheet),
        loan=True,
    )
    loan = Loan.objects.create(
        application=application,
        payment=payment,
        household=application.household,
        fund=fund,
        principal=application.amount,
        issued_on=payment.paid_on,
        term_months=term,
        created_by=actor,
    )
    Installment.objects.bulk_create(
        Installment(loan=loan, seq=i + 1, due_on=add_months(first_due_on, i), amount=amount)
        for i, amount in enumerate(schedule_amounts(application.amount, term))
    )
    household = application.household
    audit_record(
        actor=actor,
        action="loan.disburse",
        obj=household,
        unit=household.unit,
        changes={
            "principal": [None, str(loan.principal)],
            "term_months": [None, term],
            "first_due_on": [None, first_due_on.isoformat()],
            "fund": [None, str(fund)],
        },
    )
    return loan


def loan_lock(loan: Loan) -> Loan:
    return (
        Loan.objects.select_for_update(no_key=True, of=("self",))
        .select_related("household__unit", "fund__unit")
        .get(pk=loan.pk)
    )


def live_repayments(loan: Loan) -> QuerySet[Repayment]:
    """The loan's repayments that stand: those whose entry is not reversed."""
    return loan.repayments.filter(entry__reversed_by__isnull=True)


def repaid_total(loan: Loan) -> Decimal:
    total = live_repayments(loan).aggregate(total=Sum("amount"))["total"]
    return yuan(total)


@transaction.atomic
def repayment_record(
    *,
    actor: User,
    loan: Loan,
    amount: Any,
    paid_on: datetime.date | None = None,
    date_reason: str = "",
    reference: str | None = None,
) -> Repayment:
    """Money repaid on a loan, received into the fund it was lent from. The
    loan row is locked, so two clerks recording at once cannot together take
    more than the balance; the loan is settled when nothing is left.
    `reference` makes a repeated submit of one form record it once."""
    loan = loan_lock(loan)
    _check_finance(actor, loan.fund)
    if reference:
        first = loan.repayments.filter(entry__reference=reference).first()
        if first is not None:
            return first
    if loan.status == LoanStatus.SETTLED:
        raise ValidationError(_("该笔借款已结清，不能再登记还款。"))
    value = to_amount(amount)
    if value <= 0:
        raise ValidationError({"amount": _("还款金额必须大于 0。")})
    outstanding = loan.principal - repaid_total(loan)
    if value > outstanding:
        raise ValidationError(
            {
                "amount": _("还款金额 %(a)s 元超过未还本金 %(o)s 元。")
                % {"a": value, "o": outstanding}
            }
        )
    today = clock.today()
    paid_on = paid_on or today
    if paid_on > today:
        raise ValidationError({"paid_on": _("还款日期不能晚于今天。")})
    if paid_on < loan.issued_on:
        raise ValidationError({"paid_on": _("还款日期不能早于放款日期。")})
    household = loan.household
    with translation.override("zh-hans"):
        # The ledger keeps one language, whoever is signed in.
        memo = _("借款还款 %(n)s") % {"n": household.name}
    entry = ledger.receipt_post(
        actor=actor,
        fund=loan.fund,
        amount=value,
        memo=memo,
        # A repayment is the fund's own money coming back, not income from
        # any outside source on the list: it is filed under "其他" so the
        # statements still total it, and the household head is the payer.
        source=OTHER_SOURCE,
        payer_kind=PayerKind.PERSON,
        payer=household.name,
        occurred_on=paid_on,
        # A back-dated repayment needs its reason, inside the union's window.
        date_reason=date_reason,
        date_field="paid_on",
        reference=reference,
        household=household,
    )
    repayment = Repayment.objects.create(
        loan=loan, amount=value, paid_on=paid_on, entry=entry, actor=actor
    )
    before = loan.status
    if value == outstanding:
        loan.status = LoanStatus.SETTLED
        loan.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="loan.repay",
        obj=household,
        unit=household.unit,
        changes={
            "amount": [None, str(value)],
            "outstanding": [str(outstanding), str(outstanding - value)],
            **({"status": [before, loan.status]} if loan.status != before else {}),
        },
    )
    return repayment


def reversal_checked(reason: str, amount: Decimal, fund: Fund) -> str:
    """The reason for reversing money received into `fund`, stripped; refused
    without one, or when the fund no longer holds the money (it was spent)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("冲正须填写理由。")})
    if len(reason) > ledger.REASON_LIMIT:
        raise ValidationError(
            {"reason": _("冲正理由最多 %(n)s 个字。") % {"n": ledger.REASON_LIMIT}}
        )
    if amount > ledger.balance_of(fund):
        raise ValidationError(_("冲正后“%(f)s”余额将为负数，请先处理相关支出。") % {"f": fund.name})
    return reason


def repayment_reversed(repayment: Repayment) -> bool:
    """Whether the repayment's ledger entry has been reversed (the reverse
    one-to-one is read from the cache when the entry was loaded with it)."""
    return hasattr(repayment.entry, "reversed_by")


@transaction.atomic
def repayment_reverse(*, actor: User, repayment: Repayment, reason: str) -> LedgerEntry:
    """Undo a mistaken repayment: a reversing entry takes the money back out
    of the loan's fund, the repayment row stays (marked by that entry), and
    what is owed is worked out again without it. A loan the repayment had
    settled is being repaid again.

    The loan row is locked first and the fund second (inside the ledger),
    the order `repayment_record` takes them in, so a reversal and a new
    repayment of the same loan queue instead of deadlocking."""
    loan_id = Repayment.objects.values_list("loan_id", flat=True).get(pk=repayment.pk)
    loan = loan_lock(Loan(pk=loan_id))
    _check_finance(actor, loan.fund)
    repayment = Repayment.objects.select_related("entry__reversed_by").get(pk=repayment.pk)
    if repayment_reversed(repayment):
        raise ValidationError(_("该笔还款已冲正，不能重复冲正。"))
    reason = reversal_checked(reason, repayment.amount, loan.fund)
    outstanding = loan.principal - repaid_total(loan)
    with translation.override("zh-hans"):
        # The ledger keeps one language, whoever is signed in (the checks
        # above speak the user's; the ledger repeats them under its lock).
        reversal = ledger.entry_reverse(actor=actor, entry=repayment.entry, reason=reason)
    before = loan.status
    if loan.status == LoanStatus.SETTLED:
        # Money is owed again: the loan is back among those being repaid.
        loan.status = LoanStatus.ACTIVE
        loan.save(update_fields=["status"])
    household = loan.household
    audit_record(
        actor=actor,
        action="loan.repayment_reverse",
        obj=household,
        unit=household.unit,
        changes={
            "repayment": [repayment.pk, None],
            "amount": [str(repayment.amount), None],
            "paid_on": [repayment.paid_on.isoformat(), None],
            "outstanding": [str(outstanding), str(outstanding + repayment.amount)],
            "reason": [None, reason],
            **({"status": [before, loan.status]} if loan.status != before else {}),
        },
    )
    return reversal
