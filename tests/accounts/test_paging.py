"""Deep pages fetched in two steps (accounts.paging): a clerk paging through a
fund's ledger sees every entry exactly once, in the ledger's order, with the
same number of queries on page 2 as on the last page."""

import datetime
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.paging import paged
from cases import clock
from funds import services
from funds.models import EntryKind, LedgerEntry
from tests.builders import make_household


@pytest.fixture
def ledger(dave, units):
    """A fund of 130 entries over two days, most on the same day (the page
    order breaks those ties by id), some paying a household."""
    today = clock.today()
    fund = services.fund_create(actor=dave, unit=units["a"], name="送温暖专项", year=2026)
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="100000",
        memo="拨款",
        occurred_on=today - datetime.timedelta(days=1),
        date_reason="银行回单迟到",
    )
    household = make_household(units["a1"], name="翟秀兰")
    for i in range(129):
        if i % 3:
            services.receipt_post(
                source="other",
                payer_kind="unit",
                payer="区总工会",
                actor=dave,
                fund=fund,
                amount=str(10 + i),
                memo=f"收入{i}",
                occurred_on=today,
            )
        else:
            services.payment_post(
                actor=dave, fund=fund, amount=str(1 + i), memo=f"支出{i}", household=household
            )
    return fund


def _page(client, fund, number):
    url = reverse("funds:fund_detail", args=[fund.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page": number})
    assert response.status_code == 200
    return list(response.context["page"].object_list), len(queries), response


@pytest.mark.django_db
def test_every_entry_shows_once_in_ledger_order_across_pages(as_user, dave, ledger):
    client = as_user(dave)
    expected = list(
        LedgerEntry.objects.filter(fund=ledger)
        .order_by("-occurred_on", "-id")
        .values_list("pk", flat=True)
    )
    seen = []
    for number in (1, 2, 3):
        entries, _queries, response = _page(client, ledger, number)
        seen += [e.pk for e in entries]
    assert seen == expected
    # The last page's last row is the first receipt, with its memo and amount.
    body = response.content.decode()
    assert entries[-1].memo == "拨款" and "拨款" in body
    assert entries[-1].kind == EntryKind.RECEIPT and entries[-1].amount == D("100000")


@pytest.mark.django_db
def test_a_deep_page_costs_what_page_two_costs(as_user, dave, ledger):
    client = as_user(dave)
    _entries, second, _ = _page(client, ledger, 2)
    last, third, _ = _page(client, ledger, 3)
    assert second == third
    # The page's rows come with their joins: no query per row when shown.
    household_rows = [e for e in last if e.household_id is not None]
    assert household_rows
    with CaptureQueriesContext(connection) as more:
        names = [e.household.name for e in household_rows]
        units = [e.household.unit.name for e in household_rows]
    assert len(more) == 0 and set(names) == {"翟秀兰"} and units


@pytest.mark.django_db
def test_paged_slices_like_the_queryset(dave, ledger):
    """Any window, including empty ones, holds what the plain queryset holds."""
    plain = LedgerEntry.objects.filter(fund=ledger).order_by("-occurred_on", "-id")
    two_step = paged(plain.select_related("household__unit"))
    for start, stop in ((0, 7), (5, 12), (120, 200), (300, 310)):
        assert [e.pk for e in two_step[start:stop]] == [e.pk for e in plain[start:stop]]
    assert two_step.count() == plain.count() == 130


@pytest.mark.django_db
def test_next_links_walk_the_ledger_in_order(as_user, dave, ledger):
    """下一页 carries the last entry's date and id: the walk sees every entry
    once, in the ledger's order, each page at the cost of the first."""
    client = as_user(dave)
    url = reverse("funds:fund_detail", args=[ledger.pk])
    expected = list(
        LedgerEntry.objects.filter(fund=ledger)
        .order_by("-occurred_on", "-id")
        .values_list("pk", flat=True)
    )
    seen, costs, query = [], set(), ""
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?{query}")
        seen += [row["pk"] for row in response.context["rows"]]
        costs.add(len(queries))
        page = response.context["page"]
        if not page.has_next:
            break
        query = page.next_query
        assert "after=" in query
    assert seen == expected and len(costs) == 1
    # The export links keep the filters but not the place in the ledger.
    assert "after" not in response.context["query"]
