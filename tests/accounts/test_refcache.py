"""The unions, tiers and causes of the list filters, kept a minute per process
(accounts/refcache.py): fewer queries, never another scope's unions, and a
change saved here shown at once."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import refcache
from accounts.models import Unit
from cases.models import Tier
from tests.builders import make_user
from tests.cases.test_list_queries import bulk_households
from tests.race import on_postgres

LIST = reverse("cases:household_list")


@pytest.fixture(autouse=True)
def _store_on(settings):
    settings.REFERENCE_CACHE_SECONDS = 60


def _page(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _unit_options(html):
    select = re.search(r'<select[^>]*name="unit"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the list has a union filter"
    return re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select.group(1))


def test_second_visit_reads_the_lists_from_the_store(client, alice, units):
    client.force_login(alice)
    first, cold = _page(client)
    second, warm = _page(client)
    # The unions and the tier/cause/category lists: two queries fewer.
    assert warm == cold - 2
    assert _unit_options(second) == _unit_options(first)
    assert "纺织厂工会" in second


def test_each_scope_gets_its_own_unions(client, alice, bob, units):
    client.force_login(alice)
    _page(client)
    client.force_login(bob)
    html, _n = _page(client)
    names = [name.strip("　") for _pk, name in _unit_options(html)]
    assert "二七区总工会" in names
    assert "金水区总工会" not in names and "郑州纺织厂工会" not in names


def test_a_saved_change_shows_at_once(client, alice, units):
    client.force_login(alice)
    _page(client)
    a1 = units["a1"]
    a1.name = "郑州纺织集团工会"
    a1.save()
    Tier.objects.create(name="新设类别", sort_order=99)
    html, _n = _page(client)
    assert "郑州纺织集团工会" in html
    assert "新设类别" in html


def test_an_unsaved_change_shows_within_the_minute(client, alice, units, monkeypatch):
    client.force_login(alice)
    _page(client)
    # A bulk update sends no signal: the store keeps the old name...
    Unit.objects.filter(pk=units["a1"].pk).update(name="改名后的工会")
    assert "改名后的工会" not in _page(client)[0]
    # ...until its minute is up.
    later = refcache.time.monotonic() + 61
    monkeypatch.setattr(refcache.time, "monotonic", lambda: later)
    assert "改名后的工会" in _page(client)[0]


def test_names_are_escaped_in_the_store(client, alice, units):
    Unit.objects.filter(pk=units["a1"].pk).update(name="<b>工会</b>")
    client.force_login(alice)
    for _visit in range(2):
        html, _n = _page(client)
        assert "&lt;b&gt;工会&lt;/b&gt;" in html
        assert "<b>工会</b>" not in html


def test_zero_seconds_reads_every_time(client, alice, units, settings):
    settings.REFERENCE_CACHE_SECONDS = 0
    client.force_login(alice)
    _html, cold = _page(client)
    _html, again = _page(client)
    assert again == cold


@on_postgres
@pytest.mark.postgres
def test_a_whole_tables_estimate_is_kept_too(client, units, settings):
    """A city caseworker's unfiltered list shows the planner's estimate of the
    table (约 N 户): read once a minute, not by an EXPLAIN per page."""
    settings.LIST_COUNT_CAP = 5
    bulk_households(units["a1"], 30)
    client.force_login(make_user("city_cw", units["city"], "caseworker"))

    def explains():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return sum("EXPLAIN" in q["sql"] for q in queries.captured_queries)

    assert explains() == 1
    assert explains() == 0
