"""One masking rule everywhere; full values only for those allowed, and every
look at one leaves a trace."""

import hashlib
import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from accounts.masking import (
    mask_address,
    mask_bank_account,
    mask_field,
    mask_id_number,
    mask_name,
    mask_phone,
)
from accounts.models import AuditEvent, Membership
from cases.models import Attachment, Member
from tests.builders import household_data, make_id

PDF = b"%PDF-1.4\n%%EOF\n"


# -- the functions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("11010519491231002X", "110***********002X"),
        ("410105198001010018", "410***********0018"),
        (" 410105198001010018 ", "410***********0018"),
        ("", ""),
        ("1234567", "*******"),  # too short to show anything safely
    ],
)
def test_mask_id_number_keeps_first_three_and_last_four(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13800001234", "138****1234"),
        ("15937151234", "159****1234"),
        ("037165432100", "037*****2100"),  # a landline with area code
        ("6543210", "65***10"),  # a short local number still hides its middle
        ("", ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (
            "河南省郑州市金水区文化路街道黄河社区3号楼2单元501",
            "河南省郑州市金水区文化路街道黄河社区****",
        ),
        ("郑州市二七区大学路街道铭功路社区8号院", "郑州市二七区大学路街道铭功路社区****"),
        ("郑州市金水区纬五路12号", "郑州市金水区纬五路****"),
        ("郑州市中原区农业路东二十八号院", "郑州市中原区农业路****"),
        ("登封市大冶镇西施村三组", "登封市大冶镇西施村****"),
        ("郑州市金水区建业小区５栋", "郑州市金水区建业小区****"),  # full-width digit
        ("郑州市金水区黄河路", "郑州市金水区黄河路"),  # nothing finer to hide
        ("", ""),
    ],
)
def test_mask_address_stops_at_street_or_community(value, masked):
    assert mask_address(value) == masked


def test_masked_address_never_keeps_a_house_number():
    for address in [
        "金水区文化路街道黄河社区3号楼2单元501",
        "二七区铭功路社区8号院",
        "X村五组12户",
    ]:
        masked = mask_address(address)
        assert not any(ch.isdigit() for ch in masked), masked
        for word in ("号", "栋", "单元", "室", "组", "户"):
            assert word not in masked, masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("6222021234567890123", "6222***********0123"),
        ("6222 0212 3456 7890 123", "6222***********0123"),
        ("", ""),
    ],
)
def test_mask_bank_account_keeps_first_and_last_four(value, masked):
    assert mask_bank_account(value) == masked


def test_mask_name_keeps_the_surname_only():
    assert mask_name("王秀兰") == "王**"


def test_mask_field_applies_the_rule_by_field_name():
    assert mask_field("id_number", "11010519491231002X") == "110***********002X"
    assert mask_field("phone", "13800001234") == "138****1234"
    assert mask_field("name", "王秀兰") == "王秀兰"  # not a masked field
    assert mask_field("phone", None) is None


# -- on the screens -----------------------------------------------------------


def _grant_unmasked(user, unit):
    Membership.objects.filter(user=user, unit=unit, role="auditor").update(sees_unmasked=True)


@pytest.fixture
def full_household(household):
    household.bank_account = "6222021234567890123"
    household.address = "河南省郑州市金水区文化路街道黄河社区3号楼2单元501"
    household.phone = "13800001234"
    household.save()
    Member.objects.create(household=household, name="李小明", relation="child", id_number=make_id())
    return household


@pytest.mark.django_db
def test_auditor_sees_masked_values_and_never_the_full_ones(as_user, erin, full_household):
    h = full_household
    member = h.members.get()
    body = as_user(erin).get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert mask_id_number(h.id_number) in body
    assert "138****1234" in body
    assert "河南省郑州市金水区文化路街道黄河社区****" in body
    assert "6222***********0123" in body
    assert mask_id_number(member.id_number) in body
    for full in (h.id_number, member.id_number, h.phone, h.bank_account, "3号楼", "501"):
        assert full not in body, full
    assert "显示完整" not in body  # no reveal button for her


@pytest.mark.django_db
def test_list_page_masks_ids_for_everyone(as_user, alice, erin, full_household):
    for user in (alice, erin):
        body = as_user(user).get(reverse("cases:household_list")).content.decode()
        assert mask_id_number(full_household.id_number) in body
        assert full_household.id_number not in body


@pytest.mark.django_db
def test_auditor_cannot_reveal_without_the_grant(as_user, erin, full_household):
    url = reverse("cases:household_reveal", args=[full_household.pk])
    response = as_user(erin).post(url, {"field": "id_number"})
    assert response.status_code == 403
    assert full_household.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="household.reveal").exists()


@pytest.mark.django_db
def test_auditor_with_the_grant_can_reveal(as_user, erin, units, full_household):
    _grant_unmasked(erin, units["a"])
    client = as_user(erin)
    body = client.get(reverse("cases:household_detail", args=[full_household.pk])).content.decode()
    assert "显示完整" in body
    assert full_household.id_number not in body  # still masked until asked
    url = reverse("cases:household_reveal", args=[full_household.pk])
    response = client.post(url, {"field": "id_number"})
    assert response.status_code == 200
    assert full_household.id_number in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("id_number", None),
        ("phone", "13800001234"),
        ("address", "河南省郑州市金水区文化路街道黄河社区3号楼2单元501"),
        ("bank_account", "6222021234567890123"),
    ],
)
def test_reveal_writes_an_event_with_actor_and_ip(as_user, alice, full_household, field, expected):
    expected = expected or full_household.id_number
    client = as_user(alice)
    url = reverse("cases:household_reveal", args=[full_household.pk])
    response = client.post(url, {"field": field}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert expected in response.content.decode()
    event = AuditEvent.objects.get(action="household.reveal")
    assert event.actor == alice
    assert event.ip == "10.1.2.3"
    assert event.unit == full_household.unit
    assert event.object_id == str(full_household.pk)
    assert event.changes == {"field": [None, field]}
    assert expected not in json.dumps(event.changes, ensure_ascii=False)


@pytest.mark.django_db
def test_reveal_of_an_unknown_field_shows_the_id_number_not_anything_else(
    as_user, alice, full_household
):
    url = reverse("cases:household_reveal", args=[full_household.pk])
    response = as_user(alice).post(url, {"field": "created_by__password"})
    assert response.status_code == 200
    assert (
        response.content.decode()
        .strip()
        .endswith(f'<span class="revealed">{full_household.id_number}</span>')
    )


@pytest.mark.django_db
def test_opening_the_edit_form_is_recorded(as_user, alice, full_household):
    client = as_user(alice)
    response = client.get(
        reverse("cases:household_edit", args=[full_household.pk]), REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="household.reveal")
    assert event.actor == alice and event.ip == "10.9.8.7"
    assert event.changes == {"field": [None, "edit_form"]}


@pytest.mark.django_db
def test_downloading_an_attachment_is_recorded(as_user, alice, erin, units, full_household):
    attachment = Attachment(
        household=full_household,
        kind="id_card",
        original_name="身份证.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )
    attachment.file.save("x.pdf", ContentFile(PDF), save=False)
    attachment.save()
    url = reverse("cases:attachment_download", args=[attachment.pk])

    # An auditor without the grant may not open scans of ID cards.
    assert as_user(erin).get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="household.reveal").exists()

    response = as_user(alice).get(url, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action="household.reveal")
    assert event.actor == alice and event.ip == "10.0.0.5"
    assert event.changes == {"field": [None, f"attachment:{attachment.pk}"]}


@pytest.mark.django_db
def test_audit_changes_never_hold_a_full_id_or_phone(as_user, alice, units):
    """Create, edit and reveal, then search every event for the full values."""
    client = as_user(alice)
    member_id = make_id()
    data = household_data(unit=units["a1"].pk, phone="13800001234")
    data.update(
        {
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "0",
            "members-0-name": "李强",
            "members-0-relation": "spouse",
            "members-0-id_number": member_id,
            "members-0-health_status": "healthy",
            "members-0-annual_income": "0",
        }
    )
    response = client.post(reverse("cases:household_create"), data)
    assert response.status_code == 302
    household_pk = int(response["Location"].rstrip("/").split("/")[-1])
    new_id = make_id()
    edit = dict(data, id_number=new_id, phone="13911112222", bank_account="6222029999888877776")
    edit["members-0-id_number"] = make_id()
    edit.update({"members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0"})
    url = reverse("cases:household_edit", args=[household_pk])
    client.get(url)
    assert client.post(url, {**edit, "members-0-name": "李强强"}).status_code == 302
    client.post(reverse("cases:household_reveal", args=[household_pk]), {"field": "phone"})

    events = AuditEvent.objects.filter(object_id=str(household_pk))
    assert {"household.create", "household.update", "household.reveal"} <= {
        e.action for e in events
    }
    trail = json.dumps([e.changes for e in events], ensure_ascii=False)
    for full in (
        data["id_number"],
        new_id,
        member_id,
        "13800001234",
        "13911112222",
        "6222021234567890123",
        "6222029999888877776",
        "2单元501",
    ):
        assert full not in trail, full
    update = events.get(action="household.update").changes
    assert update["id_number"] == [mask_id_number(data["id_number"]), mask_id_number(new_id)]
    assert update["phone"] == ["138****1234", "139****2222"]
