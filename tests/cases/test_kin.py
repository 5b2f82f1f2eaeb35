"""回避登记: a user registers their own ID number, phone and address, and
close relatives; only keyed hashes and masks are kept; the matching rule."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from accounts.models import AuditEvent
from cases.kin import (
    address_key,
    household_match,
    id_digest,
    kin_match,
    kin_of,
    phone_key,
    reason_label,
)
from cases.models import KinRegistration, KinRelative, Member
from cases.services.kin import kin_register, kin_relative_add
from tests.builders import make_household, make_id, make_user

MINE = "cases:kin_mine"


def _stored_text(*rows) -> str:
    """Every column of the rows as the database holds them."""
    return " ".join(str(v) for row in rows for v in row.__dict__.values())


@pytest.mark.django_db
def test_a_user_registers_and_only_a_hash_and_a_mask_are_kept(client, alice):
    own, spouse = make_id(), make_id(male=False)
    client.force_login(alice)
    response = client.post(
        reverse(MINE),
        {
            "step": "register",
            "kin-id_number": own,
            "kin-phone": "138 0000 1111",
            "kin-address": "郑州市金水区花园路街道 12 号院 3-201",
        },
    )
    assert response.status_code == 302
    client.post(
        reverse(MINE),
        {"step": "relative", "rel-relation": "spouse", "rel-name": "李芳", "rel-id_number": spouse},
    )
    entry = KinRegistration.objects.get(user=alice)
    relative = KinRelative.objects.get(user=alice)
    stored = _stored_text(entry, relative)
    assert own not in stored and spouse not in stored
    assert entry.id_digest == id_digest(own) and entry.id_masked == own[:3] + "*" * 11 + own[-4:]
    assert relative.id_masked.endswith(spouse[-4:])
    alice.refresh_from_db()
    assert alice.phone == "13800001111"
    trail = " ".join(str(e.changes) for e in AuditEvent.objects.filter(action__startswith="kin."))
    assert own not in trail and spouse not in trail
    page = client.get(reverse(MINE)).content.decode()
    assert entry.id_masked in page and relative.id_masked in page
    assert own not in page and spouse not in page


@pytest.mark.django_db
def test_the_key_is_the_settings_key(alice):
    number = make_id()
    with override_settings(KIN_ID_HASH_KEY="one-key"):
        first = id_digest(number)
    with override_settings(KIN_ID_HASH_KEY="another-key"):
        second = id_digest(number)
    assert first != second and len(first) == 64
    # Full-width digits typed by an input method hash as the same number.
    wide = number.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert id_digest(wide) == id_digest(number)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kin-id_number": "41010519700101123"}, "id_number", "身份证号应为 18 位，当前为 17 位"),
        ({"kin-id_number": "410105197001011230"}, "id_number", "校验位错误"),
        ({"kin-phone": "12ab"}, "phone", "联系电话应为 7 到 12 位数字"),
    ],
)
def test_bad_input_is_named_and_nothing_is_saved(client, alice, data, field, message):
    client.force_login(alice)
    posted = {"step": "register", "kin-id_number": make_id(), "kin-phone": "", **data}
    response = client.post(reverse(MINE), posted)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not KinRegistration.objects.exists()


@pytest.mark.django_db
def test_a_relative_twice_or_ones_own_number_is_refused(client, alice):
    own, child = make_id(), make_id()
    kin_register(actor=alice, id_number=own, address="", phone="")
    client.force_login(alice)
    url = reverse(MINE)
    base = {"step": "relative", "rel-relation": "child", "rel-name": "张小明"}
    assert client.post(url, {**base, "rel-id_number": child}).status_code == 302
    again = client.post(url, {**base, "rel-id_number": child})
    assert "该亲属已经登记过" in again.content.decode()
    mine = client.post(url, {**base, "rel-id_number": own})
    assert "这是您本人的身份证号" in mine.content.decode()
    assert KinRelative.objects.filter(user=alice).count() == 1


@pytest.mark.django_db
def test_a_user_removes_only_their_own_relatives(client, alice, bob):
    theirs = kin_relative_add(actor=bob, relation="parent", name="刘大山", id_number=make_id())
    mine = kin_relative_add(actor=alice, relation="parent", name="张大山", id_number=make_id())
    client.force_login(alice)
    response = client.post(reverse(MINE), {"step": "remove", "relative": theirs.pk})
    assert "未找到该亲属登记" in response.content.decode()
    assert KinRelative.objects.filter(pk=theirs.pk).exists()
    client.post(reverse(MINE), {"step": "remove", "relative": mine.pk})
    assert not KinRelative.objects.filter(pk=mine.pk).exists()
    assert AuditEvent.objects.filter(action="kin.relative_remove", actor=alice).count() == 1


# -- the matching rule ------------------------------------------------------------------


def test_phone_and_address_are_compared_normalised():
    assert phone_key("+86 138-0000-1111") == phone_key("13800001111") == "13800001111"
    assert phone_key("12") == ""
    assert address_key("金水路 12 号 3-201") == address_key("金水路１２号３－２０１")
    assert address_key("郑州市") == ""  # too short to name a home


@pytest.mark.django_db
def test_the_rule_matches_head_members_relatives_phone_and_address(units, alice):
    head, son, spouse = make_id(), make_id(), make_id(male=False)
    household = make_household(units["a"], id_number=head, phone="13912345678")
    Member.objects.create(household=household, name="王小明", relation="child", id_number=son)
    kin = kin_of(alice)
    assert household_match(kin, household) == []

    kin_register(actor=alice, id_number=son, address="", phone="")
    kin_relative_add(actor=alice, relation="spouse", name="王芳", id_number=head)
    kin_relative_add(actor=alice, relation="parent", name="外人", id_number=spouse)
    alice.phone = "139-1234-5678"
    found = household_match(kin_of(alice), household)
    assert [m.stored for m in found] == ["self_id", "relative_id:spouse", "phone"]
    assert reason_label("relative_id:spouse") == "亲属身份证号（配偶）"
    assert "王芳" in found[1].for_actor() and head not in found[1].for_actor()

    kin_register(actor=alice, id_number=make_id(), address=household.address, phone="")
    alice.phone = ""
    assert [m.stored for m in household_match(kin_of(alice), household)] == [
        "relative_id:spouse",
        "address",
    ]
    # The same rule for any list of numbers (a mutual-aid member).
    assert kin_match(kin_of(alice), id_numbers=[spouse], phone="", address="") != []


@pytest.mark.django_db
def test_kin_is_read_in_one_query(alice):
    kin_register(actor=alice, id_number=make_id(), address="某某市某某区某某路 1 号", phone="")
    kin_relative_add(actor=alice, relation="child", name="张小明", id_number=make_id())
    with CaptureQueriesContext(connection) as queries:
        kin = kin_of(alice)
    assert len(queries) == 1
    assert kin.own and len(kin.relatives) == 1 and kin.address


# -- the administrator's list ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_administrator_sees_who_registered_masked(client, units, alice, bob, frank):
    number = make_id()
    kin_register(
        actor=alice, id_number=number, address="郑州市金水区花园路街道 12 号院", phone="13800001111"
    )
    client.force_login(frank)
    url = reverse("cases:kin_registered")
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert "张丽" in page and number[:3] + "*" * 11 + number[-4:] in page
    assert number not in page and "13800001111" not in page and "12 号院" not in page
    assert "138****1111" in page
    for i in range(30):
        user = make_user(f"staff{i}", units["a"], "caseworker")
        kin_register(actor=user, id_number=make_id(), address="", phone="")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few) <= 12


@pytest.mark.django_db
def test_the_administrator_of_another_union_does_not_see_them(client, units, alice):
    kin_register(actor=alice, id_number=make_id(), address="", phone="")
    other = make_user("gus", units["b"], "admin", full_name="顾新")
    client.force_login(other)
    assert "张丽" not in client.get(reverse("cases:kin_registered")).content.decode()
