"""The helper roster (帮扶人名册), pairing roster people with households under
the count rule, and visits recorded on behalf of helpers without a login."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from cases.models import CaseRules, Helper, HelperPerson, Visit
from cases.models import HouseholdStatus as S
from cases.services import followup
from tests.builders import make_household, roster_person

TODAY = dt.date(2025, 5, 15)


@pytest.fixture(autouse=True)
def _fixed_today():
    clock.reset()
    clock.advance(dt.timedelta(days=(TODAY - clock.today()).days))
    yield
    clock.reset()


def filed(unit, **kw):
    kw.setdefault("status", S.FILED)
    kw.setdefault("filed_on", dt.date(2024, 1, 10))
    return make_household(unit, **kw)


def person(unit, name, **kw):
    return HelperPerson.objects.create(unit=unit, name=name, **kw)


def assign(actor, household, who, *, first=False):
    return followup.helper_assign(
        actor=actor,
        household=household,
        person=who,
        role="unit_leader",
        is_first=first,
        start_on=TODAY,
    )


# -- the roster pages -------------------------------------------------------------


@pytest.mark.django_db
def test_a_caseworker_adds_edits_and_takes_someone_off_the_roster(as_user, units, alice, carol):
    client = as_user(alice)
    response = client.post(
        reverse("cases:helper_person_create", args=[units["a1"].pk]),
        {
            "name": "孙建国",
            "post": "厂长",
            "workplace": "郑州纺织厂",
            "phone": "１３９ 0000 1111",  # full-width digits from an input method
            "user": carol.pk,  # a chair of the county above may be linked
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sun = HelperPerson.objects.get(name="孙建国")
    assert (sun.unit, sun.phone, sun.user, sun.created_by) == (
        units["a1"],
        "13900001111",
        carol,
        alice,
    )
    assert AuditEvent.objects.filter(action="helper_person.create", actor=alice).exists()

    page = client.get(reverse("cases:helper_roster", args=[units["a1"].pk])).content.decode()
    assert "孙建国" in page and "郑州纺织厂" in page and "carol" in page

    response = client.post(
        reverse("cases:helper_person_edit", args=[sun.pk]),
        {"name": "孙建国", "post": "党委书记", "workplace": "", "phone": "", "user": ""},
    )
    assert response.status_code == 302
    sun.refresh_from_db()
    assert sun.post == "党委书记" and sun.user is None

    response = client.post(
        reverse("cases:helper_person_active", args=[sun.pk]), {"active": "0"}, follow=True
    )
    assert "已将“孙建国”移出名册" in response.content.decode()
    sun.refresh_from_db()
    assert not sun.is_active
    page = client.get(reverse("cases:helper_roster", args=[units["a1"].pk])).content.decode()
    assert "孙建国" not in page, "the roster shows people still on it by default"
    page = client.get(
        reverse("cases:helper_roster", args=[units["a1"].pk]), {"show": "inactive"}
    ).content.decode()
    assert "孙建国" in page and "已移出" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "  ", "姓名：请填写帮扶人姓名。"),
        ("phone", "12ab", "联系电话：联系电话应为 7 到 12 位数字。"),
        ("user", "BOB", "系统账号（可选）：所选账号不属于本工会或其上级工会，不能关联。"),
    ],
)
def test_bad_roster_input_names_the_field_and_saves_nothing(
    as_user, units, alice, bob, field, value, message
):
    data = {"name": "周志强", "post": "", "workplace": "", "phone": "", "user": ""}
    data[field] = bob.pk if value == "BOB" else value
    response = as_user(alice).post(
        reverse("cases:helper_person_create", args=[units["a1"].pk]), data
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not HelperPerson.objects.exists()
    assert not AuditEvent.objects.filter(action="helper_person.create").exists()


@pytest.mark.django_db
def test_one_login_links_to_one_roster_entry_per_union(as_user, units, alice, carol):
    person(units["a1"], "陈红", user=carol)
    response = as_user(alice).post(
        reverse("cases:helper_person_create", args=[units["a1"].pk]),
        {"name": "陈红（重复）", "post": "", "workplace": "", "phone": "", "user": carol.pk},
    )
    assert response.status_code == 200
    assert "已关联名册中的“陈红”" in response.content.decode()
    assert HelperPerson.objects.count() == 1


@pytest.mark.django_db
def test_someone_still_paired_cannot_leave_the_roster(as_user, units, alice):
    h = filed(units["a1"], name="王秀兰")
    sun = person(units["a1"], "孙建国")
    assign(alice, h, sun)
    response = as_user(alice).post(
        reverse("cases:helper_person_active", args=[sun.pk]), {"active": "0"}, follow=True
    )
    assert "仍与 1 户家庭结对" in response.content.decode()
    sun.refresh_from_db()
    assert sun.is_active


@pytest.mark.django_db
def test_the_roster_is_paginated_filtered_by_name_at_a_fixed_cost(
    as_user, units, alice, django_assert_max_num_queries
):
    client = as_user(alice)
    url = reverse("cases:helper_roster", args=[units["a1"].pk])

    def add(count, start):
        HelperPerson.objects.bulk_create(
            HelperPerson(unit=units["a1"], name=f"帮扶人{i:04d}")
            for i in range(start, start + count)
        )

    add(30, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"page": "2"})
    add(300, 30)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"page": "2"})
    assert len(few) == len(many), "30 and 330 people cost the same"
    assert len(response.context["page"].object_list) == 25
    assert "第 2 / 14 页" in response.content.decode()
    with django_assert_max_num_queries(8):
        response = client.get(url, {"q": "帮扶人01"})
    assert response.context["page"].paginator.count == 100
    person(units["b"], "帮扶人外县")
    page = client.get(url, {"q": "帮扶人外"}).content.decode()
    assert "帮扶人外县" not in page, "another union's roster never shows"


@pytest.mark.django_db
def test_the_roster_home_opens_the_users_own_union(as_user, units, alice):
    response = as_user(alice).get(reverse("cases:roster_home"))
    assert response["Location"] == reverse("cases:helper_roster", args=[units["a"].pk])


# -- pairing roster people ----------------------------------------------------------


@pytest.mark.django_db
def test_a_roster_person_without_a_login_is_paired_from_the_household_page(
    as_user, units, alice, carol
):
    h = filed(units["a1"], name="王秀兰")
    sun = person(units["a1"], "孙建国", post="厂长")
    chen = person(units["a"], "陈红", user=carol)  # the county above's roster
    outsider = person(units["b"], "贲明")
    client = as_user(alice)
    url = reverse("cases:helper_assign", args=[h.pk])
    page = client.get(url).content.decode()
    assert "孙建国" in page and "陈红" in page and "贲明" not in page

    response = client.post(
        url, {"person": sun.pk, "role": "unit_leader", "start_on": TODAY.isoformat()}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        url, {"person": chen.pk, "role": "union_cadre", "start_on": TODAY.isoformat()}
    )
    assert response.status_code == 302
    helpers = {x.person.name: x for x in Helper.objects.filter(household=h)}
    assert helpers["孙建国"].user is None and helpers["孙建国"].is_first
    assert helpers["陈红"].user == carol, "a login on the roster carries to the pairing"

    detail = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "孙建国" in detail and "厂长" in detail and "无账号" in detail
    # "My households" keeps working for helpers with a login.
    mine = as_user(carol).get(reverse("cases:my_households")).content.decode()
    assert "王秀兰" in mine

    response = client.post(
        url, {"person": outsider.pk, "role": "unit_leader", "start_on": TODAY.isoformat()}
    )
    assert (
        "帮扶人：所选人员不在该家庭所属工会或其上级工会的帮扶人名册中" in response.content.decode()
    )
    assert Helper.objects.filter(household=h).count() == 2


@pytest.mark.django_db
def test_the_same_person_is_not_paired_twice(units, alice):
    h = filed(units["a1"])
    sun = person(units["a1"], "孙建国")
    assign(alice, h, sun)
    with pytest.raises(ValidationError) as exc:
        assign(alice, h, sun)
    assert "已是该家庭的帮扶人" in exc.value.error_dict["person"][0].messages[0]


@pytest.mark.django_db
def test_a_person_taken_off_the_roster_cannot_be_paired(units, alice):
    h = filed(units["a1"])
    sun = person(units["a1"], "孙建国", is_active=False)
    with pytest.raises(ValidationError) as exc:
        assign(alice, h, sun)
    assert "person" in exc.value.error_dict
    assert not Helper.objects.exists()


@pytest.mark.django_db
def test_three_helpers_per_household_by_default(as_user, units, alice):
    h = filed(units["a1"])
    people = [person(units["a1"], f"帮扶人{i}") for i in range(4)]
    for p in people[:3]:
        assign(alice, h, p)
    with pytest.raises(ValidationError, match="每户最多 3 名结对帮扶人，请先结束"):
        assign(alice, h, people[3])
    assert Helper.objects.filter(household=h, end_on=None).count() == 3
    page = as_user(alice).get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert reverse("cases:helper_assign", args=[h.pk]) not in page, "no place left to offer"


@pytest.mark.django_db
def test_the_first_helper_may_be_counted_on_top(as_user, units, alice):
    CaseRules.objects.update_or_create(
        pk=1, defaults={"helpers_per_household": 3, "first_helper_extra": True}
    )
    h = filed(units["a1"])
    people = [person(units["a1"], f"帮扶人{i}") for i in range(5)]
    for p in people[:3]:
        assign(alice, h, p)
    page = as_user(alice).get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert reverse("cases:helper_assign", args=[h.pk]) in page, "the leader's place is still free"
    leader = assign(alice, h, people[3], first=True)
    assert leader.is_first
    with pytest.raises(ValidationError, match="每户最多 3 名结对帮扶人，另加第一帮扶人 1 名"):
        assign(alice, h, people[4])
    active = Helper.objects.filter(household=h, end_on=None)
    assert active.count() == 4 and active.filter(is_first=True).count() == 1


@pytest.mark.django_db
def test_the_number_of_helpers_is_a_setting(units, alice):
    CaseRules.objects.update_or_create(pk=1, defaults={"helpers_per_household": 1})
    h = filed(units["a1"])
    assign(alice, h, person(units["a1"], "甲"))
    with pytest.raises(ValidationError, match="每户最多 1 名"):
        assign(alice, h, person(units["a1"], "乙"))


@pytest.mark.django_db
def test_a_new_login_on_the_roster_follows_the_pairings(units, alice, carol):
    h = filed(units["a1"])
    sun = person(units["a1"], "孙建国")
    helper = assign(alice, h, sun)
    followup.helper_person_update(actor=alice, person=sun, data={"name": "孙建国", "user": carol})
    helper.refresh_from_db()
    assert helper.user == carol


# -- visits on behalf ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_caseworker_records_a_visit_for_a_helper_without_a_login(as_user, units, alice, carol):
    h = filed(units["a1"], name="王秀兰")
    sun = person(units["a1"], "孙建国")
    sun_pairing = assign(alice, h, sun, first=True)
    own = Helper.objects.create(
        household=h,
        person=roster_person(units["a1"], alice),
        user=alice,
        role="union_cadre",
        start_on=dt.date(2025, 1, 1),
    )
    client = as_user(alice)
    url = reverse("cases:visit_log", args=[h.pk])
    page = client.get(url).content.decode()
    assert "代帮扶人登记" in page and "孙建国" in page
    response = client.post(
        url,
        {
            "on_behalf_of": sun.pk,
            "visited_on": "2025-05-10",
            "kind": "home",
            "needs": "冬季取暖",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    visit = Visit.objects.get(household=h, is_intake=False)
    assert visit.visitor == alice and visit.on_behalf_of == sun
    sun_pairing.refresh_from_db()
    own.refresh_from_db()
    assert sun_pairing.last_visited_on == dt.date(2025, 5, 10)
    assert own.last_visited_on is None, "the visit counts for the helper who went"

    detail = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "孙建国（张丽 代录）" in detail


@pytest.mark.django_db
def test_a_visit_on_behalf_of_someone_not_paired_is_refused(as_user, units, alice):
    h = filed(units["a1"])
    stranger = person(units["a1"], "路人甲")
    response = as_user(alice).post(
        reverse("cases:visit_log", args=[h.pk]),
        {"on_behalf_of": stranger.pk, "visited_on": TODAY.isoformat(), "kind": "home"},
    )
    assert response.status_code == 200
    assert "代帮扶人登记：所选人员不是该家庭当前的帮扶人" in response.content.decode()
    assert not Visit.objects.exists()
    with pytest.raises(ValidationError) as exc:
        followup.visit_log(actor=alice, household=h, data={}, on_behalf_of=stranger)
    assert "on_behalf_of" in exc.value.error_dict
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_a_helper_logs_only_their_own_visits(as_user, units, alice, dave):
    h = filed(units["a1"])
    sun = person(units["a1"], "孙建国")
    assign(alice, h, sun, first=True)
    assign(alice, h, roster_person(units["a1"], dave))
    page = as_user(dave).get(reverse("cases:visit_log", args=[h.pk])).content.decode()
    assert "代帮扶人登记" not in page
    with pytest.raises(PermissionDenied):
        followup.visit_log(actor=dave, household=h, data={}, on_behalf_of=sun)
    assert not Visit.objects.exists()
