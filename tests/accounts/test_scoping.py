"""A role held at a unit covers that unit and everything below it, nothing
sideways: lists, filters, forms and the audit trail all keep to it."""

import pytest
from django.urls import reverse

from accounts import scoping
from accounts.models import AuditEvent
from accounts.services import unit_update
from cases.models import Household
from tests.builders import household_data, make_household, make_unit, make_user


def _form(household=None, **overrides):
    """A complete create/edit POST for the household form, no members."""
    if household is not None:
        overrides.setdefault("id_number", household.id_number)
        overrides.setdefault("unit", household.unit_id)
    data = household_data(**overrides)
    data.update({"members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"})
    return data


@pytest.fixture
def spread(units):
    """One household in each unit of the tree."""
    return {
        key: make_household(units[key], name=name)
        for key, name in [("city", "市直户"), ("a", "金水户"), ("a1", "纺织户"), ("b", "二七户")]
    }


def _names_on_list(client, **params):
    response = client.get(reverse("cases:household_list"), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_role_at_the_city_covers_every_county(as_user, units, spread):
    cathy = make_user("cathy", units["city"], "caseworker")
    for unit in units.values():
        assert scoping.covers(cathy, "household.edit", unit)
    page = _names_on_list(as_user(cathy))
    for household in spread.values():
        assert household.name in page
    client = as_user(cathy)
    for household in spread.values():
        assert client.get(reverse("cases:household_detail", args=[household.pk])).status_code == 200


@pytest.mark.django_db
def test_role_at_a_county_covers_its_grassroots_unit_and_nothing_sideways(
    as_user, alice, units, spread
):
    assert scoping.covers(alice, "household.view", units["a1"])
    assert not scoping.covers(alice, "household.view", units["b"])
    assert not scoping.covers(alice, "household.view", units["city"])
    assert set(scoping.units_for(alice, "household.view")) == {units["a"], units["a1"]}

    page = _names_on_list(as_user(alice))
    assert "金水户" in page and "纺织户" in page
    assert "二七户" not in page and "市直户" not in page


@pytest.mark.django_db
def test_role_at_grassroots_unit_does_not_reach_up(as_user, units, spread):
    gina = make_user("gina", units["a1"], "caseworker")
    page = _names_on_list(as_user(gina))
    assert "纺织户" in page
    assert "金水户" not in page
    url = reverse("cases:household_detail", args=[spread["a"].pk])
    assert as_user(gina).get(url).status_code == 404


@pytest.mark.django_db
def test_unit_ids_that_share_a_prefix_do_not_cover_each_other(as_user, units):
    """Paths are zero-padded and slash-terminated: unit 1 never covers unit 10."""
    made = [make_unit(f"99{i:02d}", f"测试工会{i}", parent=units["b"]) for i in range(12)]
    first, tenth = made[0], made[9]
    assert not first.covers(tenth) and not tenth.covers(first)
    user = make_user("tess", first, "caseworker")
    assert list(scoping.units_for(user, "household.view")) == [first]


@pytest.mark.django_db
def test_role_in_a_deactivated_unit_grants_nothing(as_user, alice, units, household):
    unit_update(actor=None, unit=units["a"], name=units["a"].name, kind="county", is_active=False)
    client = as_user(alice)
    assert client.get(reverse("cases:household_list")).status_code == 403
    assert client.get(reverse("cases:household_detail", args=[household.pk])).status_code == 403


@pytest.mark.django_db
def test_several_memberships_add_up(as_user, units, spread):
    """A person may hold roles in two counties; she sees both, not the city."""
    hana = make_user("hana", units["a"], "caseworker")
    hana.memberships.create(unit=units["b"], role="auditor")
    page = _names_on_list(as_user(hana))
    assert "金水户" in page and "二七户" in page and "市直户" not in page
    # Editing follows the caseworker role only.
    assert scoping.covers(hana, "household.edit", units["a1"])
    assert not scoping.covers(hana, "household.edit", units["b"])


@pytest.mark.django_db
def test_filter_by_another_countys_unit_shows_an_error_and_nothing_outside(
    as_user, alice, units, spread
):
    """A tampered ?unit= pointing at county B: a clear message, no rows, no 500."""
    client = as_user(alice)
    response = client.get(reverse("cases:household_list"), {"unit": units["b"].pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "工会：" in body and "选择一个有效的选项" in body
    assert "二七户" not in body
    assert "金水户" not in body  # an invalid filter shows nothing rather than guessing
    assert "没有找到符合条件的档案" in body


@pytest.mark.django_db
def test_filter_by_own_grassroots_unit_narrows_the_list(as_user, alice, units, spread):
    body = _names_on_list(as_user(alice), unit=units["a1"].pk)
    assert "纺织户" in body and "金水户" not in body


@pytest.mark.django_db
def test_unit_filter_choices_list_only_units_in_scope(as_user, alice, units):
    form = as_user(alice).get(reverse("cases:household_list")).context["form"]
    assert set(form.fields["unit"].queryset) == {units["a"], units["a1"]}


@pytest.mark.django_db
def test_create_with_another_countys_unit_is_refused_naming_the_field(as_user, alice, units):
    client = as_user(alice)
    response = client.post(reverse("cases:household_create"), _form(unit=units["b"].pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "所属工会：" in body and "选择一个有效的选项" in body
    assert not Household.objects.exists()
    assert not AuditEvent.objects.filter(action="household.create").exists()


@pytest.mark.django_db
def test_edit_moving_a_household_to_another_county_is_refused(as_user, alice, units, household):
    client = as_user(alice)
    url = reverse("cases:household_edit", args=[household.pk])
    response = client.post(url, _form(household, unit=units["b"].pk, name="改名"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "所属工会：" in body and "选择一个有效的选项" in body
    household.refresh_from_db()
    assert household.unit == units["a1"] and household.name == "王秀兰"
    assert not AuditEvent.objects.filter(action="household.update").exists()


@pytest.mark.django_db
def test_edit_moving_a_household_within_scope_is_allowed(as_user, alice, units, household):
    client = as_user(alice)
    url = reverse("cases:household_edit", args=[household.pk])
    response = client.post(url, _form(household, unit=units["a"].pk))
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.unit == units["a"]


@pytest.mark.django_db
def test_audit_list_shows_only_events_of_the_users_units(
    as_user, alice, bob, erin, frank, units, household, other_household
):
    as_user(alice).post(reverse("cases:household_reveal", args=[household.pk]), {"field": "phone"})
    as_user(bob).post(
        reverse("cases:household_reveal", args=[other_household.pk]), {"field": "phone"}
    )
    events = as_user(erin).get(reverse("accounts:audit_list")).context["page"].object_list
    shown = {(e.actor.username if e.actor else None, e.action) for e in events}
    assert ("alice", "household.reveal") in shown
    assert ("bob", "household.reveal") not in shown
    # Sign-ins carry no unit: only an overseer of the whole tree sees them.
    assert all(e.unit is not None for e in events)
    assert {e.unit for e in events} <= {units["a"], units["a1"]}

    events = as_user(frank).get(reverse("accounts:audit_list")).context["page"].object_list
    shown = {(e.actor.username if e.actor else None, e.action) for e in events}
    assert {("alice", "household.reveal"), ("bob", "household.reveal")} <= shown
    assert ("erin", "auth.login") in shown


@pytest.mark.django_db
def test_audit_filter_by_another_countys_unit_is_refused(
    as_user, bob, erin, units, other_household
):
    as_user(bob).post(
        reverse("cases:household_reveal", args=[other_household.pk]), {"field": "id_number"}
    )
    response = as_user(erin).get(reverse("accounts:audit_list"), {"unit": units["b"].pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "选择一个有效的选项" in body
    assert "household.reveal" not in body
