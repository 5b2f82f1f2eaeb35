"""Helpers (结对帮扶人), follow-up visits, 我的帮扶户 and 走访逾期."""

import datetime as dt
import io
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from accounts.models import AuditEvent
from cases import clock
from cases.models import CaseRules, Helper, Household, Visit, VisitPhoto
from cases.models import HouseholdStatus as S
from cases.selectors import followup as followup_selectors
from cases.services import followup
from tests.builders import make_household, make_user, roster_person

TODAY = dt.date(2025, 5, 15)
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fixed_today():
    """Every test here runs on 15 May 2025, so month arithmetic is known."""
    clock.reset()
    clock.advance(dt.timedelta(days=(TODAY - clock.today()).days))
    assert clock.today() == TODAY
    yield
    clock.reset()


def png_bytes(size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def filed(unit, **kw) -> Household:
    kw.setdefault("status", S.FILED)
    kw.setdefault("filed_on", dt.date(2024, 1, 10))
    kw.setdefault("file_number", f"{unit.code}-2024-{next(_numbers):04d}")
    return make_household(unit, **kw)


def pair(household, user, *, start_on=dt.date(2025, 1, 1), last=None, first=False) -> Helper:
    return Helper.objects.create(
        household=household,
        person=roster_person(household.unit, user),
        user=user,
        role="union_cadre",
        is_first=first,
        start_on=start_on,
        last_visited_on=last,
    )


def assign(actor, household, user, *, first=False, start_on=TODAY):
    return followup.helper_assign(
        actor=actor,
        household=household,
        user=user,
        role="union_cadre",
        is_first=first,
        start_on=start_on,
    )


# -- assignment rules -------------------------------------------------------------


@pytest.mark.django_db
def test_first_helper_is_marked_and_a_new_first_takes_the_flag_over(units, alice, carol, dave):
    h = filed(units["a1"])
    one = assign(alice, h, alice)
    assert one.is_first, "the only helper of a household is its first helper"
    two = assign(alice, h, dave)
    assert not two.is_first
    three = assign(alice, h, carol, first=True)
    firsts = list(Helper.objects.filter(household=h, end_on=None, is_first=True))
    assert firsts == [three]
    event = AuditEvent.objects.filter(action="helper.assign").latest("id")
    assert event.changes["first_helper"] == [str(alice), str(carol)]


@pytest.mark.django_db
def test_a_fourth_helper_is_refused(units, alice, carol, dave):
    h = filed(units["a1"])
    for user in (alice, carol, dave):
        assign(alice, h, user)
    extra = make_user("gina", units["a1"], "caseworker", full_name="葛娜")
    with pytest.raises(ValidationError, match="最多 3 名"):
        assign(alice, h, extra)
    assert Helper.objects.filter(household=h, end_on=None).count() == 3


@pytest.mark.django_db
def test_an_ended_helper_frees_a_place_and_hands_the_first_flag_on(units, alice, carol, dave):
    h = filed(units["a1"])
    first = assign(alice, h, alice, start_on=dt.date(2025, 1, 1))
    assign(alice, h, carol, start_on=dt.date(2025, 2, 1))
    assign(alice, h, dave, start_on=dt.date(2025, 3, 1))
    followup.helper_end(actor=carol, helper=first, end_on=TODAY, reason="工作调动")
    first.refresh_from_db()
    assert first.end_on == TODAY and first.end_reason == "工作调动" and not first.is_first
    assert Helper.objects.get(household=h, end_on=None, is_first=True).user == carol
    assign(alice, h, make_user("gina", units["a1"], "caseworker"))  # a place is free again


@pytest.mark.django_db
def test_ending_needs_a_reason_and_a_sensible_date(units, alice):
    h = filed(units["a1"])
    helper = assign(alice, h, alice, start_on=dt.date(2025, 3, 1))
    with pytest.raises(ValidationError) as exc:
        followup.helper_end(actor=alice, helper=helper, end_on=TODAY, reason="  ")
    assert "reason" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        followup.helper_end(actor=alice, helper=helper, end_on=dt.date(2025, 2, 1), reason="调动")
    assert "end_on" in exc.value.error_dict
    helper.refresh_from_db()
    assert helper.end_on is None


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.DRAFT, S.NOTICED, S.EXITED])
def test_only_filed_households_get_helpers(units, alice, status):
    h = make_household(units["a1"], status=status)
    with pytest.raises(ValidationError, match="只有已建档的家庭"):
        assign(alice, h, alice)
    assert not Helper.objects.filter(household=h).exists()


@pytest.mark.django_db
def test_a_helper_from_another_county_is_refused_naming_the_field(units, alice, bob):
    h = filed(units["a1"])
    with pytest.raises(ValidationError) as exc:
        assign(alice, h, bob)
    assert "不能担任帮扶人" in exc.value.error_dict["user"][0].messages[0]
    assert not Helper.objects.exists()


@pytest.mark.django_db
def test_the_form_refuses_a_crafted_helper_from_another_county(as_user, units, alice, bob):
    h = filed(units["a1"])
    theirs = roster_person(units["b"], bob)
    url = reverse("cases:helper_assign", args=[h.pk])
    page = as_user(alice).get(url).content.decode()
    assert "刘波" not in page, "another county's roster is not even offered"
    response = as_user(alice).post(
        url, {"person": theirs.pk, "role": "union_cadre", "start_on": TODAY.isoformat()}
    )
    assert response.status_code == 200
    assert (
        "帮扶人：所选人员不在该家庭所属工会或其上级工会的帮扶人名册中" in response.content.decode()
    )
    assert not Helper.objects.exists()


@pytest.mark.django_db
def test_an_auditor_cannot_be_a_helper(units, alice, erin):
    h = filed(units["a1"])
    with pytest.raises(ValidationError) as exc:
        assign(alice, h, erin)
    assert "user" in exc.value.error_dict


@pytest.mark.django_db
def test_a_caseworker_of_another_county_cannot_assign(units, bob):
    h = filed(units["a1"])
    with pytest.raises(PermissionDenied):
        assign(bob, h, bob)


# -- visits and due dates -----------------------------------------------------------


@pytest.mark.django_db
def test_a_visit_moves_the_helpers_due_date(units, alice, carol):
    h = filed(units["a1"])
    mine = pair(h, alice, start_on=dt.date(2024, 12, 1), first=True)
    theirs = pair(h, carol, start_on=dt.date(2024, 12, 1))
    assert followup.due_on(mine, 3) == dt.date(2025, 3, 1)

    followup.visit_log(
        actor=alice,
        household=h,
        data={"visited_on": dt.date(2025, 5, 10), "kind": "phone", "knows_name": True},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    h.refresh_from_db()
    assert mine.last_visited_on == dt.date(2025, 5, 10)
    assert followup.due_on(mine, 3) == dt.date(2025, 8, 10)
    assert theirs.last_visited_on is None, "alice's visit does not count for carol"
    assert h.last_visited_on == dt.date(2025, 5, 10)
    visit = Visit.objects.get(household=h)
    assert not visit.is_intake and visit.kind == "phone" and visit.knows_name

    # An older visit entered late does not move the due date back.
    followup.visit_log(actor=alice, household=h, data={"visited_on": dt.date(2025, 4, 1)})
    mine.refresh_from_db()
    assert mine.last_visited_on == dt.date(2025, 5, 10)


@pytest.mark.django_db
def test_visit_refusals_change_nothing(units, alice, bob):
    h = filed(units["a1"])
    with pytest.raises(ValidationError) as exc:
        followup.visit_log(actor=alice, household=h, data={"visited_on": TODAY + dt.timedelta(1)})
    assert "visited_on" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        followup.visit_log(
            actor=alice,
            household=h,
            data={"visited_on": TODAY, "follow_up_on": TODAY - dt.timedelta(1)},
        )
    assert "follow_up_on" in exc.value.error_dict
    with pytest.raises(PermissionDenied):
        followup.visit_log(actor=bob, household=h, data={})
    draft = make_household(units["a1"], status=S.DRAFT)
    with pytest.raises(ValidationError, match="只有已建档的家庭"):
        followup.visit_log(actor=alice, household=draft, data={})
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_a_helper_with_a_finance_role_may_log_their_own_visit(units, dave):
    h = filed(units["a1"])
    pair(h, dave, first=True)
    followup.visit_log(actor=dave, household=h, data={"kind": "home"})
    assert Helper.objects.get(user=dave).last_visited_on == TODAY


@pytest.mark.django_db
def test_visit_page_is_built_for_the_phone_and_saves_photos(as_user, units, alice):
    h = filed(units["a1"])
    pair(h, alice, first=True)
    client = as_user(alice)
    url = reverse("cases:visit_log", args=[h.pk])
    page = client.get(url).content.decode()
    assert 'accept="image/*"' in page and 'capture="environment"' in page and "multiple" in page
    assert 'type="radio"' in page and f'value="{TODAY.isoformat()}"' in page
    for label in (
        "知道姓名",
        "知道住址",
        "知道电话",
        "知道配偶情况",
        "知道子女就学",
        "知道家庭大事",
    ):
        assert label in page

    photo = png_bytes()
    response = client.post(
        url,
        {
            "visited_on": TODAY.isoformat(),
            "kind": "hospital",
            **{f: "on" for f in Visit.SIX_KNOWNS},
            "needs": "住院押金不足",
            "help_given": "联系医疗互助",
            "photos": [
                SimpleUploadedFile("IMG_0001.png", photo, "image/png"),
                SimpleUploadedFile("IMG_0002.png", photo, "image/png"),
            ],
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get(household=h)
    assert visit.kind == "hospital" and all(getattr(visit, f) for f in Visit.SIX_KNOWNS)
    assert [p.content_type for p in visit.photos.all()] == ["image/png", "image/png"]

    detail = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "住院押金不足" in detail and "六知道 6/6" in detail and "医院探望" in detail
    first_photo = visit.photos.order_by("id")[0]
    assert reverse("cases:visit_photo", args=[first_photo.pk]) in detail

    before = AuditEvent.objects.filter(action="visit.photo_view").count()
    shown = client.get(reverse("cases:visit_photo", args=[first_photo.pk]))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == photo
    assert AuditEvent.objects.filter(action="visit.photo_view").count() == before + 1


@pytest.mark.django_db
def test_an_auditor_sees_that_photos_exist_but_cannot_open_them(as_user, units, alice, erin):
    h = filed(units["a1"])
    visit = followup.visit_log(
        actor=alice,
        household=h,
        data={"kind": "home"},
        photos=[SimpleUploadedFile("a.png", png_bytes(), "image/png")],
    )
    photo = visit.photos.get()
    detail = as_user(erin).get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "1 张照片" in detail
    assert reverse("cases:visit_photo", args=[photo.pk]) not in detail
    assert as_user(erin).get(reverse("cases:visit_photo", args=[photo.pk])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "upload, reason",
    [
        (lambda: SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image", "image/png"), "不是 JPG"),
        (lambda: SimpleUploadedFile("x.pdf", b"%PDF-1.4 fake", "application/pdf"), "不是 JPG"),
        (lambda: SimpleUploadedFile("big.png", png_bytes((400, 400)), "image/png"), "过大"),
    ],
    ids=["renamed executable", "pdf", "too big"],
)
def test_a_bad_photo_is_refused_with_the_reason_and_nothing_saved(
    as_user, units, alice, settings, upload, reason
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    h = filed(units["a1"])
    response = as_user(alice).post(
        reverse("cases:visit_log", args=[h.pk]),
        {"visited_on": TODAY.isoformat(), "kind": "home", "photos": [upload()]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "现场照片：" in page and reason in page
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()


@pytest.mark.django_db
def test_a_jpeg_is_accepted(units, alice):
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="JPEG")
    upload = SimpleUploadedFile("photo.jpeg", buf.getvalue(), "image/jpeg")
    assert followup.photo_type(upload) == "image/jpeg"


# -- the overdue rule ---------------------------------------------------------------


def test_cutoff_agrees_with_the_due_date_on_every_day_of_two_years():
    """Overdue ⇔ base + N months < today, checked the slow way at month ends,
    leap days and all."""
    for months in (1, 3, 6):
        today = dt.date(2024, 1, 1)
        while today < dt.date(2026, 1, 1):
            cutoff = followup.visit_cutoff(today, months)
            for delta in (-2, -1, 0, 1, 2):
                base = cutoff + dt.timedelta(days=delta)
                assert (followup.add_months(base, months) < today) == (base < cutoff), (
                    months, today, base,
                )  # fmt: skip
            today += dt.timedelta(days=1)


def test_month_ends():
    assert followup.add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert followup.add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    assert followup.visit_cutoff(dt.date(2025, 5, 31), 3) == dt.date(2025, 3, 1)


def _overdue_names(client, **params):
    response = client.get(reverse("cases:overdue_visits"), params)
    assert response.status_code == 200
    return {row.household.name for row in response.context["rows"]}, response


@pytest.mark.django_db
def test_due_today_is_not_overdue_due_yesterday_is(as_user, units, alice):
    due_today = filed(units["a1"], name="今日到期")
    pair(due_today, alice, last=dt.date(2025, 2, 15), first=True)
    due_yesterday = filed(units["a1"], name="昨日到期")
    pair(due_yesterday, alice, last=dt.date(2025, 2, 14), first=True)
    never = filed(units["a1"], name="从未走访")
    pair(never, alice, start_on=dt.date(2025, 2, 13), first=True)

    names, response = _overdue_names(as_user(alice))
    assert names == {"昨日到期", "从未走访"}
    rows = response.context["rows"]
    assert [r.household.name for r in rows] == ["从未走访", "昨日到期"], "most overdue first"
    assert [r.days_overdue for r in rows] == [2, 1]
    page = response.content.decode()
    assert "2025-05-14" in page and "1 天" in page

    clock.advance(dt.timedelta(days=1))
    names, _ = _overdue_names(as_user(alice))
    assert names == {"今日到期", "昨日到期", "从未走访"}


@pytest.mark.django_db
def test_the_interval_is_configurable(as_user, units, alice):
    h = filed(units["a1"], name="四十天前")
    pair(h, alice, last=TODAY - dt.timedelta(days=40), first=True)
    assert _overdue_names(as_user(alice))[0] == set()
    CaseRules.objects.update_or_create(pk=1, defaults={"visit_interval_months": 1})
    names, response = _overdue_names(as_user(alice))
    assert names == {"四十天前"}
    assert "超过 1 个月未走访" in response.content.decode()


@pytest.mark.django_db
def test_ended_pairings_and_unfiled_households_are_not_overdue(as_user, units, alice, carol):
    h = filed(units["a1"], name="已结束")
    pair(h, alice, last=dt.date(2024, 1, 1), first=True)
    followup.helper_end(actor=carol, helper=Helper.objects.get(household=h), end_on=TODAY,
                        reason="调动")  # fmt: skip
    gone = filed(units["a1"], name="已退出")
    pair(gone, alice, last=dt.date(2024, 1, 1), first=True)
    Household.objects.filter(pk=gone.pk).update(status=S.EXITED)
    assert _overdue_names(as_user(alice))[0] == set()


@pytest.mark.django_db
def test_my_households_lists_my_pairings_overdue_first(as_user, units, alice, carol):
    ok = filed(units["a1"], name="按时走访")
    pair(ok, alice, last=dt.date(2025, 5, 1))
    late = filed(units["a1"], name="该去看看")
    pair(late, alice, last=dt.date(2024, 12, 1), first=True)
    not_mine = filed(units["a1"], name="别人的户")
    pair(not_mine, carol, last=dt.date(2024, 1, 1))

    response = as_user(alice).get(reverse("cases:my_households"))
    rows = response.context["rows"]
    assert [r.household.name for r in rows] == ["该去看看", "按时走访"]
    assert [r.overdue for r in rows] == [True, False]
    assert rows[0].due_on == dt.date(2025, 3, 1) and rows[1].due_on == dt.date(2025, 8, 1)
    page = response.content.decode()
    assert "别人的户" not in page and "逾期 75 天" in page


# -- scoping ------------------------------------------------------------------------


@pytest.fixture
def two_counties(units, alice, bob):
    ours = filed(units["a1"], name="金水逾期户")
    pair(ours, alice, last=dt.date(2024, 6, 1), first=True)
    theirs = filed(units["b"], name="二七逾期户")
    pair(theirs, bob, last=dt.date(2024, 6, 1), first=True)
    return ours, theirs


@pytest.mark.django_db
def test_overdue_list_stays_inside_the_users_units(as_user, units, two_counties, carol, ben, bob):
    assert _overdue_names(as_user(carol))[0] == {"金水逾期户"}
    assert _overdue_names(as_user(ben))[0] == {"二七逾期户"}
    assert _overdue_names(as_user(carol), unit=units["a1"].pk)[0] == {"金水逾期户"}
    city = make_user("cici", units["city"], "chair")
    assert _overdue_names(as_user(city))[0] == {"金水逾期户", "二七逾期户"}
    assert _overdue_names(as_user(city), unit=units["b"].pk)[0] == {"二七逾期户"}


@pytest.mark.django_db
def test_a_tampered_unit_filter_shows_nothing_from_the_other_county(
    as_user, units, two_counties, carol
):
    names, response = _overdue_names(as_user(carol), unit=units["b"].pk)
    assert names == set()
    page = response.content.decode()
    assert "二七逾期户" not in page and "该工会不在您的管辖范围内" in page
    names, _ = _overdue_names(as_user(carol), unit="not-a-number")
    assert names == set()


@pytest.mark.django_db
def test_the_household_panel_shows_helpers_and_due_date(as_user, units, alice, carol):
    h = filed(units["a1"])
    pair(h, alice, last=dt.date(2024, 12, 1), first=True)
    pair(h, carol, last=dt.date(2025, 5, 1))
    page = as_user(carol).get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "结对帮扶与走访" in page and "第一帮扶人" in page and "张丽" in page
    assert "2025-03-01" in page and "走访逾期" in page
    assert reverse("cases:visit_log", args=[h.pk]) in page
    assert reverse("cases:helper_assign", args=[h.pk]) in page
    erin_page = as_user(make_user("eve", units["a"], "auditor")).get(
        reverse("cases:household_detail", args=[h.pk])
    )
    assert reverse("cases:visit_log", args=[h.pk]) not in erin_page.content.decode()


# -- fixed query counts -------------------------------------------------------------

# Session, user, memberships, rules, count, page, the unit choices; a chosen
# unit is looked up once more.
LIST_BUDGET = 8


def _bulk_pairings(unit, user, count, start):
    households = [filed(unit, name=f"户{i:04d}") for i in range(start, start + count)]
    Helper.objects.bulk_create(
        Helper(
            household=h,
            person=roster_person(h.unit, user),
            user=user,
            role="union_cadre",
            is_first=True,
            start_on=dt.date(2024, 1, 1),
            last_visited_on=dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
        )
        for i, h in enumerate(households)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name, params",
    [
        ("cases:my_households", {}),
        ("cases:overdue_visits", {}),
        ("cases:overdue_visits", {"unit": "A1"}),
        ("cases:overdue_visits", {"page": "2"}),
    ],
)
def test_lists_cost_a_fixed_number_of_queries(
    as_user, units, alice, url_name, params, django_assert_max_num_queries
):
    params = {k: (units["a1"].pk if v == "A1" else v) for k, v in params.items()}
    client = as_user(alice)
    url = reverse(url_name)
    _bulk_pairings(units["a1"], alice, 30, 0)
    with CaptureQueriesContext(connection) as few:
        small = client.get(url, params)
    assert small.context["rows"]
    _bulk_pairings(units["a1"], alice, 270, 30)
    with django_assert_max_num_queries(LIST_BUDGET), CaptureQueriesContext(connection) as many:
        large = client.get(url, params)
    assert len(large.context["rows"]) == 25
    assert large.context["page"].paginator.count >= 250
    assert len(few) == len(many), "30 and 300 households cost the same"


@pytest.mark.django_db
def test_ending_from_the_household_page_explains_a_refusal(as_user, units, alice, carol):
    h = filed(units["a1"])
    helper = pair(h, alice, start_on=dt.date(2025, 3, 1), first=True)
    client = as_user(carol)
    url = reverse("cases:helper_end", args=[helper.pk])
    response = client.post(url, {"end_on": "2025-02-01", "reason": "调动"}, follow=True)
    assert "结束日期不能早于开始日期 2025-03-01" in response.content.decode()
    response = client.post(url, {"end_on": TODAY.isoformat(), "reason": ""}, follow=True)
    assert "结束原因：请填写结束帮扶的原因。" in response.content.decode()
    helper.refresh_from_db()
    assert helper.end_on is None
    response = client.post(url, {"end_on": TODAY.isoformat(), "reason": "退休"}, follow=True)
    assert "已结束“张丽”的帮扶。" in response.content.decode()
    assert "尚未结对帮扶人" in response.content.decode()


@pytest.mark.django_db
def test_the_selector_itself_refuses_a_unit_outside_the_scope(units, two_counties, carol):
    cutoff = followup.visit_cutoff(TODAY, 3)
    assert not followup_selectors.overdue_helpers(carol, units["b"], cutoff).exists()
    assert followup_selectors.overdue_helpers(carol, units["a"], cutoff).count() == 1
