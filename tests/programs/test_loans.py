"""Loans: paying one out with its schedule, repayments, arrears.

alice drafts the loan application, carol approves it, dave (finance of
county A) pays it out and records what comes back."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from funds.models import LedgerEntry
from funds.services import balance_of
from programs.models import AidPayment, ApplicationStatus, Loan, LoanStatus, Program, Repayment
from programs.selectors import loans as selectors
from programs.services import applications
from programs.services.loans import add_months, loan_disburse, repayment_record, schedule_amounts
from tests.programs.conftest import filed
from tests.programs.routes_loans import active_loan
from tests.race import on_postgres
from tests.race import race as _race


def set_day(day: datetime.date) -> None:
    """Put the workflow clock on `day` (the conftest puts it back)."""
    clock.reset()
    clock.advance(day - clock.today())


@pytest.fixture
def loan_program(units, fund):
    program = Program.objects.create(
        unit=units["city"], name="困难职工无息借款", category="loan", kind="loan"
    )
    program.funds.add(fund)
    return program


def approved_loan(alice, carol, household, program, amount="12000"):
    app = applications.application_draft(
        actor=alice, household=household, program=program, amount=amount, reason="开办早餐店"
    )
    applications.application_decide(actor=carol, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED
    return app


@pytest.fixture
def loan_app(alice, carol, household, loan_program):
    return approved_loan(alice, carol, household, loan_program)


def disburse(dave, app, fund, term=12, first_due_on=None):
    return loan_disburse(
        actor=dave,
        application=app,
        fund=fund,
        method="bank",
        term_months=term,
        first_due_on=first_due_on or add_months(clock.today(), 1),
    )


# -- schedule ------------------------------------------------------------------


def test_schedule_amounts_add_up_to_the_principal_with_the_cents_on_the_last():
    assert schedule_amounts(D("1000"), 3) == [D("333.33"), D("333.33"), D("333.34")]
    assert sum(schedule_amounts(D("12345.67"), 7)) == D("12345.67")
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 1, 31), 2) == datetime.date(2026, 3, 31)
    assert add_months(datetime.date(2026, 11, 15), 3) == datetime.date(2027, 2, 15)


@pytest.mark.django_db
def test_disburse_pays_the_loan_out_and_sets_a_schedule_summing_to_the_principal(
    alice, carol, dave, household, loan_program, fund
):
    set_day(datetime.date(2026, 1, 10))
    app = approved_loan(alice, carol, household, loan_program, amount="1000")
    loan = disburse(dave, app, fund, term=3, first_due_on=datetime.date(2026, 1, 31))
    assert (loan.principal, loan.term_months, loan.status) == (D("1000.00"), 3, "active")
    assert loan.issued_on == datetime.date(2026, 1, 10)
    rows = [(i.seq, i.due_on, i.amount) for i in loan.installments.order_by("seq")]
    assert rows == [
        (1, datetime.date(2026, 1, 31), D("333.33")),
        (2, datetime.date(2026, 2, 28), D("333.33")),
        (3, datetime.date(2026, 3, 31), D("333.34")),
    ]
    assert sum(amount for _s, _d, amount in rows) == loan.principal
    assert balance_of(fund) == D("99000.00")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.PAID
    assert AuditEvent.objects.filter(action="loan.disburse").count() == 1

    # The same form submitted again: the loan written first comes back.
    again = disburse(dave, app, fund, term=3, first_due_on=datetime.date(2026, 1, 31))
    assert again.pk == loan.pk
    assert Loan.objects.count() == 1 and AidPayment.objects.count() == 1
    assert balance_of(fund) == D("99000.00")


@pytest.mark.django_db
def test_disburse_is_for_finance_only_and_refuses_bad_terms(alice, carol, dave, loan_app, fund):
    with pytest.raises(PermissionDenied):
        disburse(carol, loan_app, fund)
    with pytest.raises(ValidationError) as err:
        disburse(dave, loan_app, fund, term=0)
    assert "term_months" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        disburse(dave, loan_app, fund, first_due_on=clock.today())
    assert "first_due_on" in err.value.error_dict
    assert not Loan.objects.exists()
    assert balance_of(fund) == D("100000.00")


@pytest.mark.django_db
def test_an_ordinary_payment_cannot_pay_a_loan_application(dave, loan_app, fund):
    from programs.services.payments import aid_pay

    with pytest.raises(ValidationError) as err:
        aid_pay(actor=dave, application=loan_app, fund=fund, method="bank")
    assert "借款项目须通过放款办理" in " ".join(err.value.messages)
    assert balance_of(fund) == D("100000.00")


# -- repayments ----------------------------------------------------------------


@pytest.mark.django_db
def test_repayments_reduce_what_is_owed_and_settle_the_loan(dave, carol, loan_app, fund):
    loan = disburse(dave, loan_app, fund)
    assert balance_of(fund) == D("88000.00")
    repayment_record(actor=dave, loan=loan, amount="2500")
    figures = selectors.get_loan_for(dave, loan.pk)
    assert (figures.repaid, figures.outstanding) == (D("2500.00"), D("9500.00"))
    assert balance_of(fund) == D("90500.00")
    entry = LedgerEntry.objects.filter(kind="receipt").latest("id")
    assert entry.memo == f"借款还款 {loan.household.name}"

    with pytest.raises(ValidationError) as err:
        repayment_record(actor=dave, loan=loan, amount="9500.01")
    assert "超过未还本金 9500.00 元" in " ".join(err.value.messages)
    with pytest.raises(PermissionDenied):
        repayment_record(actor=carol, loan=loan, amount="100")
    assert Repayment.objects.count() == 1
    assert balance_of(fund) == D("90500.00")

    repayment_record(actor=dave, loan=loan, amount="9500")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.SETTLED
    assert balance_of(fund) == D("100000.00")
    with pytest.raises(ValidationError) as err:
        repayment_record(actor=dave, loan=loan, amount="1")
    assert "已结清" in " ".join(err.value.messages)


@pytest.mark.django_db
def test_a_repeated_repayment_form_records_once(dave, loan_app, fund):
    loan = disburse(dave, loan_app, fund)
    first = repayment_record(actor=dave, loan=loan, amount="1000", reference="repay:x:1")
    again = repayment_record(actor=dave, loan=loan, amount="1000", reference="repay:x:1")
    assert first.pk == again.pk
    assert Repayment.objects.count() == 1
    assert balance_of(fund) == D("89000.00")


# -- arrears -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_loan_two_installments_behind_shows_its_arrears_and_days(as_user, dave, loan_app, fund):
    set_day(datetime.date(2026, 1, 10))
    loan = disburse(dave, loan_app, fund, first_due_on=datetime.date(2026, 2, 10))
    set_day(datetime.date(2026, 2, 12))
    repayment_record(actor=dave, loan=loan, amount="1000")
    # Due: Feb, Mar and Apr, 3000; repaid 1000; the March one is the oldest unpaid.
    set_day(datetime.date(2026, 4, 20))
    [row] = selectors.page_rows(selectors.loan_arrears(dave))
    assert (row.pk, row.due, row.repaid, row.arrears) == (
        loan.pk,
        D("3000.00"),
        D("1000.00"),
        D("2000.00"),
    )
    assert row.overdue_since == datetime.date(2026, 3, 10)
    assert row.days_overdue == 41

    page = as_user(dave).get(reverse("programs:loan_arrears")).content.decode()
    assert loan.household.name in page and "2000.00" in page and "41 天" in page

    # Half of March paid: still overdue since March, 1500 behind.
    repayment_record(actor=dave, loan=loan, amount="500")
    [row] = selectors.page_rows(selectors.loan_arrears(dave))
    assert (row.arrears, row.days_overdue) == (D("1500.00"), 41)
    detail = as_user(dave).get(reverse("programs:loan_detail", args=[loan.pk])).content.decode()
    assert detail.count("state-paid") == 1 and detail.count("state-partly") == 1
    assert detail.count("state-overdue") == 1 and detail.count("state-upcoming") == 9

    # Caught up: off the list, though the loan is still being repaid.
    repayment_record(actor=dave, loan=loan, amount="1500")
    assert not selectors.loan_arrears(dave).exists()
    assert selectors.get_loan_for(dave, loan.pk).outstanding == D("9000.00")


@pytest.mark.django_db
def test_loans_are_seen_only_inside_the_users_units(as_user, alice, bob, fay, units):
    ours = active_loan(filed(units["a"]), issued_on=clock.today() - datetime.timedelta(days=70))
    theirs = active_loan(filed(units["b"], name="赵铁柱"))
    assert [loan.pk for loan in selectors.loan_arrears(alice)] == [ours.pk]
    assert not selectors.loan_arrears(bob).exists()
    page = as_user(fay).get(reverse("programs:loan_list")).content.decode()
    assert theirs.household.name in page and ours.household.name not in page


def _loans(units, count, start):
    for i in range(count):
        active_loan(
            filed(units["a1"], name=f"户{start + i}"),
            issued_on=clock.today() - datetime.timedelta(days=95),
        )


@pytest.mark.django_db
# Session, user, second-factor device, roles, count, page; the full list also
# asks for 待放款.
@pytest.mark.parametrize("name,bound", [("programs:loan_arrears", 6), ("programs:loan_list", 7)])
def test_loan_lists_take_the_same_queries_for_few_and_many_loans(
    as_user, dave, units, django_assert_max_num_queries, name, bound
):
    client = as_user(dave)
    _loans(units, 2, 0)
    with django_assert_max_num_queries(bound):
        page = client.get(reverse(name)).content.decode()
    assert page.count("户0") == 1 and "3000.00" in page
    _loans(units, 30, 2)
    with django_assert_max_num_queries(bound):
        response = client.get(reverse(name))
    assert response.status_code == 200
    assert "共 32 条" in response.content.decode()


@pytest.mark.django_db
def test_the_list_filters_by_status_and_arrears(as_user, dave, units):
    late = active_loan(
        filed(units["a"], name="拖欠户"), issued_on=clock.today() - datetime.timedelta(days=70)
    )
    fresh = active_loan(filed(units["a"], name="新贷户"))
    Loan.objects.filter(pk=fresh.pk).update(status=LoanStatus.SETTLED)
    client = as_user(dave)
    page = client.get(reverse("programs:loan_list") + "?arrears=on").content.decode()
    assert "拖欠户" in page and "新贷户" not in page
    page = client.get(reverse("programs:loan_list") + "?status=settled").content.decode()
    assert "新贷户" in page and "拖欠户" not in page
    assert late.household.name == "拖欠户"


# -- screens -------------------------------------------------------------------


@pytest.mark.django_db
def test_disburse_screen_pays_out_and_shows_the_schedule(as_user, dave, loan_app, fund):
    client = as_user(dave)
    url = reverse("programs:loan_disburse", args=[loan_app.pk])
    # Finance finds the approved application waiting on the loan list.
    page = client.get(reverse("programs:loan_list")).content.decode()
    assert 'id="awaiting"' in page and url in page
    page = client.get(url).content.decode()
    assert "12000.00" in page and fund.name in page
    response = client.post(
        url,
        {"fund": fund.pk, "method": "bank", "term_months": "0", "first_due_on": "2099-01-01"},
    )
    assert response.status_code == 200
    assert "还款期限至少 1 个月" in response.content.decode()
    assert not Loan.objects.exists()
    response = client.post(
        url,
        {
            "fund": fund.pk,
            "method": "bank",
            "term_months": "6",
            "first_due_on": add_months(clock.today(), 1).isoformat(),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "已向" in page and page.count("state-upcoming") == 6
    # Opening the form again leads to the loan, not to a second payment.
    again = client.get(url)
    assert again["Location"] == reverse("programs:loan_detail", args=[Loan.objects.get().pk])
    assert 'id="awaiting"' not in client.get(reverse("programs:loan_list")).content.decode()


@pytest.mark.django_db
def test_repayment_screen_refuses_too_much_with_a_clear_message(as_user, dave, loan_app, fund):
    loan = disburse(dave, loan_app, fund)
    client = as_user(dave)
    url = reverse("programs:repayment_record", args=[loan.pk])
    response = client.post(url, {"amount": "12000.01", "token": "abc"})
    assert response.status_code == 200
    assert "还款金额 12000.01 元超过未还本金 12000.00 元" in response.content.decode()
    assert not Repayment.objects.exists()
    response = client.post(url, {"amount": "abc", "token": "abc"})
    assert "金额格式不正确" in response.content.decode()
    # A double tap on the button: one repayment.
    for _ in range(2):
        response = client.post(url, {"amount": "12000", "token": "tok1"})
        assert response.status_code == 302
    assert Repayment.objects.count() == 1
    loan.refresh_from_db()
    assert loan.status == LoanStatus.SETTLED
    page = client.get(reverse("programs:loan_detail", args=[loan.pk])).content.decode()
    assert "已结清" in page and "登记还款</a>" not in page


def test_a_back_dated_repayment_needs_its_reason(as_user, dave, loan_app, fund):
    loan = disburse(dave, loan_app, fund)
    set_day(clock.today() + datetime.timedelta(days=10))
    client = as_user(dave)
    url = reverse("programs:repayment_record", args=[loan.pk])
    three_days_ago = (clock.today() - datetime.timedelta(days=3)).isoformat()
    response = client.post(url, {"amount": "500", "paid_on": three_days_ago, "token": "t1"})
    assert response.status_code == 200
    assert "早于今天，须填写补录理由" in response.content.decode()
    assert not Repayment.objects.exists()
    response = client.post(
        url,
        {"amount": "500", "paid_on": three_days_ago, "date_reason": "银行回单迟到", "token": "t2"},
    )
    assert response.status_code == 302
    repayment = Repayment.objects.get()
    assert repayment.paid_on.isoformat() == three_days_ago
    assert repayment.entry.occurred_on == repayment.paid_on
    assert repayment.entry.date_reason == "银行回单迟到"


# -- concurrency (PostgreSQL) -----------------------------------------------------


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_repayments_never_take_more_than_the_balance(dave, loan_app, fund):
    loan = disburse(dave, loan_app, fund)
    refused = _race(6, lambda i: repayment_record(actor=dave, loan=loan, amount="5000"))
    assert len(refused) == 4
    assert Repayment.objects.count() == 2
    assert selectors.get_loan_for(dave, loan.pk).outstanding == D("2000.00")
    assert balance_of(fund) == D("98000.00")


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_submits_of_one_disbursement_pay_once(dave, loan_app, fund):
    refused = _race(10, lambda i: disburse(dave, loan_app, fund))
    assert not refused
    assert Loan.objects.count() == 1 and AidPayment.objects.count() == 1
    assert Loan.objects.get().installments.count() == 12
    assert balance_of(fund) == D("88000.00")
