"""The finance staff's fund screens: every figure comes from the ledger, the
pages cost a fixed number of queries, and bad input changes nothing."""

import re
from collections import defaultdict
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from funds import services
from funds.models import EntryKind, Fund, IncomeSource, LedgerEntry, Restriction
from tests.builders import make_household

# Session, user, the second-factor device (django-otp), memberships; the unit
# choices; the income sources (the filter's choices, and the chosen one when
# filtering); the count and the page of funds with their totals (one
# aggregate query).
LIST_BUDGET = 10
# Session, user, memberships; the fund; its totals; the period summary (the
# opening balance and one grouped query); the campaign sums; the count and
# the page of entries (with each entry's reversal, other fund and owner, in
# the same query: a page with transfers asks no more than one without);
# past the first page by its number, the page's keys before its rows
# (accounts.paging).
DETAIL_BUDGET = 11


def from_finance_bureau():
    """The source and payer a receipt form names (a unit paying an allocation)."""
    source = IncomeSource.objects.get(code="admin_allocation")
    return {"source": source.pk, "payer_kind": "unit", "payer": "金水区财政局"}


def money(value):
    return f"{D(value):,.2f}"


def shown(body, element_id):
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>([^<]*)<', body)
    assert match, f"no element {element_id} on the page"
    return match.group(1).strip()


def ledger_figures(fund):
    """In, out and balance a clerk gets by adding up the fund's rows by hand."""
    rows = LedgerEntry.objects.filter(fund=fund)
    total_in = sum((e.amount for e in rows if e.direction == 1), D("0"))
    total_out = sum((e.amount for e in rows if e.direction == -1), D("0"))
    return total_in, total_out, total_in - total_out


def campaign_figures(fund):
    sums = defaultdict(lambda: D("0"))
    for e in LedgerEntry.objects.filter(fund=fund, kind=EntryKind.DONATION):
        if not LedgerEntry.objects.filter(reverses=e).exists():
            sums[e.campaign] += e.amount
    return dict(sums)


@pytest.fixture
def fund(dave, units):
    return services.fund_create(actor=dave, unit=units["a"], name="送温暖专项", year=2026)


@pytest.fixture
def busy_funds(dave, units, fund):
    """Three funds with every kind of movement, a reversed donation included."""
    donations = services.fund_create(actor=dave, unit=units["a1"], name="爱心捐款", year=2026)
    other = services.fund_create(actor=dave, unit=units["a"], name="金秋助学", year=2025)
    household = make_household(units["a1"], name="王秀兰")
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="10000.50",
        memo="区财政拨款",
    )
    services.payment_post(actor=dave, fund=fund, amount="800", memo="慰问", household=household)
    wrong = services.payment_post(actor=dave, fund=fund, amount="99.99", memo="误付")
    services.entry_reverse(actor=dave, entry=wrong, reason="重复支付")
    services.transfer_post(actor=dave, source=fund, target=other, amount="1234.56", memo="调剂")
    for amount, donor, campaign in [
        ("2000", "张先生", "情暖冬日"),
        ("350.25", "李女士", "情暖冬日"),
        ("5000", "某建材公司", "金秋助学行动"),
        ("88", "匿名", ""),
    ]:
        services.receipt_post(
            source="donation",
            payer_kind="person",
            payer=donor,
            actor=dave,
            fund=donations,
            amount=amount,
            memo="捐款",
            donor=donor,
            campaign=campaign,
        )
    mistaken = services.receipt_post(
        source="donation",
        payer_kind="person",
        payer="王某",
        actor=dave,
        fund=donations,
        amount="600",
        memo="捐款",
        donor="王某",
        campaign="情暖冬日",
    )
    services.entry_reverse(actor=dave, entry=mistaken, reason="退回捐赠人")
    return [fund, donations, other]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["dave", "carol", "erin"])
def test_every_figure_on_the_fund_list_adds_up_from_the_ledger(
    request, as_user, busy_funds, persona
):
    client = as_user(request.getfixturevalue(persona))
    body = client.get(reverse("funds:fund_list")).content.decode()
    for fund in busy_funds:
        total_in, total_out, balance = ledger_figures(fund)
        assert shown(body, f"fund-{fund.pk}-in") == money(total_in)
        assert shown(body, f"fund-{fund.pk}-out") == money(total_out)
        assert shown(body, f"fund-{fund.pk}-balance") == money(balance)
        assert balance == services.balance_of(fund)
    # Spelled out, so the test cannot agree with a wrong sum by construction.
    assert shown(body, f"fund-{busy_funds[0].pk}-balance") == "7,965.94"


@pytest.mark.django_db
def test_every_figure_on_the_fund_detail_adds_up_from_the_ledger(as_user, dave, busy_funds):
    client = as_user(dave)
    for fund in busy_funds:
        body = client.get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
        total_in, total_out, balance = ledger_figures(fund)
        assert shown(body, "fund-total-in") == money(total_in)
        assert shown(body, "fund-total-out") == money(total_out)
        assert shown(body, "fund-balance") == money(balance)
        for entry in LedgerEntry.objects.filter(fund=fund):
            side = "in" if entry.direction == 1 else "out"
            assert shown(body, f"entry-{entry.pk}-{side}") == money(entry.amount)
    donations = busy_funds[1]
    body = client.get(reverse("funds:fund_detail", args=[donations.pk])).content.decode()
    expected = campaign_figures(donations)
    assert expected == {"": D("88"), "情暖冬日": D("2350.25"), "金秋助学行动": D("5000")}
    # Sorted by campaign name, as the page lists them.
    for i, campaign in enumerate(sorted(expected), start=1):
        assert shown(body, f"campaign-{i}-total") == money(expected[campaign])
    body = client.get(reverse("funds:fund_detail", args=[busy_funds[0].pk])).content.decode()
    assert 'id="fund-campaigns"' not in body


@pytest.mark.django_db
def test_the_ledger_shows_who_donor_receipt_and_reversal_links(as_user, dave, busy_funds):
    donations = busy_funds[1]
    mistaken = LedgerEntry.objects.get(fund=donations, donor="王某")
    reversal = LedgerEntry.objects.get(reverses=mistaken)
    body = as_user(dave).get(reverse("funds:fund_detail", args=[donations.pk])).content.decode()
    assert "某建材公司" in body and "金秋助学行动" in body and "杜伟" in body
    assert f'href="?entry={reversal.pk}"' in body  # "reversed by" on the original
    assert f'href="?entry={mistaken.pk}"' in body  # "reverses" on the correction
    assert reverse("funds:entry_reverse", args=[mistaken.pk]) not in body
    one = as_user(dave).get(
        reverse("funds:fund_detail", args=[donations.pk]), {"entry": reversal.pk}
    )
    assert one.context["page"].paginator.count == 1


@pytest.mark.django_db
def test_household_names_are_masked_for_an_auditor_only(as_user, dave, erin, busy_funds):
    url = reverse("funds:fund_detail", args=[busy_funds[0].pk])
    assert "王秀兰" in as_user(dave).get(url).content.decode()
    body = as_user(erin).get(url).content.decode()
    assert "王秀兰" not in body and "王**" in body
    assert reverse("funds:receipt_post", args=[busy_funds[0].pk]) not in body


@pytest.mark.django_db
def test_filters_on_the_list_and_the_ledger(as_user, dave, units, busy_funds):
    client = as_user(dave)
    fund, donations, other = busy_funds
    page = client.get(reverse("funds:fund_list"), {"year": "2025"})
    assert [f.pk for f in page.context["page"].object_list] == [other.pk]
    page = client.get(reverse("funds:fund_list"), {"unit": units["a1"].pk})
    assert [f.pk for f in page.context["page"].object_list] == [donations.pk]
    donation = IncomeSource.objects.get(code="donation")
    page = client.get(reverse("funds:fund_list"), {"source": donation.pk})
    assert [f.pk for f in page.context["page"].object_list] == [donations.pk]
    url = reverse("funds:fund_detail", args=[fund.pk])
    page = client.get(url, {"kind": "reversal"})
    assert [e.kind for e in page.context["page"].object_list] == ["reversal"]
    tomorrow = clock.today().toordinal() + 1
    page = client.get(url, {"date_from": clock.today().fromordinal(tomorrow).isoformat()})
    assert page.context["page"].paginator.count == 0
    page = client.get(url, {"date_to": "not-a-date"})
    assert page.status_code == 200 and "date_to" in page.context["form"].errors


@pytest.mark.django_db
def test_a_colleague_in_another_county_sees_none_of_these_funds(as_user, fay, busy_funds):
    body = as_user(fay).get(reverse("funds:fund_list")).content.decode()
    assert all(f.name not in body for f in busy_funds)


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.django_db
def test_fund_list_query_count_is_fixed(as_user, dave, units, django_assert_max_num_queries):
    client = as_user(dave)
    url = reverse("funds:fund_list")
    for i in range(2):
        fund = services.fund_create(actor=dave, unit=units["a"], name=f"资金{i}", year=2026)
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=dave,
            fund=fund,
            amount="100",
            memo="拨款",
        )
    few, response = _count(client, url)
    assert len(response.context["page"].object_list) == 2
    for i in range(2, 40):
        fund = services.fund_create(actor=dave, unit=units["a1"], name=f"资金{i}", year=2026)
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=dave,
            fund=fund,
            amount="100",
            memo="拨款",
        )
        services.payment_post(actor=dave, fund=fund, amount="1", memo="支出")
    many, response = _count(client, url)
    assert len(response.context["page"].object_list) == 25
    other = IncomeSource.objects.get(code="other").pk
    filtered, _ = _count(client, url, {"unit": units["a1"].pk, "year": "2026", "source": other})
    assert few == many and filtered <= LIST_BUDGET
    with django_assert_max_num_queries(LIST_BUDGET):
        client.get(url, {"page": "2"})


@pytest.mark.django_db
def test_fund_detail_query_count_is_fixed(
    as_user, dave, units, fund, django_assert_max_num_queries
):
    client = as_user(dave)
    url = reverse("funds:fund_detail", args=[fund.pk])
    household = make_household(units["a1"])
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="100000",
        memo="拨款",
        donor="甲",
        campaign="一",
    )
    services.payment_post(actor=dave, fund=fund, amount="10", memo="支出", household=household)
    target = services.fund_create(actor=dave, unit=units["a"], name="调入", year=2026)
    services.transfer_post(actor=dave, source=fund, target=target, amount="2", memo="调")
    few, response = _count(client, url)
    assert len(response.context["rows"]) == 3
    for i in range(30):
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=dave,
            fund=fund,
            amount="5",
            memo="捐",
            donor=f"捐赠人{i}",
            campaign=f"活动{i % 7}",
        )
        paid = services.payment_post(
            actor=dave, fund=fund, amount="1", memo="支出", household=make_household(units["a1"])
        )
        if i % 5 == 0:
            services.entry_reverse(actor=dave, entry=paid, reason="更正")
            services.transfer_post(actor=dave, source=fund, target=target, amount="2", memo="调")
    many, response = _count(client, url)
    assert len(response.context["rows"]) == 50
    assert few == many <= DETAIL_BUDGET
    with django_assert_max_num_queries(DETAIL_BUDGET):
        client.get(url, {"page": "2", "kind": "payment"})


# -- Writing -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_a_fund_restricted_to_a_household_found_by_name(as_user, dave, units):
    sick_child = make_household(units["a1"], name="刘小宝", file_number="410105-2026-0007")
    client = as_user(dave)
    data = {
        "unit": units["a"].pk, "name": "为刘小宝募捐", "year": "2026",
        "restriction": "household", "household": "刘小宝",
    }  # fmt: skip
    response = client.post(reverse("funds:fund_create"), data)
    fund = Fund.objects.get(name="为刘小宝募捐")
    assert response.status_code == 302 and response["Location"] == reverse(
        "funds:fund_detail", args=[fund.pk]
    )
    assert fund.restriction == Restriction.HOUSEHOLD and fund.restricted_household == sick_child
    assert AuditEvent.objects.filter(action="fund.create").count() == 1


@pytest.mark.django_db
def test_two_households_of_one_name_need_the_file_number(as_user, dave, units):
    make_household(units["a1"], name="王强", file_number="410105-2026-0001")
    second = make_household(units["a"], name="王强", file_number="410105-2026-0002")
    make_household(units["b"], name="赵小花", file_number="410103-2026-0001")
    client = as_user(dave)
    data = {
        "unit": units["a"].pk, "name": "为王强募捐", "year": "2026",
        "restriction": "household", "household": "王强",
    }  # fmt: skip
    response = client.post(reverse("funds:fund_create"), data)
    assert response.status_code == 200
    assert (
        "找到多户" in response.content.decode() and "410105-2026-0002" in response.content.decode()
    )
    response = client.post(reverse("funds:fund_create"), {**data, "household": "赵小花"})
    assert "没有找到" in response.content.decode()  # county B's family is not found at all
    assert not Fund.objects.exists()
    client.post(reverse("funds:fund_create"), {**data, "household": "410105-2026-0002"})
    assert Fund.objects.get().restricted_household == second


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "该字段是必填项"),
        ({"restriction": "purpose"}, "restricted_purpose", "请填写限定用途"),
        ({"restriction": "household"}, "household", "请输入受助家庭"),
        ({"year": "1900"}, "year", "2000"),
        ({"unit": "UNIT_B"}, "unit", "选择一个有效的选项"),
    ],
)
def test_bad_fund_input_is_named_and_nothing_is_created(
    as_user, dave, units, change, field, message
):
    data = {"unit": units["a"].pk, "name": "新资金", "year": "2026",
            "restriction": "none"}  # fmt: skip
    data.update({k: units["b"].pk if v == "UNIT_B" else v for k, v in change.items()})
    response = as_user(dave).post(reverse("funds:fund_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in response.content.decode()
    assert not Fund.objects.exists()


@pytest.mark.django_db
def test_a_second_fund_of_the_same_name_is_refused(as_user, dave, units, fund):
    data = {"unit": units["a"].pk, "name": fund.name, "year": "2026",
            "restriction": "none"}  # fmt: skip
    response = as_user(dave).post(reverse("funds:fund_create"), data)
    assert "本工会该年度已有同名资金" in response.content.decode()
    assert Fund.objects.count() == 1


@pytest.mark.django_db
def test_a_donation_submitted_twice_is_recorded_once(as_user, dave, fund):
    client = as_user(dave)
    form = client.get(reverse("funds:receipt_post", args=[fund.pk])).context["form"]
    data = {
        "amount": "2000", "occurred_on": clock.today().isoformat(), "memo": "捐款",
        "source": IncomeSource.objects.get(code="donation").pk, "payer_kind": "person",
        "payer": "张先生", "donor": "张先生", "campaign": "情暖冬日", "receipt_number": "JZ-0001",
        "reference": form["reference"].value(),
    }  # fmt: skip
    for _ in range(2):
        response = client.post(reverse("funds:receipt_post", args=[fund.pk]), data)
        assert response.status_code == 302
    entry = LedgerEntry.objects.get(fund=fund)
    assert (entry.kind, entry.donor, entry.campaign, entry.receipt_number) == (
        "donation", "张先生", "情暖冬日", "JZ-0001",
    )  # fmt: skip
    assert services.balance_of(fund) == D("2000.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "金额必须大于 0"),
        ("12.345", "金额最多保留两位小数"),
        ("abc", "金额格式不正确"),
        ("", "请填写金额"),
    ],
)
def test_bad_receipt_amounts_are_named(as_user, dave, fund, amount, message):
    data = {"amount": amount, "occurred_on": clock.today().isoformat(), "memo": "拨款",
            "reference": "receipt:x", **from_finance_bureau()}  # fmt: skip
    response = as_user(dave).post(reverse("funds:receipt_post", args=[fund.pk]), data)
    assert response.status_code == 200
    assert f"金额（元）：{message}" in response.content.decode()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_receipt_dated_tomorrow_is_refused(as_user, dave, fund):
    tomorrow = clock.today().fromordinal(clock.today().toordinal() + 1)
    data = {"amount": "5", "occurred_on": tomorrow.isoformat(), "memo": "拨款",
            "reference": "receipt:y", **from_finance_bureau()}  # fmt: skip
    response = as_user(dave).post(reverse("funds:receipt_post", args=[fund.pk]), data)
    assert "不能晚于今天" in response.content.decode()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_transfer_only_to_a_fund_the_user_manages_and_within_the_balance(
    as_user, dave, fay, units, fund
):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    mine = services.fund_create(actor=dave, unit=units["a1"], name="基层", year=2026)
    theirs = services.fund_create(actor=fay, unit=units["b"], name="二七", year=2026)
    client = as_user(dave)
    url = reverse("funds:transfer_post", args=[fund.pk])
    page = client.get(url).content.decode()
    assert "基层" in page and "二七" not in page
    response = client.post(url, {"target": theirs.pk, "amount": "100"})
    assert response.status_code == 200 and "target" in response.context["form"].errors
    response = client.post(url, {"target": mine.pk, "amount": "1000.01"})
    assert "资金余额不足：可用 1000.00 元" in response.content.decode()
    assert services.balance_of(fund) == D("1000.00")
    response = client.post(url, {"target": mine.pk, "amount": "400", "memo": "调剂"})
    assert response.status_code == 302
    assert services.balance_of(fund) == D("600.00") and services.balance_of(mine) == D("400.00")


@pytest.mark.django_db
def test_a_restricted_fund_cannot_be_transferred_out(as_user, dave, units):
    household = make_household(units["a1"])
    restricted = services.fund_create(
        actor=dave, unit=units["a"], name="专款", year=2026,
        restriction="household", restricted_household=household,
    )  # fmt: skip
    other = services.fund_create(actor=dave, unit=units["a"], name="普通", year=2026)
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=restricted,
        amount="500",
        memo="捐款",
        donor="甲",
    )
    client = as_user(dave)
    url = reverse("funds:transfer_post", args=[restricted.pk])
    assert "不能调出" in client.get(url).content.decode()
    response = client.post(url, {"target": other.pk, "amount": "100"})
    assert "限定用途的资金不能调出" in response.content.decode()
    assert services.balance_of(restricted) == D("500.00")


@pytest.mark.django_db
def test_reversing_an_entry_needs_a_reason_and_keeps_both_rows(as_user, dave, fund):
    entry = services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="300",
        memo="误记",
    )
    client = as_user(dave)
    url = reverse("funds:entry_reverse", args=[entry.pk])
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 200 and "冲正理由：冲正须填写理由" in response.content.decode()
    response = client.post(url, {"reason": "x" * 151})
    assert response.status_code == 200 and LedgerEntry.objects.count() == 1
    response = client.post(url, {"reason": "重复记账"})
    assert response.status_code == 302
    assert LedgerEntry.objects.filter(fund=fund).count() == 2
    assert services.balance_of(fund) == D("0.00")
    response = client.post(url, {"reason": "再来一次"})
    assert "该分录已冲正" in response.content.decode()
    assert LedgerEntry.objects.count() == 2


@pytest.mark.django_db
def test_reversing_a_receipt_already_spent_is_refused(as_user, dave, fund):
    entry = services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="300",
        memo="拨款",
    )
    services.payment_post(actor=dave, fund=fund, amount="200", memo="支出")
    response = as_user(dave).post(
        reverse("funds:entry_reverse", args=[entry.pk]), {"reason": "误记"}
    )
    assert "余额将为负数" in response.content.decode()
    assert services.balance_of(fund) == D("100.00")


@pytest.mark.django_db
def test_reversing_either_leg_of_a_transfer_puts_the_money_back(as_user, dave, units, fund):
    target = services.fund_create(actor=dave, unit=units["a"], name="调入", year=2026)
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    _out, into = services.transfer_post(
        actor=dave, source=fund, target=target, amount="250", memo="调"
    )
    response = as_user(dave).post(
        reverse("funds:entry_reverse", args=[into.pk]), {"reason": "调错"}
    )
    assert response.status_code == 302
    assert services.balance_of(fund) == D("1000.00") and services.balance_of(target) == D("0.00")
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 2
