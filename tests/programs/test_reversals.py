"""Reversing a mistaken loan repayment or mutual-aid premium.

dave (finance of county A) records the money and takes it back out; carol
(chair) may not, fay (finance of county B) does not even see it. The rows
stay: the ledger's reversing entry is what marks the repayment or premium,
and every figure that counted it is worked out again without it."""

import datetime
import html
import re
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from funds import services as ledger
from funds.models import LedgerEntry
from programs.models import Cooperative, CoopMember, LoanStatus, Premium, Program, Repayment
from programs.selectors import loans as loan_selectors
from programs.services import applications, mutual
from programs.services.loans import loan_disburse, repayment_record, repayment_reverse
from tests.programs.conftest import filed
from tests.race import on_postgres
from tests.race import race as _race


def set_day(day: datetime.date) -> None:
    clock.reset()
    clock.advance(day - clock.today())


REVERSAL_EVENTS = ("ledger.reverse", "loan.repayment_reverse", "coop.premium_reverse")


def text_of(page: str, element_id: str) -> str:
    """The visible text of the element with this id (a cell, a figure...)."""
    match = re.search(rf'<(\w+)[^>]* id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element #{element_id} on the page"
    text = html.unescape(re.sub(r"<[^>]+>", "", match.group(2)))
    return re.sub(r"\s+", " ", text).strip()


def money_state(fund):
    """What a clerk would check: the balance, the ledger, the records, and
    the reversals in the trail."""
    return (
        ledger.balance_of(fund),
        LedgerEntry.objects.count(),
        Repayment.objects.count(),
        Premium.objects.count(),
        AuditEvent.objects.filter(action__in=REVERSAL_EVENTS).count(),
    )


# -- loans ---------------------------------------------------------------------


@pytest.fixture
def loan(units, alice, carol, dave, household, fund):
    """12000 lent on 10 January 2026 from `fund`, 1000 a month from 10 February."""
    set_day(datetime.date(2026, 1, 10))
    program = Program.objects.create(
        unit=units["city"], name="困难职工无息借款", category="loan", kind="loan"
    )
    program.funds.add(fund)
    app = applications.application_draft(
        actor=alice, household=household, program=program, amount="12000", reason="开办早餐店"
    )
    applications.application_decide(actor=carol, application=app, approve=True)
    return loan_disburse(
        actor=dave,
        application=app,
        fund=fund,
        method="bank",
        term_months=12,
        first_due_on=datetime.date(2026, 2, 10),
    )


def reverse_url(repayment):
    return reverse("programs:repayment_reverse", args=[repayment.pk])


@pytest.mark.django_db
def test_a_repayment_names_the_household_on_its_ledger_entry(dave, loan, household):
    repayment = repayment_record(actor=dave, loan=loan, amount="1000")
    assert repayment.entry.household_id == household.pk
    assert repayment.entry.memo == f"借款还款 {household.name}"


@pytest.mark.django_db
def test_reversing_a_repayment_takes_the_money_back_and_keeps_both_rows(dave, loan, fund):
    repayment_record(actor=dave, loan=loan, amount="1000")
    mistaken = repayment_record(actor=dave, loan=loan, amount="1500")
    assert ledger.balance_of(fund) == D("90500.00")

    reversal = repayment_reverse(actor=dave, repayment=mistaken, reason="  重复入账 ")
    assert ledger.balance_of(fund) == D("89000.00")
    assert Repayment.objects.filter(loan=loan).count() == 2
    assert (reversal.kind, reversal.direction, reversal.amount) == ("reversal", -1, D("1500"))
    assert reversal.reverses_id == mistaken.entry_id
    assert reversal.memo == "冲正：重复入账"
    assert reversal.household_id == loan.household_id
    assert LedgerEntry.objects.filter(pk=mistaken.entry_id).exists()
    figures = loan_selectors.get_loan_for(dave, loan.pk)
    assert (figures.repaid, figures.outstanding) == (D("1000.00"), D("11000.00"))
    event = AuditEvent.objects.get(action="loan.repayment_reverse")
    assert event.changes["amount"] == ["1500.00", None]
    assert event.changes["reason"] == [None, "重复入账"]

    # A second reversal of the same repayment is refused, and changes nothing.
    before = money_state(fund)
    with pytest.raises(ValidationError, match="该笔还款已冲正"):
        repayment_reverse(actor=dave, repayment=mistaken, reason="再冲一次")
    assert money_state(fund) == before
    # The money can be recorded again, correctly this time.
    repayment_record(actor=dave, loan=loan, amount="500")
    assert loan_selectors.get_loan_for(dave, loan.pk).outstanding == D("10500.00")


@pytest.mark.django_db
def test_only_the_funds_finance_reverses_and_a_reason_is_needed(carol, dave, fay, loan, fund):
    repayment = repayment_record(actor=dave, loan=loan, amount="1000")
    before = money_state(fund)
    for who in (carol, fay):
        with pytest.raises(PermissionDenied):
            repayment_reverse(actor=who, repayment=repayment, reason="误记")
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as err:
            repayment_reverse(actor=dave, repayment=repayment, reason=reason)
        assert "reason" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        repayment_reverse(actor=dave, repayment=repayment, reason="x" * 151)
    assert "reason" in err.value.error_dict
    assert money_state(fund) == before


@pytest.mark.django_db
def test_a_settled_loan_reopens_when_a_repayment_is_reversed(as_user, dave, loan, fund):
    repayment_record(actor=dave, loan=loan, amount="11000")
    last = repayment_record(actor=dave, loan=loan, amount="1000")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.SETTLED

    repayment_reverse(actor=dave, repayment=last, reason="银行退回")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE
    event = AuditEvent.objects.get(action="loan.repayment_reverse")
    assert event.changes["status"] == ["settled", "active"]

    client = as_user(dave)
    detail = client.get(reverse("programs:loan_detail", args=[loan.pk])).content.decode()
    assert "还款中" in detail and text_of(detail, "loan-outstanding") == "1000.00 元"
    assert reverse("programs:repayment_record", args=[loan.pk]) in detail
    # Still open: the money may be repaid again, and settles the loan again.
    repayment_record(actor=dave, loan=loan, amount="1000")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.SETTLED
    assert ledger.balance_of(fund) == D("100000.00")


@pytest.mark.django_db
def test_the_loan_pages_work_the_figures_out_again_after_a_reversal(as_user, dave, loan):
    set_day(datetime.date(2026, 2, 12))
    repayment_record(actor=dave, loan=loan, amount="1000")
    set_day(datetime.date(2026, 3, 12))
    mistaken = repayment_record(actor=dave, loan=loan, amount="1000")
    client = as_user(dave)
    detail_url = reverse("programs:loan_detail", args=[loan.pk])
    detail = client.get(detail_url).content.decode()
    # Due February and March, 2000, all repaid: not behind.
    assert text_of(detail, "loan-arrears") == "0.00 元"
    assert reverse_url(mistaken) in detail
    arrears = client.get(reverse("programs:loan_arrears")).content.decode()
    assert loan.household.name not in arrears

    set_day(datetime.date(2026, 3, 20))
    response = client.post(reverse_url(mistaken), {"reason": "重复入账"}, follow=True)
    page = response.content.decode()
    assert "已冲正" in page and "1,000.00 元" in page

    detail = client.get(detail_url).content.decode()
    assert text_of(detail, "loan-repaid") == "1000.00 元"
    assert text_of(detail, "loan-outstanding") == "11000.00 元"
    assert "1000.00 元" in text_of(detail, "loan-arrears")
    assert "逾期 10 天" in text_of(detail, "loan-arrears")
    state = text_of(detail, f"repayment-{mistaken.pk}-state")
    assert "已冲正" in state and "2026-03-20" in state and "重复入账" in state
    # The reversed repayment no longer pays the March installment.
    assert detail.count("state-paid") == 1 and detail.count("state-overdue") == 1
    assert reverse_url(mistaken) not in detail
    arrears = client.get(reverse("programs:loan_arrears")).content.decode()
    assert loan.household.name in arrears and "1000.00" in arrears and "10 天" in arrears
    [row] = loan_selectors.page_rows(loan_selectors.loan_arrears(dave))
    assert (row.repaid, row.arrears, row.overdue_since) == (
        D("1000.00"),
        D("1000.00"),
        datetime.date(2026, 3, 10),
    )
    listed = client.get(reverse("programs:loan_list") + "?arrears=on").content.decode()
    assert loan.household.name in listed


@pytest.mark.django_db
def test_the_reversal_screen_confirms_and_refuses_without_a_reason(as_user, dave, loan, fund):
    repayment = repayment_record(actor=dave, loan=loan, amount="2000")
    client = as_user(dave)
    page = client.get(reverse_url(repayment)).content.decode()
    assert text_of(page, "repayment-household") == loan.household.name
    assert text_of(page, "repayment-amount") == "2,000.00 元"
    assert text_of(page, "loan-outstanding") == "10,000.00 元"
    assert "冲正后未还本金为 12,000.00 元" in page

    before = money_state(fund)
    response = client.post(reverse_url(repayment), {"reason": "  "})
    assert response.status_code == 200
    assert "冲正理由：冲正须填写理由" in response.content.decode()
    assert money_state(fund) == before

    response = client.post(reverse_url(repayment), {"reason": "金额录错"})
    assert response["Location"] == reverse("programs:loan_detail", args=[loan.pk])
    assert ledger.balance_of(fund) == D("88000.00")
    # Opened again: it says so, and a second submit is refused with a message.
    page = client.get(reverse_url(repayment)).content.decode()
    assert 'id="reversed-notice"' in page and "金额录错" in page
    assert 'id="repayment-reverse-form"' not in page
    before = money_state(fund)
    response = client.post(reverse_url(repayment), {"reason": "再冲一次"})
    assert response.status_code == 200 and "该笔还款已于" in response.content.decode()
    assert money_state(fund) == before


@pytest.mark.django_db
def test_the_reversal_screen_is_for_the_funds_finance_only(
    as_user, alice, carol, erin, dave, fay, loan, fund
):
    repayment = repayment_record(actor=dave, loan=loan, amount="1000")
    before = money_state(fund)
    for who in (alice, carol, erin):
        client = as_user(who)
        assert client.get(reverse_url(repayment)).status_code == 403
        assert client.post(reverse_url(repayment), {"reason": "误记"}).status_code == 403
    client = as_user(fay)
    assert client.get(reverse_url(repayment)).status_code == 404
    assert client.post(reverse_url(repayment), {"reason": "误记"}).status_code == 404
    assert money_state(fund) == before
    # Those who only read the loan see the rows, not the reversal button.
    detail = as_user(carol).get(reverse("programs:loan_detail", args=[loan.pk])).content.decode()
    assert f'id="repayment-{repayment.pk}"' in detail and reverse_url(repayment) not in detail


@pytest.mark.django_db
def test_a_reversal_that_would_overdraw_the_fund_is_refused(dave, loan, fund):
    repayment = repayment_record(actor=dave, loan=loan, amount="1000")
    ledger.payment_post(actor=dave, fund=fund, amount=str(ledger.balance_of(fund)), memo="支出")
    before = money_state(fund)
    with pytest.raises(ValidationError, match="余额将为负数"):
        repayment_reverse(actor=dave, repayment=repayment, reason="误记")
    assert money_state(fund) == before
    assert loan_selectors.get_loan_for(dave, loan.pk).repaid == D("1000.00")


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 30])
def test_the_loan_page_takes_the_same_queries_for_few_and_many_repayments(
    as_user, dave, loan, count, django_assert_max_num_queries
):
    for i in range(count):
        repayment = repayment_record(actor=dave, loan=loan, amount="10")
        if i % 2:
            repayment_reverse(actor=dave, repayment=repayment, reason=f"第{i}笔录错")
    client = as_user(dave)
    # Session, user, roles; the loan with its figures; installments; repayments.
    with django_assert_max_num_queries(7):
        page = client.get(reverse("programs:loan_detail", args=[loan.pk])).content.decode()
    assert page.count("badge rejected") == count // 2


@pytest.mark.django_db
def test_a_repayment_is_not_aid_received_on_the_money_view(as_user, alice, dave, loan):
    repayment = repayment_record(actor=dave, loan=loan, amount="1000")
    repayment_record(actor=dave, loan=loan, amount="500")
    repayment_reverse(actor=dave, repayment=repayment, reason="重复入账")
    household = loan.household
    assert LedgerEntry.objects.filter(household=household, direction=1).count() == 2
    page = (
        as_user(alice)
        .get(reverse("programs:household_money", args=[household.pk]))
        .content.decode()
    )
    # The loan itself was paid out to the family (12000); the repayments,
    # the reversal and the loan's figures are no aid received.
    assert text_of(page, "money-received") == "¥12,000.00"
    assert text_of(page, f"loan-{loan.pk}-repaid") == "¥500.00"
    assert text_of(page, f"loan-{loan.pk}-outstanding") == "¥11,500.00"


# -- mutual aid ----------------------------------------------------------------


@pytest.fixture
def mutual_fund(dave, units):
    return ledger.fund_create(actor=dave, unit=units["a"], name="职工医疗互助金", year=2026)


@pytest.fixture
def coop(units, mutual_fund, carol):
    program = Program.objects.create(
        unit=units["a"], name="职工医疗互助", category="mutual_medical", kind="cash"
    )
    program.funds.add(mutual_fund)
    coop = Cooperative.objects.create(
        unit=units["a"],
        name="金水区职工医疗互助会",
        fund=mutual_fund,
        program=program,
        first_premium=D("120"),
        yearly_premium=D("60"),
    )
    coop.committee.set([carol])
    return coop


@pytest.fixture
def member(alice, coop, household):
    set_day(datetime.date(2026, 3, 1))
    return mutual.member_enroll(actor=alice, cooperative=coop, household=household)


def premium_url(premium):
    return reverse("programs:premium_reverse", args=[premium.pk])


def claim(alice, member):
    return mutual.claim_submit(
        actor=alice, member=member, category="medical", amount="3000", reason="住院自付费用"
    )


@pytest.mark.django_db
def test_reversing_a_premium_takes_the_money_back_and_the_member_has_not_paid(
    alice, dave, member, mutual_fund, household
):
    first = mutual.premium_record(actor=dave, member=member, kind="first", year=2026)
    assert first.entry.household_id == household.pk
    yearly = mutual.premium_record(actor=dave, member=member, kind="yearly", year=2027)
    assert ledger.balance_of(mutual_fund) == D("180.00")
    claim(alice, member)  # in good standing for 2026

    reversal = mutual.premium_reverse(actor=dave, premium=first, reason="收错会员")
    assert ledger.balance_of(mutual_fund) == D("60.00")
    assert Premium.objects.filter(member=member).count() == 2
    assert (reversal.direction, reversal.amount, reversal.reverses_id) == (
        -1,
        D("120.00"),
        first.entry_id,
    )
    assert not mutual.in_good_standing(member, 2026)
    with pytest.raises(ValidationError, match="尚未缴纳 2026 年度互助费"):
        claim(alice, member)
    event = AuditEvent.objects.get(action="coop.premium_reverse")
    assert event.changes["reason"] == [None, "收错会员"]

    before = money_state(mutual_fund)
    with pytest.raises(ValidationError, match="该笔互助缴费已冲正"):
        mutual.premium_reverse(actor=dave, premium=first, reason="再冲一次")
    assert money_state(mutual_fund) == before
    # The yearly premium still stands until it is reversed in turn.
    assert mutual.in_good_standing(member, 2027)
    mutual.premium_reverse(actor=dave, premium=yearly, reason="收错会员")
    assert not mutual.in_good_standing(member, 2027)
    assert ledger.balance_of(mutual_fund) == D("0.00")


@pytest.mark.django_db
def test_a_reversed_premium_can_be_recorded_again_correctly(dave, member, mutual_fund):
    first = mutual.premium_record(actor=dave, member=member, kind="first", year=2026)
    wrong = mutual.premium_record(actor=dave, member=member, kind="yearly", year=2027)
    with pytest.raises(ValidationError) as err:
        mutual.premium_record(actor=dave, member=member, kind="yearly", year=2027)
    assert "2027 年度的年度缴费已缴纳" in " ".join(err.value.messages)
    mutual.premium_reverse(actor=dave, premium=wrong, reason="金额录错")
    assert ledger.balance_of(mutual_fund) == D("120.00")
    again = mutual.premium_record(actor=dave, member=member, kind="yearly", year=2027)
    assert again.pk != wrong.pk
    assert ledger.balance_of(mutual_fund) == D("180.00")
    assert mutual.in_good_standing(member, 2027)
    # Both rows of the mistake stay, with the reversal on the first.
    wrong.refresh_from_db()
    assert wrong.reversal is not None and again.reversal is None
    assert member.premiums.filter(kind="yearly", year=2027).count() == 2

    mutual.premium_reverse(actor=dave, premium=first, reason="收错会员")
    with pytest.raises(ValidationError) as err:
        mutual.premium_record(actor=dave, member=member, kind="yearly", year=2027)
    assert "尚未缴纳首次缴费" in " ".join(err.value.messages)
    mutual.premium_record(actor=dave, member=member, kind="first", year=2026)
    assert ledger.balance_of(mutual_fund) == D("180.00")


@pytest.mark.django_db
def test_the_premium_screens_show_the_reversal(as_user, carol, dave, member, mutual_fund, coop):
    premium = mutual.premium_record(actor=dave, member=member, kind="first", year=2026)
    client = as_user(dave)
    record_url = reverse("programs:premium_record", args=[member.pk])
    assert premium_url(premium) in client.get(record_url).content.decode()
    page = client.get(premium_url(premium)).content.decode()
    assert text_of(page, "premium-household") == member.household.name
    assert text_of(page, "premium-amount") == "120.00 元"
    assert "冲正后可以重新登记正确的缴费" in page

    before = money_state(mutual_fund)
    response = client.post(premium_url(premium), {"reason": ""})
    assert response.status_code == 200
    assert "冲正理由：冲正须填写理由" in response.content.decode()
    assert money_state(mutual_fund) == before

    response = client.post(premium_url(premium), {"reason": "收错会员"}, follow=True)
    assert response.redirect_chain[-1][0] == record_url
    page = response.content.decode()
    assert "已冲正" in text_of(page, f"premium-{premium.pk}-state")
    assert "收错会员" in text_of(page, f"premium-{premium.pk}-state")
    assert premium_url(premium) not in page
    assert ledger.balance_of(mutual_fund) == D("0.00")
    detail = as_user(carol).get(reverse("programs:coop_detail", args=[coop.pk])).content.decode()
    assert "已缴费" not in detail and "未缴首次缴费" in detail
    # The correct premium is then recorded on the same screen.
    response = as_user(dave).post(record_url, {"kind": "first", "year": "2026"})
    assert response.status_code == 302
    assert ledger.balance_of(mutual_fund) == D("120.00")

    client = as_user(dave)
    page = client.get(premium_url(premium)).content.decode()
    assert 'id="reversed-notice"' in page and 'id="premium-reverse-form"' not in page
    response = client.post(premium_url(premium), {"reason": "再冲一次"})
    assert "该笔缴费已于" in response.content.decode()
    assert ledger.balance_of(mutual_fund) == D("120.00")


@pytest.mark.django_db
def test_the_premium_reversal_is_for_the_funds_finance_only(
    as_user, alice, carol, erin, dave, fay, member, mutual_fund
):
    premium = mutual.premium_record(actor=dave, member=member, kind="first", year=2026)
    before = money_state(mutual_fund)
    with pytest.raises(PermissionDenied):
        mutual.premium_reverse(actor=carol, premium=premium, reason="误记")
    for who in (alice, carol, erin):
        client = as_user(who)
        assert client.get(premium_url(premium)).status_code == 403
        assert client.post(premium_url(premium), {"reason": "误记"}).status_code == 403
    client = as_user(fay)
    assert client.get(premium_url(premium)).status_code == 404
    assert client.post(premium_url(premium), {"reason": "误记"}).status_code == 404
    assert money_state(mutual_fund) == before


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 12])
def test_the_premium_page_takes_the_same_queries_for_few_and_many_premiums(
    as_user, dave, coop, units, count, django_assert_max_num_queries
):
    set_day(datetime.date(2026, 3, 1))
    head = filed(units["a"])
    joined = CoopMember.objects.create(
        cooperative=coop,
        household=head,
        name=head.name,
        id_number=head.id_number,
        unit=head.unit,
        joined_on=clock.today(),
        created_by=dave,
    )
    mutual.premium_record(actor=dave, member=joined, kind="first", year=2000)
    for year in range(2001, 2001 + count):
        premium = mutual.premium_record(actor=dave, member=joined, kind="yearly", year=year)
        if year % 2:
            mutual.premium_reverse(actor=dave, premium=premium, reason="录错")
    client = as_user(dave)
    # Session, user, roles; the member; its premiums with their reversals.
    with django_assert_max_num_queries(6):
        page = client.get(reverse("programs:premium_record", args=[joined.pk])).content.decode()
    assert page.count("badge rejected") == (count + 1) // 2


# -- the fund's ledger sends these entries to their screens -----------------------


@pytest.mark.django_db
def test_the_ledger_sends_repayments_and_premiums_to_their_reversal(
    as_user, dave, loan, fund, member, mutual_fund
):
    repayment = repayment_record(actor=dave, loan=loan, amount="1000")
    premium = mutual.premium_record(actor=dave, member=member, kind="first", year=2026)
    client = as_user(dave)
    for owned, url, label, own_fund in (
        (repayment, reverse_url(repayment), "冲正还款", fund),
        (premium, premium_url(premium), "冲正缴费", mutual_fund),
    ):
        detail = client.get(reverse("funds:fund_detail", args=[own_fund.pk])).content.decode()
        assert url in detail and label in detail
        assert reverse("funds:entry_reverse", args=[owned.entry_id]) not in detail
        entry_url = reverse("funds:entry_reverse", args=[owned.entry_id])
        assert url in client.get(entry_url).content.decode()
        before = money_state(own_fund)
        response = client.post(entry_url, {"reason": "想直接冲正"})
        assert response.status_code == 200 and f"点“{label}”办理" in response.content.decode()
        assert money_state(own_fund) == before

        client.post(url, {"reason": "录错"})
        detail = client.get(reverse("funds:fund_detail", args=[own_fund.pk])).content.decode()
        assert url not in detail
        assert f'<a href="?entry={owned.entry_id}">' in detail  # the reversal points back
    assert ledger.balance_of(fund) == D("88000.00")
    assert ledger.balance_of(mutual_fund) == D("0.00")


# -- concurrency (PostgreSQL) -----------------------------------------------------


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_repayment_reversed_twice_at_once_is_reversed_once(dave, loan, fund):
    repayment = repayment_record(actor=dave, loan=loan, amount="3000")
    refused = _race(
        5, lambda i: repayment_reverse(actor=dave, repayment=repayment, reason=f"第{i}次")
    )
    assert len(refused) == 4
    assert LedgerEntry.objects.filter(reverses=repayment.entry_id).count() == 1
    assert ledger.balance_of(fund) == D("88000.00")
    assert AuditEvent.objects.filter(action="loan.repayment_reverse").count() == 1


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reversal_and_a_repayment_at_once_leave_the_loan_consistent(dave, loan, fund):
    """The last 1000 arrives while a mistaken 1000 is reversed: whichever goes
    first, the loan ends active with 1000 left and the fund agrees."""
    repayment_record(actor=dave, loan=loan, amount="10000")
    mistaken = repayment_record(actor=dave, loan=loan, amount="1000")
    work = [
        lambda: repayment_reverse(actor=dave, repayment=mistaken, reason="重复入账"),
        lambda: repayment_record(actor=dave, loan=loan, amount="1000"),
    ]
    refused = _race(2, lambda i: work[i]())
    assert not refused
    figures = loan_selectors.get_loan_for(dave, loan.pk)
    assert (figures.repaid, figures.outstanding) == (D("11000.00"), D("1000.00"))
    assert figures.status == LoanStatus.ACTIVE
    assert ledger.balance_of(fund) == D("99000.00")
