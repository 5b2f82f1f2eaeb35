"""What the household pages save per request (issue 11) shows the same as
before: the menu rendered once per roles and language, the filter's choice
lists and a household's causes and categories read in one query each, the
search box written out in Python, and an unfiltered city list estimated
without counting."""

import re

import pytest
from django import forms
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.scoping import covers_everything, memberships
from cases.forms.fields import FastTextInput
from cases.models import Cause, FileCategory, Tier
from tests.builders import make_unit, make_user
from tests.cases.test_list_queries import bulk_households


@pytest.mark.parametrize("value", ["a\"<b>&'x", None, "", 0, "王 秀"])
def test_the_fast_text_input_writes_what_django_writes(value):
    attrs = {"placeholder": '姓名"', "required": True, "disabled": False, "maxlength": 50}
    expected = forms.TextInput(attrs=attrs).render("q", value, {"id": "id_q"})
    assert FastTextInput(attrs=attrs).render("q", value, {"id": "id_q"}) == expected


@pytest.mark.django_db
def test_each_user_sees_the_menu_of_their_own_roles(client, as_user, alice, carol, frank):
    url = reverse("cases:household_list")
    decide = reverse("programs:application_list") + "?view=mine"
    # The chair's menu is rendered (and kept) first; the caseworker's differs.
    chair_page = as_user(carol).get(url).content.decode()
    assert decide in chair_page and reverse("funds:fund_list") in chair_page
    worker_page = as_user(alice).get(url).content.decode()
    assert decide not in worker_page and reverse("funds:fund_list") not in worker_page
    assert "张丽" in worker_page and "陈红" not in worker_page
    # The administrator's: system configuration, no household links.
    admin_page = as_user(frank).get(reverse("reports:todo")).content.decode()
    assert reverse("accounts:audit_list") in admin_page
    assert reverse("cases:household_create") not in admin_page
    # Language is part of the key: the same roles in English get English links.
    client.cookies["django_language"] = "en"
    english = as_user(alice).get(url).content.decode()
    assert ">Household files</a>" in english
    assert "家庭档案</a>" not in english


@pytest.mark.django_db
def test_filter_lists_come_in_one_query_in_their_order(as_user, alice):
    Tier.objects.create(name="乙类", sort_order=0)
    Cause.objects.create(name="首选原因", name_en="First cause", sort_order=0)
    FileCategory.objects.create(name="末类", sort_order=999)
    FileCategory.objects.create(name="零类", sort_order=0)
    client = as_user(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:household_list"))
    lists = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'FROM "cases_(tier|cause|filecategory)"', q["sql"])
    ]
    assert len(lists) == 1 and "UNION" in lists[0].upper()
    form = response.context["form"]
    tiers = [label for _pk, label in form.fields["tier"].choices][1:]
    assert tiers == [t.name for t in Tier.objects.order_by("sort_order", "id")]
    assert tiers[0] == "乙类"
    causes = [label for _pk, label in form.fields["cause"].choices][1:]
    assert causes == [c.name for c in Cause.objects.order_by("sort_order", "id")]
    categories = [label for _pk, label in form.fields["category"].choices][1:]
    assert categories == [c.name for c in FileCategory.objects.order_by("sort_order", "id")]
    assert categories[0] == "零类" and categories[-1] == "末类"
    # A chosen tier still filters and stays chosen.
    tier = Tier.objects.get(name="乙类")
    response = client.get(reverse("cases:household_list"), {"tier": tier.pk})
    assert response.status_code == 200 and f'<option value="{tier.pk}" selected>' in (
        response.content.decode()
    )
    response = client.get(reverse("cases:household_list"), {"tier": 999999})
    assert response.context["form"].errors


@pytest.mark.django_db
def test_the_detail_shows_causes_and_categories_in_order(as_user, alice, household):
    later = Cause.objects.create(name="后一原因", sort_order=90)
    first = Cause.objects.create(name="前一原因", sort_order=0)
    household.secondary_causes.set([later, first])
    household.categories.set(
        [
            FileCategory.objects.create(name="乙分类", sort_order=2),
            FileCategory.objects.create(name="甲分类", sort_order=1),
        ]
    )
    body = as_user(alice).get(reverse("cases:household_detail", args=[household.pk]))
    text = body.content.decode()
    assert "前一原因、后一原因" in text
    assert text.index("甲分类") < text.index("乙分类")


@pytest.mark.django_db
def test_the_root_count_comes_with_the_memberships(units, alice):
    city = make_user("citywide", units["city"], "caseworker")
    with CaptureQueriesContext(connection) as queries:
        granted = memberships(city)
        assert covers_everything(granted)
        assert not covers_everything(memberships(alice))
    assert len(queries.captured_queries) == 2  # one per user, nothing more
    # A second root union: the city alone no longer covers everything.
    make_unit("410200", "开封市总工会", kind="city")
    fresh = make_user("citywide2", units["city"], "caseworker")
    assert not covers_everything(memberships(fresh))


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_an_unfiltered_list_far_above_the_cap_is_estimated_without_counting(as_user, units):
    bulk_households(units["a1"], 60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_household")
    city = make_user("city_worker", units["city"], "caseworker")
    client = as_user(city)
    url = reverse("cases:household_list")
    with override_settings(LIST_COUNT_CAP=3), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    counts = [q["sql"] for q in queries.captured_queries if _counts_households(q["sql"])]
    assert not counts, counts
    page = response.context["page"]
    assert page.count is None and page.estimate and page.estimate > 30
    assert f"约 {page.estimate:,} 户" in response.content.decode()
    # Filtered, the same list is counted up to the cap as before.
    with override_settings(LIST_COUNT_CAP=3), CaptureQueriesContext(connection) as queries:
        client.get(url, {"status": "filed"})
    assert any(_counts_households(q["sql"]) for q in queries.captured_queries)


def _counts_households(sql):
    return "COUNT(" in sql.upper() and '"cases_household"' in sql
