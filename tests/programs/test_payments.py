"""Paying approved aid through the finance screens: one payment, batches,
the bank file, signed sheets, reversals, restricted funds and the separation
of duties. Run on SQLite and PostgreSQL; the races are in test_payments_race."""

import io
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.masking import mask_bank_account
from accounts.models import AuditEvent
from cases import clock
from funds import services as ledger
from funds.models import EntryKind, LedgerEntry
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    Cooperative,
    CoopMember,
    Loan,
    PaymentBatch,
    Premium,
    Program,
    Repayment,
)
from programs.services import applications, payments
from tests.programs.conftest import filed, grant
from tests.programs.verification_world import approved_many

S = ApplicationStatus
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ACCOUNT = "6222020200112233445"
# Session, user, the second-factor device (django-otp), memberships; whether
# the payer's units are every root union (once); the payer's funds with their
# balances (once: the batch form's <select> and its paid-on window) and that
# union's finance rules; the page's rows (names and the payer's own decisions
# as values beside them), the funds of their programs; the queue total (one
# capped count-and-sum, and above the cap an EXPLAIN for the estimate); the
# program and unit choices; with the filters set, one lookup each for the
# chosen program and unit; past the first page, the page's keys before its
# rows (accounts.paging).
QUEUE_BUDGET = 14


def approve(household, program, *, drafter, approver, amount=None, reason=""):
    app = applications.application_draft(
        actor=drafter, household=household, program=program, amount=amount, amount_reason=reason
    )
    applications.application_decide(actor=approver, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == S.APPROVED
    return app


def sheet(name="签收单.pdf", content=PDF):
    return SimpleUploadedFile(name, content, "application/pdf")


def money_state(fund):
    """What a payment changes: payments, ledger rows, the balance, statuses."""
    return (
        AidPayment.objects.count(),
        LedgerEntry.objects.filter(fund=fund).count(),
        ledger.balance_of(fund),
        sorted(Application.objects.values_list("pk", "status")),
        PaymentBatch.objects.count(),
    )


@pytest.fixture
def app(alice, carol, household, festival):
    return approve(household, festival, drafter=alice, approver=carol)


def pay_url(application):
    return reverse("programs:aid_pay", args=[application.pk])


def pay_data(application, fund, method="bank", **extra):
    return {
        "application": application.pk,
        "fund": fund.pk,
        "method": method,
        "paid_on": clock.today().isoformat(),
        **extra,
    }


# -- One payment ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_pay_one_application_from_the_page(as_user, dave, app, fund, household):
    client = as_user(dave)
    page = client.get(pay_url(app)).content.decode()
    assert "送温暖专项" in page and "余额 100,000.00 元" in page
    assert ACCOUNT not in page and ACCOUNT[-4:] in page
    response = client.post(pay_url(app), pay_data(app, fund))
    assert response.status_code == 302 and response["Location"] == pay_url(app)
    payment = AidPayment.objects.get(application=app)
    assert (payment.amount, payment.bank_account, payment.account_name) == (
        D("1000"), ACCOUNT, household.name,
    )  # fmt: skip
    assert ledger.balance_of(fund) == D("99000.00")
    app.refresh_from_db()
    assert app.status == S.PAID
    body = client.get(pay_url(app)).content.decode()
    assert 'id="payment"' in body and 'id="pay-form"' not in body
    queue = client.get(reverse("programs:payment_queue")).content.decode()
    assert f'id="app-{app.pk}"' not in queue


@pytest.mark.django_db
def test_a_repeated_submit_shows_the_first_payment(as_user, dave, app, fund):
    client = as_user(dave)
    client.post(pay_url(app), pay_data(app, fund))
    response = client.post(pay_url(app), pay_data(app, fund), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "未重复发放" in body and 'id="payment"' in body
    assert AidPayment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert ledger.balance_of(fund) == D("99000.00")


@pytest.mark.django_db
def test_the_form_of_one_application_cannot_pay_another(
    as_user, alice, carol, dave, app, fund, festival, units
):
    other = approve(filed(units["a"]), festival, drafter=alice, approver=carol)
    before = money_state(fund)
    response = as_user(dave).post(pay_url(other), pay_data(app, fund))
    assert response.status_code == 200
    assert "表单与该申请不符" in response.content.decode()
    assert money_state(fund) == before


@pytest.mark.django_db
def test_cash_needs_the_signed_sheet_which_finance_and_chairs_may_open(
    as_user, dave, carol, erin, app, fund
):
    client = as_user(dave)
    before = money_state(fund)
    response = client.post(pay_url(app), pay_data(app, fund, "cash"))
    assert "签收单：现金或实物发放须上传签收单" in response.content.decode()
    fake = sheet("签收单.pdf", b"not a pdf at all")
    response = client.post(pay_url(app), pay_data(app, fund, "cash", signed_sheet=fake))
    assert "签收单：" in response.content.decode()
    assert money_state(fund) == before
    response = client.post(pay_url(app), pay_data(app, fund, "cash", signed_sheet=sheet()))
    assert response.status_code == 302
    payment = AidPayment.objects.get()
    assert payment.bank_account == "" and payment.signed_sheet
    url = reverse("programs:payment_sheet", args=[payment.pk])
    for user in (dave, carol):
        response = as_user(user).get(url)
        assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="payment.sheet_open").count() == 2
    assert as_user(erin).get(url).status_code == 403


@pytest.mark.django_db
def test_a_bank_payment_needs_an_account(as_user, alice, carol, dave, festival, fund, units):
    app = approve(filed(units["a"], bank_account=""), festival, drafter=alice, approver=carol)
    before = money_state(fund)
    response = as_user(dave).post(pay_url(app), pay_data(app, fund))
    assert "发放方式：" in response.content.decode()
    assert "未登记银行账号" in response.content.decode()
    assert money_state(fund) == before


@pytest.mark.django_db
def test_a_pending_application_cannot_be_paid(as_user, alice, dave, household, festival, fund):
    app = applications.application_draft(actor=alice, household=household, program=festival)
    client = as_user(dave)
    assert "只有已批准的申请可以发放" in client.get(pay_url(app)).content.decode()
    before = money_state(fund)
    response = client.post(pay_url(app), pay_data(app, fund))
    assert "只有已批准的申请可以发放" in response.content.decode()
    assert money_state(fund) == before


@pytest.mark.django_db
def test_an_overdraft_is_refused_on_the_page(as_user, alice, carol, dave, units, festival):
    small = ledger.fund_create(actor=dave, unit=units["a"], name="小额", year=2026)
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=small,
        amount="999.99",
        memo="拨款",
    )
    festival.funds.add(small)
    app = approve(filed(units["a"]), festival, drafter=alice, approver=carol)
    response = as_user(dave).post(pay_url(app), pay_data(app, small))
    assert "资金余额不足：可用 999.99 元，需支付 1000.00 元" in response.content.decode()
    assert ledger.balance_of(small) == D("999.99") and not AidPayment.objects.exists()


# -- Separation of duties ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_drafter_with_a_finance_role_may_not_pay(as_user, alice, app, fund, units):
    grant(alice, units["a"], "finance")  # only the separation of duties stops her now
    client = as_user(alice)
    assert "起草申请的人员不能发放" in client.get(pay_url(app)).content.decode()
    before, audit = money_state(fund), AuditEvent.objects.count()
    response = client.post(pay_url(app), pay_data(app, fund))
    assert response.status_code == 403
    assert money_state(fund) == before and AuditEvent.objects.count() == audit


@pytest.mark.django_db
def test_the_approver_with_a_finance_role_may_not_pay(as_user, carol, app, fund, units):
    grant(carol, units["a"], "finance")
    client = as_user(carol)
    before, audit = money_state(fund), AuditEvent.objects.count()
    response = client.post(pay_url(app), pay_data(app, fund))
    assert response.status_code == 403
    assert money_state(fund) == before and AuditEvent.objects.count() == audit


@pytest.mark.django_db
def test_a_batch_with_a_line_the_payer_approved_pays_nothing(
    as_user, alice, carol, dave, cathy, festival, fund, units
):
    """The city chair also keeps the books: she approved one line, so the
    batch stops and names that family."""
    grant(cathy, units["city"], "finance")
    mine = approve(filed(units["a"], name="甲户"), festival, drafter=alice, approver=carol)
    hers = applications.application_draft(
        actor=alice, household=filed(units["a"], name="乙户"), program=festival,
        amount="2500", amount_reason="重病",
    )  # fmt: skip
    applications.application_decide(actor=carol, application=hers, approve=True)
    applications.application_decide(actor=cathy, application=hers, approve=True)
    hers.refresh_from_db()
    assert hers.status == S.APPROVED
    before = money_state(fund)
    response = as_user(cathy).post(
        reverse("programs:payment_batch_create"),
        {
            "applications": [mine.pk, hers.pk],
            "fund": fund.pk,
            "method": "bank",
            "paid_on": clock.today().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "乙户：审批该申请的人员不能发放该笔帮扶" in response.content.decode()
    assert money_state(fund) == before


# -- Restricted funds -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_fund_for_one_household_pays_no_other(
    as_user, alice, carol, dave, festival, units, household
):
    sick = filed(units["a"], name="刘小宝")
    for_sick = ledger.fund_create(
        actor=dave, unit=units["a"], name="为刘小宝募捐", year=2026,
        restriction="household", restricted_household=sick,
    )  # fmt: skip
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=for_sick,
        amount="5000",
        memo="捐款",
        donor="爱心人士",
    )
    festival.funds.add(for_sick)
    other = approve(household, festival, drafter=alice, approver=carol)
    client = as_user(dave)
    before = money_state(for_sick)
    response = client.post(pay_url(other), pay_data(other, for_sick))
    assert "支出资金：该资金限定用于指定家庭，不能用于其他家庭" in response.content.decode()
    assert money_state(for_sick) == before
    own = approve(sick, festival, drafter=alice, approver=carol)
    assert client.post(pay_url(own), pay_data(own, for_sick)).status_code == 302
    assert ledger.balance_of(for_sick) == D("4000.00")


@pytest.mark.django_db
def test_a_fund_for_one_purpose_pays_no_other_program(
    as_user, alice, carol, dave, festival, units, app
):
    school = ledger.fund_create(
        actor=dave, unit=units["a"], name="助学专款", year=2026,
        restriction="purpose", restricted_purpose="金秋助学",
    )  # fmt: skip
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=school,
        amount="5000",
        memo="捐款",
        donor="某企业",
    )
    festival.funds.add(school)
    before = money_state(school)
    response = as_user(dave).post(pay_url(app), pay_data(app, school))
    assert "该资金限定用途为“金秋助学”" in response.content.decode()
    assert money_state(school) == before
    # The same restriction naming the festival's category lets it pay.
    warmth = ledger.fund_create(
        actor=dave, unit=units["a"], name="送温暖捐款", year=2026,
        restriction="purpose", restricted_purpose="节日送温暖",
    )  # fmt: skip
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=warmth,
        amount="5000",
        memo="捐款",
        donor="某企业",
    )
    festival.funds.add(warmth)
    assert as_user(dave).post(pay_url(app), pay_data(app, warmth)).status_code == 302
    assert ledger.balance_of(warmth) == D("4000.00")


@pytest.mark.django_db
def test_a_fund_for_programs_refuses_a_direct_payment_and_other_programs(
    as_user, dave, units, festival, app, household
):
    reserved = ledger.fund_create(
        actor=dave, unit=units["a"], name="项目专款", year=2026,
        restriction="program",
    )  # fmt: skip
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=reserved,
        amount="5000",
        memo="上级拨款",
    )
    with pytest.raises(ValidationError, match="只能通过项目申请支付"):
        ledger.payment_post(actor=dave, fund=reserved, amount="100", memo="直接支出")
    with pytest.raises(ValidationError, match="只能通过项目申请支付"):
        ledger.payment_post(
            actor=dave, fund=reserved, amount="100", memo="直接支出", household=household
        )
    # Not listed by the festival: not offered, and a crafted choice is refused.
    client = as_user(dave)
    assert "项目专款" not in client.get(pay_url(app)).content.decode()
    response = client.post(pay_url(app), pay_data(app, reserved))
    assert "所选资金不可用于本次发放" in response.content.decode()
    with pytest.raises(ValidationError, match="不在本项目可列支的资金范围内"):
        payments.aid_pay(actor=dave, application=app, fund=reserved, method="bank")
    assert ledger.balance_of(reserved) == D("5000.00")
    festival.funds.add(reserved)
    assert client.post(pay_url(app), pay_data(app, reserved)).status_code == 302
    assert ledger.balance_of(reserved) == D("4000.00")


# -- Reversal --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reversing_a_payment_restores_the_fund_and_makes_it_payable_again(as_user, dave, app, fund):
    client = as_user(dave)
    client.post(pay_url(app), pay_data(app, fund))
    payment = AidPayment.objects.get()
    url = reverse("programs:aid_payment_reverse", args=[payment.pk])
    before = money_state(fund)
    response = client.post(url, {"reason": ""})
    assert "冲正理由：冲正须填写理由" in response.content.decode()
    assert money_state(fund) == before
    response = client.post(url, {"reason": "账号填错"})
    assert response.status_code == 302 and response["Location"] == pay_url(app)
    assert ledger.balance_of(fund) == D("100000.00")
    payment.refresh_from_db()
    rows = LedgerEntry.objects.filter(pk__in=[payment.entry_id, payment.reversal_id])
    assert sorted(rows.values_list("kind", "direction", "amount")) == [
        ("payment", -1, D("1000")), ("reversal", 1, D("1000")),
    ]  # fmt: skip
    app.refresh_from_db()
    assert app.status == S.APPROVED
    queue = client.get(reverse("programs:payment_queue")).content.decode()
    assert f'id="app-{app.pk}"' in queue
    page = client.get(pay_url(app)).content.decode()
    assert 'id="pay-form"' in page and "账号填错" in page
    assert "该笔发放已于" in client.get(url).content.decode()
    assert client.post(pay_url(app), pay_data(app, fund)).status_code == 302
    assert AidPayment.objects.filter(application=app, reversal__isnull=True).count() == 1
    assert ledger.balance_of(fund) == D("99000.00")


@pytest.mark.django_db
def test_the_ledger_sends_a_payment_entry_to_the_payment_reversal(as_user, dave, app, fund):
    client = as_user(dave)
    client.post(pay_url(app), pay_data(app, fund))
    payment = AidPayment.objects.get()
    detail = client.get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
    assert reverse("programs:aid_payment_reverse", args=[payment.pk]) in detail
    assert reverse("funds:entry_reverse", args=[payment.entry_id]) not in detail
    url = reverse("funds:entry_reverse", args=[payment.entry_id])
    page = client.get(url).content.decode()
    assert reverse("programs:aid_payment_reverse", args=[payment.pk]) in page
    before = money_state(fund)
    response = client.post(url, {"reason": "想直接冲正"})
    assert response.status_code == 200
    assert "请在该笔发放的“冲正发放”页面办理" in response.content.decode()
    assert money_state(fund) == before
    app.refresh_from_db()
    assert app.status == S.PAID


def _repayment_entry(dave, units, fund, household, festival):
    """A loan repayment's ledger entry (rows written directly)."""
    program = Program.objects.create(unit=units["a"], name="无息借款", category="loan", kind="loan")
    application = Application.objects.create(
        program=program, household=household, year=2026, status=S.PAID, amount=D("500"),
        drafted_by=dave,
    )  # fmt: skip
    out = LedgerEntry.objects.create(
        fund=fund, kind="payment", direction=-1, amount=D("500"), occurred_on=clock.today(),
        memo="放款", actor=dave,
    )  # fmt: skip
    payment = AidPayment.objects.create(
        application=application, fund=fund, entry=out, method="bank", amount=D("500"),
        paid_on=clock.today(), paid_by=dave,
    )  # fmt: skip
    loan = Loan.objects.create(
        application=application, payment=payment, household=household, fund=fund,
        principal=D("500"), issued_on=clock.today(), term_months=6, created_by=dave,
    )  # fmt: skip
    back = LedgerEntry.objects.create(
        fund=fund, kind="receipt", direction=1, amount=D("100"), occurred_on=clock.today(),
        memo="还款", actor=dave, source=ledger.income_source("other"), payer_kind="person",
        payer=household.name,
    )  # fmt: skip
    Repayment.objects.create(
        loan=loan, amount=D("100"), paid_on=clock.today(), entry=back, actor=dave
    )
    return back


def _premium_entry(dave, units, fund, household, festival):
    coop = Cooperative.objects.create(
        unit=units["a"], name="医疗互助会", fund=fund, program=festival,
        first_premium=D("50"), yearly_premium=D("30"),
    )  # fmt: skip
    member = CoopMember.objects.create(
        cooperative=coop, household=household, unit=household.unit, name=household.name,
        joined_on=clock.today(), created_by=dave,
    )  # fmt: skip
    entry = LedgerEntry.objects.create(
        fund=fund, kind="receipt", direction=1, amount=D("50"), occurred_on=clock.today(),
        memo="会费", actor=dave, source=ledger.income_source("premium"), payer_kind="person",
        payer=household.name,
    )  # fmt: skip
    Premium.objects.create(
        member=member, kind="first", year=2026, amount=D("50"), entry=entry, actor=dave,
        paid_on=clock.today(),
    )  # fmt: skip
    return entry


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("build", "message"),
    [(_repayment_entry, "借款的还款记录"), (_premium_entry, "互助合作社的会费记录")],
)
def test_repayments_and_premiums_are_not_reversed_from_the_ledger(
    as_user, dave, units, fund, household, festival, build, message
):
    entry = build(dave, units, fund, household, festival)
    before = money_state(fund)
    url = reverse("funds:entry_reverse", args=[entry.pk])
    assert message in as_user(dave).get(url).content.decode()
    response = as_user(dave).post(url, {"reason": "误记"})
    assert response.status_code == 200 and message in response.content.decode()
    with pytest.raises(ValidationError):
        ledger.entry_correct(actor=dave, entry=entry, reason="误记")
    assert money_state(fund) == before


# -- Batches and the bank file -------------------------------------------------------------------


@pytest.fixture
def three(alice, carol, festival, units):
    return [
        approve(
            filed(units["a"], name=name, bank_account=account),
            festival,
            drafter=alice,
            approver=carol,
        )
        for name, account in [
            ("王秀兰", "6222020200112233445"),
            ("李建国", "6217000010012345678"),
            ("赵小花", "0000123456789012345678"),
        ]
    ]


def post_batch(client, apps, fund, method="bank", **extra):
    data = {
        "applications": [a.pk for a in apps],
        "fund": fund.pk,
        "method": method,
        "paid_on": clock.today().isoformat(),
        **extra,
    }
    return client.post(reverse("programs:payment_batch_create"), data)


@pytest.mark.django_db
def test_a_bank_batch_its_masked_page_and_its_full_bank_file(as_user, dave, three, fund):
    client = as_user(dave)
    response = post_batch(client, three, fund, title="2026春节送温暖第一批")
    batch = PaymentBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("programs:payment_batch_detail", args=[batch.pk])
    assert AidPayment.objects.filter(batch=batch).count() == 3
    assert ledger.balance_of(fund) == D("97000.00")

    page = client.get(response["Location"]).content.decode()
    for app in three:
        account = app.household.bank_account
        assert account not in page and mask_bank_account(account) in page
    assert "3,000.00" in page

    response = client.get(reverse("programs:payment_batch_bank_file", args=[batch.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    sheet_ = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet_.iter_rows())
    assert [c.value for c in rows[0]] == ["户名", "开户银行", "账号", "金额"]
    lines = {r[2].value: r for r in rows[1:-1]}
    assert set(lines) == {a.household.bank_account for a in three}
    for app in three:
        row = lines[app.household.bank_account]
        assert row[0].value == app.household.name and row[1].value == "中国工商银行"
        assert row[2].data_type == "s" and row[2].number_format == "@"
        assert row[3].value == 1000 and row[3].number_format == "0.00"
    assert "0000123456789012345678" in lines  # leading zeros and all 22 digits kept
    total = rows[-1]
    entries = LedgerEntry.objects.filter(aid_payment__batch=batch)
    assert total[0].value == "合计"
    assert D(str(total[3].value)) == sum(e.amount for e in entries) == D("3000")
    assert AuditEvent.objects.filter(action="payment_batch.export").count() == 1


@pytest.mark.django_db
def test_a_reversed_payment_leaves_the_bank_file_and_the_totals(as_user, dave, three, fund):
    client = as_user(dave)
    post_batch(client, three, fund)
    batch = PaymentBatch.objects.get()
    wrong = AidPayment.objects.get(application=three[1])
    reverse_url = reverse("programs:aid_payment_reverse", args=[wrong.pk])
    client.post(reverse_url, {"reason": "账号有误"})
    page = client.get(reverse("programs:payment_batch_detail", args=[batch.pk])).content.decode()
    assert "2,000.00" in page and "另有 1 笔已冲正" in page
    response = client.get(reverse("programs:payment_batch_bank_file", args=[batch.pk]))
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert len(rows) == 4 and three[1].household.bank_account not in [r[2] for r in rows]
    assert rows[-1][3] == 2000
    listing = client.get(reverse("programs:payment_batch_list")).content.decode()
    assert "2,000.00" in listing


@pytest.mark.django_db
def test_a_batch_is_all_or_nothing(as_user, alice, carol, dave, three, fund, festival, units):
    no_card = approve(
        filed(units["a"], name="孙无卡", bank_account=""), festival, drafter=alice, approver=carol
    )
    before = money_state(fund)
    response = post_batch(as_user(dave), [*three, no_card], fund)
    assert response.status_code == 200
    body = response.content.decode()
    assert "孙无卡" in body and "未登记银行账号" in body
    assert money_state(fund) == before
    # The ticks survive the refusal, so the clerk fixes one line, not forty.
    assert body.count("checked") >= 4


@pytest.mark.django_db
def test_a_batch_beyond_the_balance_pays_nothing(as_user, dave, three, festival, units):
    small = ledger.fund_create(actor=dave, unit=units["a"], name="小额", year=2026)
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=small,
        amount="2500",
        memo="拨款",
    )
    festival.funds.add(small)
    before = money_state(small)
    response = post_batch(as_user(dave), three, small)
    assert "资金余额不足：可用 500.00 元" in response.content.decode()
    assert money_state(small) == before


@pytest.mark.django_db
def test_a_cash_batch_needs_one_signed_sheet_and_has_no_bank_file(as_user, dave, three, fund):
    client = as_user(dave)
    before = money_state(fund)
    response = post_batch(client, three, fund, "cash")
    assert "签收单：现金或实物发放须上传签收单" in response.content.decode()
    assert money_state(fund) == before
    response = post_batch(client, three, fund, "goods", signed_sheet=sheet())
    assert response.status_code == 302
    batch = PaymentBatch.objects.get()
    payment = batch.payments.first()
    opened = client.get(reverse("programs:payment_sheet", args=[payment.pk]))
    assert b"".join(opened.streaming_content) == PDF
    response = client.get(reverse("programs:payment_batch_bank_file", args=[batch.pk]))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="payment_batch.export").exists()
    assert "只有银行转账批次可以导出银行文件" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_nothing_ticked_or_a_paid_application_is_refused(as_user, dave, three, fund):
    client = as_user(dave)
    response = client.post(reverse("programs:payment_batch_create"), {"fund": fund.pk})
    assert "请至少勾选一笔已批准的申请" in response.content.decode()
    post_batch(client, three[:1], fund)
    before = money_state(fund)
    response = post_batch(client, three, fund)
    assert response.status_code == 200
    assert "已发放或不在您工会范围内" in response.content.decode()
    assert money_state(fund) == before


# -- The queue ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_queue_holds_only_approved_unpaid_aid_of_the_users_units(
    as_user, alice, bob, carol, ben, dave, fay, festival, fund, units, app
):
    pending = applications.application_draft(
        actor=alice, household=filed(units["a"]), program=festival
    )
    theirs = approve(filed(units["b"], name="赵铁柱"), festival, drafter=bob, approver=ben)
    school = Program.objects.create(
        unit=units["a"], name="金秋助学", category="school", kind="cash"
    )
    in_a1 = filed(units["a1"], name="钱多多")
    school_app = Application.objects.create(
        program=school, household=in_a1, year=2026, status=S.APPROVED, amount=D("800"),
        drafted_by=alice,
    )  # fmt: skip
    loan = Program.objects.create(unit=units["a"], name="无息借款", category="loan", kind="loan")
    Application.objects.create(
        program=loan, household=in_a1, year=2026, status=S.APPROVED, amount=D("5000"),
        drafted_by=alice,
    )  # fmt: skip
    client = as_user(dave)
    page = client.get(reverse("programs:payment_queue"))
    shown = {a.pk for a in page.context["page"].object_list}
    assert shown == {app.pk, school_app.pk}
    assert pending.pk not in shown and theirs.pk not in shown
    assert "已批准待发放 2 笔，合计 1,800.00 元" in page.content.decode()
    page = client.get(reverse("programs:payment_queue"), {"program": school.pk})
    assert {a.pk for a in page.context["page"].object_list} == {school_app.pk}
    page = client.get(reverse("programs:payment_queue"), {"unit": units["a1"].pk})
    assert {a.pk for a in page.context["page"].object_list} == {school_app.pk}
    page = as_user(fay).get(reverse("programs:payment_queue"))
    assert {a.pk for a in page.context["page"].object_list} == {theirs.pk}


_bulk_approved = approved_many


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.django_db
def test_queue_query_count_is_fixed(
    as_user, alice, dave, festival, units, django_assert_max_num_queries
):
    client = as_user(dave)
    url = reverse("programs:payment_queue")
    _bulk_approved(festival, units["a"], 3, alice)
    few, response = _count(client, url)
    assert len(response.context["rows"]) == 3
    _bulk_approved(festival, units["a1"], 60, alice, start=3)
    other = Program.objects.create(unit=units["a"], name="金秋助学", category="school", kind="cash")
    _bulk_approved(other, units["a"], 10, alice, start=63)
    many, response = _count(client, url)
    assert len(response.context["rows"]) == 50
    assert few == many <= QUEUE_BUDGET - 3
    with django_assert_max_num_queries(QUEUE_BUDGET):
        client.get(url, {"page": "2", "program": festival.pk, "unit": units["a1"].pk})


@pytest.mark.django_db
def test_batch_list_query_count_is_fixed(
    as_user, dave, alice, festival, fund, units, django_assert_max_num_queries
):
    client = as_user(dave)
    _bulk_approved(festival, units["a"], 30, alice)
    apps = list(Application.objects.order_by("pk"))
    payments.payment_batch_create(
        actor=dave, fund=fund, method="bank", applications=apps[:2], title="一"
    )
    few, _ = _count(client, reverse("programs:payment_batch_list"))
    for i in range(2, 30):
        payments.payment_batch_create(
            actor=dave, fund=fund, method="bank", applications=[apps[i]], title=f"批{i}"
        )
    many, response = _count(client, reverse("programs:payment_batch_list"))
    assert len(response.context["page"].object_list) == 25
    assert few == many
    with django_assert_max_num_queries(6):
        client.get(reverse("programs:payment_batch_list"), {"page": "2"})
