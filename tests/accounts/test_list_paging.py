"""Big lists (accounts.paging.paginate): 下一页 carries the last row's sort
key, so walking a list visits every row once, in order, with its filters;
the count stops at a cap and shows "约 N" above it; a role at the root sees
every union without a scope filter, a scoped role only its own."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Helper, Household
from tests.builders import make_user
from tests.cases.test_followup import filed, roster_person
from tests.cases.test_list_queries import bulk_households

SMALL = override_settings(HOUSEHOLD_PAGE_SIZE=7)


def _walk(client, url, params, *, key="rows"):
    """Every page from the first by its 下一页 links: (rows, queries) per page."""
    pages = []
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    while True:
        assert response.status_code == 200
        page = response.context["page"]
        pages.append((list(response.context[key]), len(queries)))
        if not page.has_next:
            return pages, response
        assert "after=" in page.next_query and "page=" not in page.next_query
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?{page.next_query}")


@pytest.fixture
def households(units):
    # Two unions of county A and one of county B, interleaved by id.
    bulk_households(units["a1"], 20, name="甲")
    bulk_households(units["b"], 10, name="乙")
    bulk_households(units["a"], 20, name="丙")
    return Household.objects.order_by("-id")


@pytest.mark.django_db
@SMALL
def test_next_links_visit_every_row_once_in_order_with_the_filters(as_user, alice, households):
    client = as_user(alice)
    url = reverse("cases:household_list")
    pages, last = _walk(client, url, {"status": "filed"})
    seen = [row["id"] for rows, _ in pages for row in rows]
    expected = list(
        households.filter(
            status="filed", unit__path__startswith=alice.memberships.get().unit.path
        ).values_list("pk", flat=True)
    )
    assert seen == expected and len(expected) == 20
    # Every later page costs what the first one costs.
    assert len({queries for _, queries in pages}) == 1
    # The filter stays in the links, and the page number runs on.
    assert "status=filed" in last.context["page"].previous_query
    assert last.context["page"].number == len(pages) == 3
    # 上一页 from the last page shows the page before it again.
    back = client.get(f"{url}?{last.context['page'].previous_query}")
    assert [r["id"] for r in back.context["rows"]] == [r["id"] for r in pages[-2][0]]
    assert back.context["page"].has_next and back.context["page"].number == 2
    body = back.content.decode()
    assert "下一页" in body and "上一页" in body and "共 20 户" in body


@pytest.mark.django_db
@SMALL
def test_a_forged_cursor_shows_the_first_page(as_user, alice, households):
    client = as_user(alice)
    url = reverse("cases:household_list")
    first = client.get(url)
    for bad in ("abc", "", "-1x", "9" * 30):
        response = client.get(url, {"after": bad})
        assert response.status_code == 200
        assert [r["id"] for r in response.context["rows"]] == [
            r["id"] for r in first.context["rows"]
        ]


@pytest.mark.django_db
def test_the_count_never_counts_past_the_cap(as_user, alice, households):
    client = as_user(alice)
    url = reverse("cases:household_list")
    with override_settings(LIST_COUNT_CAP=12), CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"q": "甲"})
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and '"cases_household"' in q["sql"]
    ]
    assert counts, "the pager counts"
    for sql in counts:
        # COUNT over a subquery that stops after cap + 1 rows, never the table.
        assert re.search(r"LIMIT 13\b", sql), sql
    page = response.context["page"]
    assert page.count is None
    body = response.content.decode()
    if connection.vendor == "postgresql":
        assert page.estimate and page.estimate >= 13 and f"约 {page.estimate:,} 户" in body
    else:
        assert "12+ 户" in body
    # Below the cap the count is exact.
    with override_settings(LIST_COUNT_CAP=100):
        response = client.get(url, {"q": "甲"})
    assert response.context["page"].count == 20 and "共 20 户" in response.content.decode()


@pytest.mark.django_db
def test_a_root_role_sees_every_union_without_a_scope_join(as_user, units, alice, households):
    city = make_user("city_worker", units["city"], "caseworker")
    url = reverse("cases:household_list")
    with override_settings(HOUSEHOLD_PAGE_SIZE=100), CaptureQueriesContext(connection) as q:
        response = as_user(city).get(url)
    assert {r["name"][0] for r in response.context["rows"]} == {"甲", "乙", "丙"}
    assert len(response.context["rows"]) == 50
    rows_sql = [s["sql"] for s in q.captured_queries if 'FROM "cases_household"' in s["sql"]]
    assert rows_sql and all(" WHERE " not in sql for sql in rows_sql), rows_sql
    # County A's caseworker: its own unions only, never county B's.
    with override_settings(HOUSEHOLD_PAGE_SIZE=100):
        response = as_user(alice).get(url)
    assert {r["name"][0] for r in response.context["rows"]} == {"甲", "丙"}
    # A grassroots union's caseworker: that union only, read by its id.
    mill = make_user("mill", units["a1"], "caseworker")
    with override_settings(HOUSEHOLD_PAGE_SIZE=100), CaptureQueriesContext(connection) as q:
        response = as_user(mill).get(url)
    assert {r["name"][0] for r in response.context["rows"]} == {"甲"}
    rows_sql = [s["sql"] for s in q.captured_queries if 'FROM "cases_household"' in s["sql"]]
    assert all('"unit_id" IN' in sql for sql in rows_sql), rows_sql


@pytest.mark.django_db
@SMALL
def test_overdue_and_my_households_walk_by_their_due_dates(as_user, units, alice):
    # Several pairings share a base date: the id breaks the tie.
    for i in range(17):
        household = filed(units["a1"], name=f"户{i:02d}")
        Helper.objects.create(
            household=household,
            person=roster_person(household.unit, alice),
            user=alice,
            role="union_cadre",
            is_first=True,
            start_on=dt.date(2024, 1, 1),
            last_visited_on=dt.date(2024, 1, 1) + dt.timedelta(days=i % 4),
        )
    expected = list(
        Helper.objects.order_by("last_visited_on", "id").values_list("household__name", flat=True)
    )
    client = as_user(alice)
    for name in ("cases:my_households", "cases:overdue_visits"):
        pages, _ = _walk(client, reverse(name), {})
        seen = [row.household.name for rows, _ in pages for row in rows]
        assert seen == expected, name
        assert len({queries for _, queries in pages}) == 1, name
