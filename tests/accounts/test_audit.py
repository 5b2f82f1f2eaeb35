"""The audit trail: who did what to which file, from where; browsable by
those who oversee it, filterable, and editable by nobody."""

import datetime

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent, Unit
from cases import services
from cases.forms.households import HouseholdForm
from cases.models import Household
from tests.builders import household_data, make_id, make_user


def _service_data(**overrides):
    """Typed field values, as the form hands them to the service."""
    data = household_data(**{"unit": Unit.objects.first().pk, **overrides})
    form = HouseholdForm(data, units=Unit.objects.all())
    assert form.is_valid(), form.errors
    return form.service_data()


@pytest.mark.django_db
def test_creating_a_file_records_actor_unit_object_and_ip(as_user, alice, units):
    data = household_data(unit=units["a1"].pk)
    data.update({"members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"})
    response = as_user(alice).post(reverse("cases:household_create"), data, REMOTE_ADDR="10.3.2.1")
    assert response.status_code == 302
    household = Household.objects.get()
    event = AuditEvent.objects.get(action="household.create")
    assert event.actor == alice
    assert event.unit == units["a1"]
    assert event.ip == "10.3.2.1"
    assert (event.object_type, event.object_id) == ("cases.household", str(household.pk))
    assert event.object_repr == "王秀兰"
    assert event.changes["name"] == [None, "王秀兰"]
    assert event.changes["unit"] == [None, "郑州纺织厂工会"]


@pytest.mark.django_db
def test_sign_in_is_recorded_with_the_address(client, alice):
    response = client.post(
        reverse("accounts:login"),
        {"username": "alice", "password": "pw-alice"},
        REMOTE_ADDR="10.7.7.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == alice and event.ip == "10.7.7.7"


@pytest.mark.django_db
def test_a_refused_write_leaves_no_event(alice, units, household):
    """The event is written in the change's own transaction: no change, no event."""
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.household_create(
            actor=alice, unit=units["a"], data=_service_data(id_number=household.id_number)
        )
    assert AuditEvent.objects.count() == before
    assert Household.objects.count() == 1


@pytest.mark.django_db
def test_audit_list_shows_newest_first_with_masked_changes(as_user, alice, erin, units):
    services.household_create(actor=alice, unit=units["a1"], data=_service_data(name="甲"))
    services.household_create(actor=alice, unit=units["a1"], data=_service_data(name="乙"))
    response = as_user(erin).get(reverse("accounts:audit_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("乙") < body.index("甲")
    assert "138****5678" in body and "13812345678" not in body


@pytest.mark.django_db
def test_audit_list_filters(as_user, alice, carol, erin, units):
    services.household_create(actor=alice, unit=units["a1"], data=_service_data(name="甲"))
    services.household_create(actor=carol, unit=units["a"], data=_service_data(name="乙"))
    old = AuditEvent.objects.get(object_repr="甲")
    # Back-dated for the test only: the trail is append-only on PostgreSQL.
    with pgtrigger.ignore("accounts.AuditEvent:audit_append_only"):
        AuditEvent.objects.filter(pk=old.pk).update(
            created_at=old.created_at - datetime.timedelta(days=40)
        )
    client = as_user(erin)
    url = reverse("accounts:audit_list")

    def shown(**params):
        page = client.get(url, params).context["page"]
        return {e.object_repr for e in page.object_list if e.action == "household.create"}

    assert shown() == {"甲", "乙"}
    assert shown(actor="carol") == {"乙"}
    assert shown(action="household.") == {"甲", "乙"}
    assert shown(action="auth.") == set()
    assert shown(unit=units["a1"].pk) == {"甲"}
    assert shown(date_from=(datetime.date.today() - datetime.timedelta(days=7)).isoformat()) == {
        "乙"
    }
    household = Household.objects.get(name="甲")
    assert shown(object_id=household.pk) == {"甲"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2024-13-45"}, "起始日期：输入一个有效的日期"),
        (
            {"date_from": "2024-05-01", "date_to": "2024-04-01"},
            "截止日期：截止日期不能早于起始日期",
        ),
        ({"unit": "abc"}, "工会：选择一个有效的选项"),
        ({"unit": "99999999999999999999"}, "工会：选择一个有效的选项"),
        ({"actor": "x" * 500}, "操作人：确保"),
        ({"action": "a\x00b"}, "操作：不允许"),
    ],
)
def test_audit_list_bad_filter_gives_a_message_not_a_500(
    as_user, alice, erin, units, params, message
):
    services.household_create(actor=alice, unit=units["a1"], data=_service_data())
    response = as_user(erin).get(reverse("accounts:audit_list"), {**params, "page": "abc"})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert 'class="errorlist"' in body
    assert list(response.context["page"].object_list) == []


@pytest.mark.django_db
def test_audit_list_pages(as_user, erin, units):
    AuditEvent.objects.bulk_create(
        [AuditEvent(action="household.reveal", unit=units["a1"]) for _ in range(60)]
    )
    client = as_user(erin)
    first = client.get(reverse("accounts:audit_list"))
    assert len(first.context["page"].object_list) == 50
    assert "第 1 / 2 页" in first.content.decode()
    for page in ("2", "-1", "99999", "abc"):
        assert client.get(reverse("accounts:audit_list"), {"page": page}).status_code == 200


@pytest.mark.django_db
def test_nobody_can_change_or_delete_an_event_in_the_admin(client, alice, units):
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    event = AuditEvent.objects.create(action="household.reveal", actor=alice, unit=units["a"])
    change = reverse("admin:accounts_auditevent_change", args=[event.pk])
    delete = reverse("admin:accounts_auditevent_delete", args=[event.pk])
    add = reverse("admin:accounts_auditevent_add")

    page = client.get(change)
    assert page.status_code == 200  # may be read
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change, {"action": "forged"}).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.post(add, {"action": "forged"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "household.reveal"
    assert not AuditEvent.objects.filter(action="forged").exists()


@pytest.mark.django_db
def test_an_update_that_changes_nothing_records_nothing(alice, units):
    household = services.household_create(
        actor=alice, unit=units["a1"], data=_service_data(id_number=make_id())
    )
    before = AuditEvent.objects.count()
    services.household_update(actor=alice, household=household, data={"name": household.name})
    assert AuditEvent.objects.count() == before
