import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from cases.models import Household
from tests.builders import household_data, make_id


def _post_data(units, members=(), **overrides):
    overrides.setdefault("unit", units["a1"].pk)
    data = household_data(**overrides)
    data.update(
        {
            "members-TOTAL_FORMS": str(len(members)),
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "20",
        }
    )
    for i, member in enumerate(members):
        for key, value in member.items():
            data[f"members-{i}-{key}"] = value
    return data


def _member(name, relation, **extra):
    return {"name": name, "relation": relation, "health_status": "healthy",
            "annual_income": "0", **extra}  # fmt: skip


@pytest.mark.django_db
def test_caseworker_creates_household_with_members(as_user, alice, units):
    client = as_user(alice)
    child_id = make_id()
    data = _post_data(
        units,
        members=[
            _member("李强", "spouse", annual_income="6000"),
            _member(
                "李小明", "child", id_number=child_id, school="郑州八中", school_stage="junior"
            ),
        ],
    )
    response = client.post(reverse("cases:household_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    household = Household.objects.get(id_number=data["id_number"])
    assert household.members.count() == 2
    assert household.sex == "F"
    # (12000 + 2400 − 3000) ÷ 3 ÷ 12 = 316.67
    assert str(household.per_capita_monthly_income) == "316.67"
    event = AuditEvent.objects.get(action="household.create")
    assert event.actor == alice
    assert "*" in event.changes["id_number"][1]  # never a full ID in the trail
    page = client.get(response["Location"]).content.decode()
    assert "李小明" in page
    assert data["id_number"] not in page  # masked until revealed


@pytest.mark.django_db
def test_bad_checksum_names_the_field_and_saves_nothing(as_user, alice, units):
    client = as_user(alice)
    good = make_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = client.post(reverse("cases:household_create"), _post_data(units, id_number=bad))
    assert response.status_code == 200
    assert "身份证号校验位错误" in response.content.decode()
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_duplicate_id_names_only_the_holding_unit(as_user, alice, bob, units):
    existing = _post_data(units)
    as_user(alice).post(reverse("cases:household_create"), existing)
    client = as_user(bob)
    data = _post_data(units, id_number=existing["id_number"], unit=units["b"].pk)
    response = client.post(reverse("cases:household_create"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "郑州纺织厂工会" in body and "不能重复建档" in body
    assert "王秀兰" not in body.split("不能重复建档")[0][-200:]
    assert Household.objects.count() == 1
