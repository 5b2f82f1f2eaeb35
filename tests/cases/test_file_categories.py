"""档案分类: a household carries any number of file categories beside its
tier; the form sets them, the page shows them, the list filters by them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from cases.models import FileCategory, Household
from tests.builders import household_data, make_household
from tests.cases.test_list_queries import LIST_BUDGET, bulk_households


def _post_data(units, **overrides):
    overrides.setdefault("unit", units["a1"].pk)
    data = household_data(**overrides)
    data.update({"members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"})
    return data


def cat(name):
    return FileCategory.objects.get(name=name)


@pytest.mark.django_db
def test_a_caseworker_gives_a_file_several_categories(as_user, alice, units):
    client = as_user(alice)
    page = client.get(reverse("cases:household_create")).content.decode()
    assert "档案分类" in page and "大病职工" in page and "农民工" in page
    data = _post_data(units)
    data["categories"] = [cat("大病职工").pk, cat("单亲家庭").pk]
    response = client.post(reverse("cases:household_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    household = Household.objects.get(id_number=data["id_number"])
    assert {c.name for c in household.categories.all()} == {"大病职工", "单亲家庭"}
    event = AuditEvent.objects.get(action="household.create")
    assert event.changes["categories"] == [None, ["单亲家庭", "大病职工"]]
    detail = client.get(response["Location"]).content.decode()
    section = detail.split('id="file-categories"')[1].split("</dd>")[0]
    assert "大病职工" in section and "单亲家庭" in section and "劳模" not in section


@pytest.mark.django_db
def test_editing_changes_the_categories_and_keeps_a_retired_one(as_user, alice, units):
    household = make_household(units["a1"], name="王秀兰")
    household.categories.set([cat("劳模")])
    FileCategory.objects.filter(name="劳模").update(is_active=False)
    client = as_user(alice)
    url = reverse("cases:household_edit", args=[household.pk])
    page = client.get(url).content.decode()
    assert "劳模" in page, "a retired category the file carries is still shown"
    data = _post_data(units, id_number=household.id_number, name="王秀兰")
    data["categories"] = [cat("劳模").pk, cat("农民工").pk]
    assert client.post(url, data).status_code == 302
    assert {c.name for c in household.categories.all()} == {"劳模", "农民工"}
    event = AuditEvent.objects.filter(action="household.update").latest("id")
    assert event.changes["categories"] == [["劳模"], ["农民工", "劳模"]]


@pytest.mark.django_db
def test_a_retired_or_unknown_category_is_refused_naming_the_field(as_user, alice, units):
    FileCategory.objects.filter(name="劳模").update(is_active=False)
    client = as_user(alice)
    for bad in (cat("劳模").pk, 99999):
        data = _post_data(units)
        data["categories"] = [cat("农民工").pk, bad]
        response = client.post(reverse("cases:household_create"), data)
        assert response.status_code == 200
        assert "档案分类：所选档案分类" in response.content.decode()
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_the_list_filters_by_category_without_repeating_a_household(as_user, alice, units):
    both = make_household(units["a1"], name="两类都有")
    both.categories.set([cat("大病职工"), cat("单亲家庭")])
    one = make_household(units["a1"], name="只有大病")
    one.categories.set([cat("大病职工")])
    make_household(units["a1"], name="没有分类")
    theirs = make_household(units["b"], name="外县大病")
    theirs.categories.set([cat("大病职工")])

    client = as_user(alice)
    response = client.get(reverse("cases:household_list"), {"category": cat("大病职工").pk})
    names = [row["name"] for row in response.context["rows"]]
    assert sorted(names) == ["两类都有", "只有大病"]
    assert response.context["page"].paginator.count == 2
    response = client.get(reverse("cases:household_list"), {"category": cat("单亲家庭").pk})
    assert [row["name"] for row in response.context["rows"]] == ["两类都有"]

    response = client.get(reverse("cases:household_list"), {"category": "99999"})
    assert "档案分类：所选档案分类不存在。" in response.content.decode()
    assert not response.context["rows"]


@pytest.mark.django_db
def test_the_category_filter_costs_the_same_for_any_number_of_files(
    as_user, alice, units, django_assert_max_num_queries
):
    client = as_user(alice)
    url = reverse("cases:household_list")
    sick = cat("大病职工")
    params = {"category": sick.pk, "status": "filed", "unit": units["a1"].pk}

    def tag_all():
        through = Household.categories.through
        through.objects.bulk_create(
            [
                through(household_id=pk, filecategory_id=sick.pk)
                for pk in Household.objects.exclude(categories=sick).values_list("pk", flat=True)
            ]
        )

    bulk_households(units["a1"], 30)
    tag_all()
    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    bulk_households(units["a1"], 270, start=30)
    tag_all()
    with CaptureQueriesContext(connection) as many:
        client.get(url, params)
    assert len(few) == len(many)
    # A deep page by number: its keys first, then its rows (accounts.paging).
    with django_assert_max_num_queries(LIST_BUDGET), CaptureQueriesContext(connection) as many:
        response = client.get(url, {**params, "page": "3"})
    assert len(response.context["rows"]) == 25
    assert response.context["page"].paginator.count == 150
    assert len(many) <= len(few) + 1
    count_sql = next(
        q["sql"]
        for q in many.captured_queries
        if "COUNT(" in q["sql"] and "cases_household" in q["sql"]
    )
    assert "EXISTS" in count_sql and "DISTINCT" not in count_sql
