"""The household's money view: every figure on it, recomputed from rows."""

import datetime as dt
import html
import re
from collections import defaultdict
from decimal import Decimal as D

import pytest
from django.db import transaction
from django.urls import reverse

from cases import clock
from cases.models import Member
from cases.services.lifecycle import noncash_help_record
from funds import services as ledger
from funds.models import LedgerEntry
from programs.models import (
    Application,
    Installment,
    Loan,
    Program,
    Repayment,
)
from programs.models import ApplicationStatus as S
from programs.services import applications, payments
from tests.programs.conftest import filed

URL = "programs:household_money"


def set_day(day: dt.date) -> None:
    """Move the test clock to a given day."""
    clock.reset()
    clock.advance(day - clock.today())


def yuan(value: D) -> str:
    return f"¥{value:,.2f}"


def text_of(page: str, element_id: str) -> str:
    """The visible text of the element with this id."""
    match = re.search(
        rf'id="{re.escape(element_id)}"[^>]*>(.*?)</(?:td|dd|span|strong|p)>', page, re.S
    )
    assert match, f"no element #{element_id} on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def program(units, fund, name, category, **fields):
    p = Program.objects.create(
        unit=units["city"], name=name, category=category, kind=fields.pop("kind", "cash"), **fields
    )
    p.funds.add(fund)
    return p


def paid(alice, carol, dave, household, prog, fund, **draft):
    app = applications.application_draft(actor=alice, household=household, program=prog, **draft)
    applications.application_decide(actor=carol, application=app, approve=True)
    payment = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    return app, payment


def page_for(client, household, **headers):
    response = client.get(reverse(URL, args=[household.pk]), **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def living(units, fund, standard):
    return program(units, fund, "困难职工生活救助", "living", cap_rule="dibao_annual")


@pytest.mark.django_db
def test_every_figure_is_the_ledger_rows_of_the_household(
    as_user, alice, carol, dave, household, festival, living, fund
):
    set_day(dt.date(2025, 5, 10))
    paid(alice, carol, dave, household, festival, fund)
    paid(alice, carol, dave, household, living, fund, amount="600")
    set_day(dt.date(2026, 2, 1))
    _app, wrong = paid(alice, carol, dave, household, festival, fund)
    payments.aid_payment_reverse(actor=dave, payment=wrong, reason="账号填错")
    again, first = paid(
        alice, carol, dave, household, festival, fund, amount="800", amount_reason="已部分救助"
    )
    payments.aid_payment_reverse(actor=dave, payment=first, reason="重复录入")
    payments.aid_pay(actor=dave, application=again, fund=fund, method="bank")
    paid(alice, carol, dave, household, living, fund, amount="450.50")
    refused = applications.application_draft(
        actor=alice, household=household, program=living, amount="300"
    )
    applications.application_decide(actor=carol, application=refused, approve=False, note="重复")
    # Another household's money never shows here.
    paid(alice, carol, dave, filed(household.unit), festival, fund)

    by_app: dict[int, D] = defaultdict(D)
    by_group: dict[tuple[int, int], D] = defaultdict(D)
    by_year: dict[int, D] = defaultdict(D)
    entries = LedgerEntry.objects.filter(household=household)
    assert entries.count() == 8  # 6 payments, 2 reversals
    for entry in entries:
        payment = getattr(entry, "aid_payment", None) or entry.reversed_aid_payment
        app = payment.application
        value = -entry.amount * entry.direction
        by_app[app.pk] += value
        by_group[(app.year, app.program_id)] += value
        by_year[app.year] += value

    page = page_for(as_user(alice), household)
    for pk, value in by_app.items():
        assert text_of(page, f"application-{pk}-received") == yuan(value)
    for (year, program_id), value in by_group.items():
        assert text_of(page, f"received-{year}-{program_id}") == yuan(value)
    for year, value in by_year.items():
        assert text_of(page, f"received-{year}") == yuan(value)
    assert text_of(page, "money-received") == yuan(sum(by_year.values(), D(0)))
    assert by_year == {2025: D("1600.00"), 2026: D("1250.50")}
    # Applied: every application not rejected or withdrawn, paid or not.
    assert text_of(page, "applied-2026") == yuan(D("1000") + D("800") + D("450.50"))
    assert text_of(page, f"application-{refused.pk}-amount") == yuan(D("300"))
    assert text_of(page, f"application-{refused.pk}-received") == yuan(D("0"))
    assert page.index('id="year-2026"') < page.index('id="year-2025"')
    assert reverse("programs:application_detail", args=[refused.pk]) in page
    # The live payment of the application paid, reversed and paid again.
    assert text_of(page, f"application-{again.pk}-paid") == "2026-02-01 银行转账"


@pytest.mark.django_db
def test_a_reversed_payment_is_not_counted_as_received(
    as_user, alice, carol, dave, household, festival, fund
):
    app, payment = paid(alice, carol, dave, household, festival, fund)
    payments.aid_payment_reverse(actor=dave, payment=payment, reason="账号填错")
    page = page_for(as_user(dave), household)
    year = app.year
    assert text_of(page, f"application-{app.pk}-amount") == yuan(D("1000"))
    assert text_of(page, f"application-{app.pk}-received") == yuan(D("0"))
    assert text_of(page, f"received-{year}-{festival.pk}") == yuan(D("0"))
    assert text_of(page, f"received-{year}") == yuan(D("0"))
    assert text_of(page, "money-received") == yuan(D("0"))
    assert "已批准" in text_of(page, f"application-{app.pk}-status")
    assert text_of(page, f"application-{app.pk}-paid") == "—"


@pytest.mark.django_db
def test_caps_show_this_years_use_counted_like_the_rules(
    as_user, units, alice, carol, dave, household, living, fund
):
    set_day(dt.date(2026, 9, 1))
    student = Member.objects.create(
        household=household, name="王小明", relation="child", school_stage="senior"
    )
    Member.objects.create(
        household=household, name="王小红", relation="child", school_stage="primary"
    )
    medical = program(units, fund, "大病医疗救助", "medical", cap_rule="out_of_pocket")
    school = program(units, fund, "金秋助学", "school", cap_rule="ten_months")
    fixed = program(units, fund, "意外伤害慰问", "other", cap_rule="fixed", cap_amount=D("1500"))
    paid(alice, carol, dave, household, living, fund, amount="2000")
    applications.application_draft(actor=alice, household=household, program=living, amount="500")
    rejected = applications.application_draft(
        actor=alice, household=household, program=living, amount="300"
    )
    applications.application_decide(actor=carol, application=rejected, approve=False, note="不符")
    applications.application_draft(
        actor=alice, household=household, program=medical, amount="2000", out_of_pocket="5000"
    )
    applications.application_draft(
        actor=alice, household=household, program=school, amount="2000", student=student, months=4
    )
    applications.application_draft(actor=alice, household=household, program=fixed, amount="1000")
    withdrawn = applications.application_draft(
        actor=alice, household=household, program=fixed, amount="500"
    )
    applications.application_withdraw(actor=alice, application=withdrawn, reason="重复申请")
    # Last year's use does not count against this year's caps.
    set_day(dt.date(2025, 9, 1))
    paid(alice, carol, dave, household, living, fund, amount="700")
    set_day(dt.date(2026, 9, 1))

    page = page_for(as_user(alice), household)
    limit = D("800") * 12 * household.household_size
    assert text_of(page, "cap-living-used") == yuan(D("2500"))
    assert text_of(page, "cap-living-limit") == yuan(limit)
    assert text_of(page, "cap-living-left") == yuan(limit - D("2500"))
    assert text_of(page, "cap-medical-used") == yuan(D("2000"))
    assert text_of(page, "cap-medical-limit") == yuan(D("5000"))
    assert text_of(page, "cap-medical-left") == yuan(D("3000"))
    assert text_of(page, f"cap-school-{student.pk}-used") == "4 个月"
    assert text_of(page, f"cap-school-{student.pk}-left") == "6 个月"
    assert "王小红" in page
    assert text_of(page, f"cap-program-{fixed.pk}-used") == yuan(D("1000"))
    assert text_of(page, f"cap-program-{fixed.pk}-left") == yuan(D("500"))


@pytest.mark.django_db
def test_a_full_cap_is_marked(as_user, alice, household, units, fund):
    fixed = program(units, fund, "意外伤害慰问", "other", cap_rule="fixed", cap_amount=D("800"))
    applications.application_draft(actor=alice, household=household, program=fixed, amount="800")
    page = page_for(as_user(alice), household)
    assert "已达上限" in text_of(page, f"cap-program-{fixed.pk}")
    assert text_of(page, f"cap-program-{fixed.pk}-left") == yuan(D("0"))
    # The medical cap grows with each declared cost: nothing declared is no wall.
    assert "已达上限" not in text_of(page, "cap-medical")


@pytest.mark.django_db
def test_loans_show_principal_repaid_outstanding_and_arrears(
    as_user, units, alice, carol, dave, household, fund
):
    set_day(dt.date(2026, 1, 10))
    loans = program(units, fund, "创业无息借款", "loan", kind="loan")
    app = applications.application_draft(
        actor=alice, household=household, program=loans, amount="12000"
    )
    applications.application_decide(actor=carol, application=app, approve=True)
    with transaction.atomic():
        payment = payments.pay(actor=dave, application=app, fund=fund, method="bank", loan=True)
        loan = payment_loan(payment, dave, months=12)
    for paid_on in (dt.date(2026, 2, 10), dt.date(2026, 3, 10)):
        repay(loan, dave, paid_on)
    mistaken = repay(loan, dave, dt.date(2026, 3, 11))
    set_day(dt.date(2026, 5, 20))
    ledger.entry_reverse(actor=dave, entry=mistaken.entry, reason="重复入账")

    page = page_for(as_user(alice), household)
    assert text_of(page, f"loan-{loan.pk}-principal") == yuan(D("12000"))
    assert text_of(page, f"loan-{loan.pk}-repaid") == yuan(D("2000"))
    assert text_of(page, f"loan-{loan.pk}-outstanding") == yuan(D("10000"))
    # Due by 20 May: February to May, four installments of 1000; 2000 repaid.
    assert text_of(page, f"loan-{loan.pk}-arrears") == yuan(D("2000"))


def payment_loan(payment, actor, *, months):
    """A loan with its schedule, as the loan service records one (built here so
    the money view is tested on its own)."""
    loan = Loan.objects.create(
        application=payment.application,
        payment=payment,
        household=payment.application.household,
        fund=payment.fund,
        principal=payment.amount,
        issued_on=payment.paid_on,
        term_months=months,
        created_by=actor,
    )
    each = payment.amount / months
    for seq in range(1, months + 1):
        month = payment.paid_on.month + seq - 1
        due = dt.date(payment.paid_on.year + month // 12, month % 12 + 1, 10)
        Installment.objects.create(loan=loan, seq=seq, due_on=due, amount=each)
    return loan


def repay(loan, actor, paid_on):
    # Recorded on the day it was paid: a receipt may be back-dated only
    # within the union's window.
    set_day(paid_on)
    entry = ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=actor,
        fund=loan.fund,
        amount="1000",
        memo="还款",
        occurred_on=paid_on,
    )
    return Repayment.objects.create(
        loan=loan, amount=D("1000"), paid_on=paid_on, entry=entry, actor=actor
    )


@pytest.mark.django_db
def test_noncash_help_is_counted_for_the_year(as_user, alice, household):
    year = clock.today().year
    for kind in ("job", "training"):
        noncash_help_record(
            actor=alice,
            household=household,
            kind=kind,
            given_on=clock.today(),
            description="推荐到社区公益岗位",
        )
    page = page_for(as_user(alice), household)
    assert f"{year} 年非现金帮扶（就业、培训、政策转介、法律援助、住房）2 次" in page
    summary = re.search(rf'id="summary-{year}">(.*?)</p>', page, re.S)
    assert summary and "非现金帮扶 2 次" in summary.group(1)


@pytest.mark.django_db
def test_htmx_gets_a_fragment_and_a_browser_a_page(as_user, alice, household):
    client = as_user(alice)
    fragment = page_for(client, household, HTTP_HX_REQUEST="true")
    full = page_for(client, household)
    assert "<html" not in fragment and 'id="money-panel"' in fragment
    assert "<html" in full and 'id="money-panel"' in full and household.name in full


@pytest.mark.django_db
def test_apply_link_only_for_those_who_may_draft(as_user, alice, dave, erin, household, units):
    apply_url = reverse("programs:application_create", args=[household.pk])
    assert apply_url in page_for(as_user(alice), household)
    for user in (dave, erin):
        assert apply_url not in page_for(as_user(user), household)
    unfiled = filed(units["a"], status="visit")
    assert apply_url.replace(str(household.pk), str(unfiled.pk)) not in page_for(
        as_user(alice), unfiled
    )


@pytest.mark.django_db
def test_household_page_loads_the_money_fragment(as_user, alice, household):
    page = as_user(alice).get(reverse("cases:household_detail", args=[household.pk]))
    url = reverse(URL, args=[household.pk])
    content = page.content.decode()
    assert f'hx-get="{url}"' in content and 'hx-trigger="load"' in content
    assert f'href="{url}"' in content  # without JavaScript, a plain link


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 40])
def test_query_count_does_not_grow_with_applications(
    as_user, django_assert_max_num_queries, alice, carol, dave, household, festival, fund, count
):
    for i in range(count):
        app = applications.application_draft(actor=alice, household=household, program=festival)
        if i % 2 == 0:
            applications.application_decide(actor=carol, application=app, approve=True)
            payment = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
            if i % 4 == 2:
                payments.aid_payment_reverse(actor=dave, payment=payment, reason="测试冲正")
    client = as_user(alice)
    # 12 here: session, user, memberships, household, applications and their
    # live payments, ledger sums, non-cash counts, students, fixed caps, 低保
    # standard, loans; two more prefetches when the household has a loan.
    # Never one per row.
    with django_assert_max_num_queries(14):
        page = page_for(client, household)
    assert page.count('id="application-') >= count
    assert Application.objects.filter(household=household, status=S.PAID).exists()
