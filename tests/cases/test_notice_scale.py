"""建档公示 of any size: a notice takes every evaluated household a filter
finds (a union and those below it, tiers), not one form field per
household, so 5,000 households post like one. A few may be left out by hand."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from cases.models import Household, IntakeNotice, NoticeEntry, StatusChange, Tier
from cases.models import HouseholdStatus as S
from cases.services import intake
from tests.builders import make_id

MANY = 5000


def evaluated(unit, count, *, tier=None, prefix="户"):
    """`count` evaluated households, inserted in bulk (the intake steps are
    tested elsewhere; here only their number matters)."""
    from cases import idnumber

    tier = tier or Tier.objects.order_by("sort_order").first()
    rows = []
    for n in range(count):
        info = idnumber.parse(make_id())
        rows.append(
            Household(
                unit=unit, name=f"{prefix}{n:05d}", id_number=info.number, sex=info.sex,
                birth_date=info.birth_date, phone="13912345678", address="郑州市金水区",
                employment_status="laid_off", housing_type="owned", hukou_type="urban",
                marital_status="married", household_size=3, income_wages=Decimal("18000"),
                tier=tier, status=S.EVALUATED,
            )
        )  # fmt: skip
    return Household.objects.bulk_create(rows, batch_size=1000)


def _post(client, **data):
    payload = {
        "title": "2026年第一批困难职工建档公示",
        "starts_on": clock.today().isoformat(),
        "working_days": "5",
        "posted_at": "厂区公告栏",
        **data,
    }
    return client.post(reverse("cases:notice_create"), payload)


@pytest.mark.django_db
def test_five_thousand_households_post_through_the_view(as_user, alice, units):
    evaluated(units["a"], MANY - 100)
    evaluated(units["a1"], 100, prefix="厂")  # a union below counts too
    evaluated(units["b"], 3, prefix="外区")  # another county's never
    client = as_user(alice)

    # The preview: the count and one page of names, never 5,000 checkboxes.
    page = client.get(reverse("cases:notice_create"), {"unit": units["a"].pk}).content.decode()
    assert "将公示 5000 户" in page
    assert page.count('name="households"') == 0
    assert page.count(">不列入</a>") == 50  # one page of rows
    assert "第 1 / 100 页" in page

    response = _post(client, unit=units["a"].pk)
    notice = IntakeNotice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:notice_detail", args=[notice.pk])
    assert notice.entries.count() == MANY
    assert Household.objects.filter(unit=units["a"], status=S.NOTICED).count() == MANY - 100
    assert Household.objects.filter(unit=units["a1"], status=S.NOTICED).count() == 100
    assert Household.objects.filter(unit=units["b"], status=S.EVALUATED).count() == 3
    # Each household keeps its own history row and audit event.
    assert StatusChange.objects.filter(to_status=S.NOTICED).count() == MANY
    assert AuditEvent.objects.filter(action="household.noticed").count() == MANY
    assert AuditEvent.objects.get(action="notice.create").changes["households"] == [None, MANY]

    detail = client.get(response["Location"]).content.decode()
    assert "本公示共 5000 户" in detail and "第 1 / 100 页" in detail
    assert detail.count("<tr>") <= 52  # a page of households, not all of them
    last = client.get(response["Location"] + "?page=100").content.decode()
    assert "第 100 / 100 页" in last

    # The printed notice of 5,000 goes to a background job, PDF and workbook.
    for fmt in ("pdf", "xlsx"):
        printed = client.get(reverse("reports:intake_notice", args=[notice.pk]), {"format": fmt})
        assert printed.status_code == 302
        assert "/jobs/" in printed["Location"]


@pytest.mark.django_db
def test_five_thousand_households_through_the_service(alice, units):
    evaluated(units["a"], MANY)
    notice = intake.notice_create(
        actor=alice, unit=units["a"], title="建档公示", starts_on=clock.today(),
        posted_at="公告栏",
    )  # fmt: skip
    assert NoticeEntry.objects.filter(notice=notice).count() == MANY
    assert not Household.objects.filter(status=S.EVALUATED).exists()
    some = Household.objects.filter(unit=units["a"]).first()
    assert intake.current_notice(some) == notice


@pytest.mark.django_db
def test_filter_by_tier_and_leave_a_few_out(as_user, alice, units):
    tiers = list(Tier.objects.order_by("sort_order")[:2])
    first = evaluated(units["a"], 30, tier=tiers[0], prefix="甲")
    evaluated(units["a"], 5, tier=tiers[1], prefix="乙")
    client = as_user(alice)
    query = {"unit": units["a"].pk, "tiers": [tiers[0].pk]}
    page = client.get(reverse("cases:notice_create"), query).content.decode()
    assert "将公示 30 户" in page and "乙00000" not in page

    # 不列入 is a link that carries the short list of those left out.
    leave_out = {**query, "exclude": [first[0].pk, first[1].pk]}
    page = client.get(reverse("cases:notice_create"), leave_out).content.decode()
    assert "将公示 28 户" in page and "已排除 2 户" in page
    assert 'id="notice-left-out"' in page and "甲00000" in page

    response = _post(
        client, unit=units["a"].pk, tiers=[tiers[0].pk], exclude=[first[0].pk, first[1].pk]
    )
    assert response.status_code == 302
    notice = IntakeNotice.objects.get()
    assert notice.entries.count() == 28
    assert Household.objects.get(pk=first[0].pk).status == S.EVALUATED
    assert Household.objects.filter(name__startswith="乙", status=S.EVALUATED).count() == 5


@pytest.mark.django_db
def test_bad_filter_input_names_the_field_and_posts_nothing(as_user, alice, units):
    households = evaluated(units["a"], 3)
    client = as_user(alice)
    response = _post(client, unit=units["a"].pk, exclude=["abc"])
    assert "不列入公示的家庭：家庭编号不正确。" in response.content.decode()
    too_many = list(range(1, intake.MAX_EXCLUDED + 2))
    response = _post(client, unit=units["a"].pk, exclude=too_many)
    assert "不列入公示的家庭：最多可排除 200 户" in response.content.decode()
    # Picked by hand and then all unticked: not a notice of everyone.
    response = _post(client, unit=units["a"].pk, only="on")
    assert "公示家庭：请至少选择一户已评定的家庭。" in response.content.decode()
    # Nothing matches the filter.
    response = _post(client, unit=units["b"].pk)
    assert response.status_code in (200, 400)
    assert "公示单位" in response.content.decode()
    assert not IntakeNotice.objects.exists()
    assert all(Household.objects.get(pk=h.pk).status == S.EVALUATED for h in households)


@pytest.mark.django_db
def test_an_empty_filter_is_refused_by_the_service(alice, units):
    with pytest.raises(ValidationError, match="没有符合条件的已评定家庭"):
        intake.notice_create(
            actor=alice, unit=units["a"], title="公示", starts_on=clock.today(),
            posted_at="公告栏",
        )  # fmt: skip
    assert not IntakeNotice.objects.exists()


@pytest.mark.django_db
def test_a_notice_page_costs_the_same_queries_for_50_and_5000(
    as_user, alice, units, django_assert_max_num_queries
):
    evaluated(units["a"], MANY)
    notice = intake.notice_create(
        actor=alice, unit=units["a"], title="建档公示",
        starts_on=clock.today() + dt.timedelta(days=1), posted_at="公告栏",
    )  # fmt: skip
    client = as_user(alice)
    client.get(reverse("cases:notice_detail", args=[notice.pk]))
    with django_assert_max_num_queries(20):
        deep = client.get(reverse("cases:notice_detail", args=[notice.pk]) + "?page=80")
    assert deep.status_code == 200


@pytest.mark.django_db
def test_ids_from_another_union_are_refused(as_user, alice, units):
    mine = evaluated(units["a"], 2)
    theirs = evaluated(units["b"], 1, prefix="外区")
    client = as_user(alice)
    response = _post(client, unit=units["a"].pk, households=[mine[0].pk, theirs[0].pk], only="on")
    assert (
        "公示家庭：所选家庭不是待公示的已评定家庭，或不在您的范围内。" in response.content.decode()
    )
    response = _post(client, unit=units["a"].pk, tiers=["99999"])
    assert "困难类别：" in response.content.decode()
    # Another union's household in the leave-out list is refused, not ignored.
    response = _post(client, unit=units["a"].pk, exclude=[theirs[0].pk])
    assert "不列入公示的家庭中有不在您范围内的家庭" in response.content.decode()
    assert not IntakeNotice.objects.exists()
    assert Household.objects.get(pk=theirs[0].pk).status == S.EVALUATED
