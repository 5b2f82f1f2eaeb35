"""The list and detail pages cost a fixed, small number of queries however
many households a union holds: no query per row, per member or per file."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import idnumber
from cases.models import Cause, Household, Member, Tier
from tests.builders import make_id, make_user

# Session, user and memberships; then the page: with every filter set, one
# lookup per filter, the scope's unions (their ids: accounts.paging), the
# count, the rows, the unions to choose from and the tiers, causes and
# categories (one query for the three lists).
LIST_BUDGET = 11
# Session, user, memberships, the household, its members, its secondary
# causes and categories (one query), its attachments; the intake panel adds
# two: the latest assessment and the timeline.
DETAIL_BUDGET = 9


def bulk_households(unit, count, *, start=0, name="张"):
    tiers, causes = list(Tier.objects.all()), list(Cause.objects.all())
    rows = []
    for i in range(start, start + count):
        info = idnumber.parse(make_id())
        rows.append(
            Household(
                unit=unit,
                name=f"{name}{i:04d}",
                id_number=info.number,
                sex=info.sex,
                birth_date=info.birth_date,
                phone=f"139{i:08d}",
                address="河南省郑州市金水区文化路街道黄河社区",
                employment_status="laid_off",
                housing_type="owned",
                hukou_type="urban",
                marital_status="married",
                household_size=3,
                income_wages=Decimal("12000"),
                tier=tiers[i % len(tiers)],
                main_cause=causes[i % len(causes)],
                status="filed" if i % 2 else "draft",
            )
        )
    Household.objects.bulk_create(rows, batch_size=500)


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries), response


VARIANTS = {
    "page 1": {},
    "a later page": {"page": "2"},
    "a name search": {"q": "张00"},
    "a phone search": {"q": "1390000"},
    "filters": {"status": "draft", "tier": "TIER", "cause": "CAUSE", "unit": "UNIT"},
}


def _params(variant, units):
    params = dict(VARIANTS[variant])
    replacements = {
        "TIER": str(Tier.objects.first().pk),
        "CAUSE": str(Cause.objects.first().pk),
        "UNIT": str(units["a1"].pk),
    }
    return {k: replacements.get(v, v) for k, v in params.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_list_query_count_does_not_grow_with_the_households(
    as_user, alice, units, variant, django_assert_max_num_queries
):
    client = as_user(alice)
    url = reverse("cases:household_list")
    params = _params(variant, units)

    bulk_households(units["a1"], 30)
    small, response = _count(client, url, params)
    assert response.context["rows"], "the page under test must show households"

    bulk_households(units["a1"], 270, start=30)
    bulk_households(units["a"], 30, start=300)
    large, response = _count(client, url, params)
    assert response.context["rows"]

    assert small == large, f"{variant}: {small} queries for 30 households, {large} for 330"
    with django_assert_max_num_queries(LIST_BUDGET):
        client.get(url, params)


@pytest.mark.django_db
def test_list_query_count_is_the_same_for_a_deep_page(as_user, alice, units):
    bulk_households(units["a1"], 300)
    client = as_user(alice)
    url = reverse("cases:household_list")
    first, response = _count(client, url)
    # 下一页 carries the last row's key: any later page is "the rows after
    # it", the same queries as page 1.
    for _ in range(10):
        query = response.context["page"].next_query
        later, response = _count(client, f"{url}?{query}")
        assert later == first
    assert response.context["page"].number == 11
    # An old ?page=N link still works: its keys first, then its rows.
    last, response = _count(client, url, {"page": "12"})
    assert response.context["page"].number == 12
    names = [r["name"] for r in response.context["rows"]]
    assert names == [f"张{i:04d}" for i in range(24, -1, -1)]
    assert last <= first + 1


@pytest.mark.django_db
def test_list_for_a_city_role_over_many_units(as_user, units, django_assert_max_num_queries):
    """Roles at several units and households spread across them: still fixed."""
    cathy = make_user("cathy", units["a"], "caseworker")
    cathy.memberships.create(unit=units["b"], role="auditor")
    for key in ("a", "a1", "b"):
        bulk_households(units[key], 40, start={"a": 0, "a1": 100, "b": 200}[key])
    client = as_user(cathy)
    with django_assert_max_num_queries(LIST_BUDGET):
        response = client.get(reverse("cases:household_list"))
    assert len(response.context["rows"]) == 25


def _detail_household(unit, members):
    bulk_households(unit, 1, name="详情")
    household = Household.objects.get(name="详情0000")
    Member.objects.bulk_create(
        Member(
            household=household,
            name=f"成员{i}",
            relation="child",
            id_number=make_id(datetime.date(2010, 1, 1) + datetime.timedelta(days=i)),
        )
        for i in range(members)
    )
    household.secondary_causes.set(Cause.objects.all()[: min(members, 5)])
    return household


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "erin"])
def test_detail_query_count_does_not_grow_with_members(
    request, units, persona, django_assert_max_num_queries
):
    user = request.getfixturevalue(persona)
    client = request.getfixturevalue("as_user")(user)
    few = _detail_household(units["a1"], 1)
    counted_few, response = _count(client, reverse("cases:household_detail", args=[few.pk]))
    assert "成员0" in response.content.decode()

    Household.objects.filter(pk=few.pk).update(name="旧")
    many = _detail_household(units["a1"], 15)
    counted_many, response = _count(client, reverse("cases:household_detail", args=[many.pk]))
    assert "成员14" in response.content.decode()

    assert counted_few == counted_many
    with django_assert_max_num_queries(DETAIL_BUDGET):
        client.get(reverse("cases:household_detail", args=[many.pk]))
