"""待办: each role finds what waits for it, in its own units, for a fixed cost.

carol chairs county A: cases waiting for 五评, notices past their period,
open objections and applications waiting for her. alice drafts in county A:
her unfinished files, applications sent back to her, overdue visits, review
items. dave pays in county A. Whatever lies in county B (bob, ben) never
counts for them.
"""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import clock
from cases.models import (
    Helper,
    IntakeNotice,
    NoticeEntry,
    Objection,
    ReviewItem,
    ReviewRound,
)
from cases.models import HouseholdStatus as S
from programs.services import applications
from reports.todo import todo_for
from tests.builders import make_household, make_user, roster_person
from tests.programs import conftest as money

pytestmark = pytest.mark.django_db

# The money fixtures: a funded 送温暖 program and a filed household of county A.
fund, festival, household, tier = money.fund, money.festival, money.household, money.tier


def counts(user):
    return {item.key: item.count for s in todo_for(user).sections for item in s.items}


def notice(unit, actor, households, *, ended):
    today = clock.today()
    starts = today - dt.timedelta(days=20 if ended else 1)
    ends = today - dt.timedelta(days=1) if ended else today + dt.timedelta(days=5)
    n = IntakeNotice.objects.create(
        unit=unit,
        title="建档公示",
        starts_on=starts,
        working_days=5,
        ends_on=ends,
        posted_at="厂区公告栏",
        created_by=actor,
    )
    for h in households:
        NoticeEntry.objects.create(notice=n, household=h)
    return n


@pytest.fixture
def intake(units, alice, bob, carol):
    """Cases at the chair's steps in county A, and the same in county B."""
    a1, b = units["a1"], units["b"]
    made = {
        "discussed": make_household(a1, name="等五评", status=S.DISCUSSED, submitted_by=alice),
        "own": make_household(a1, name="自己提交", status=S.DISCUSSED, submitted_by=carol),
        "ended": make_household(a1, name="期满户", status=S.NOTICED, submitted_by=alice),
        "running": make_household(a1, name="公示中户", status=S.NOTICED, submitted_by=alice),
        "b_discussed": make_household(b, name="外区评议", status=S.DISCUSSED, submitted_by=bob),
        "b_ended": make_household(b, name="外区期满", status=S.NOTICED, submitted_by=bob),
    }
    notice(units["a"], alice, [made["ended"]], ended=True)
    running = notice(units["a"], alice, [made["running"]], ended=False)
    notice(b, bob, [made["b_ended"]], ended=True)
    Objection.objects.create(
        notice=running, household=made["running"], received_on=clock.today(),
        content="隐瞒收入", recorded_by=alice,
    )  # fmt: skip
    return made


def test_the_chair_sees_her_intake_work_and_nothing_of_another_county(as_user, carol, ben, intake):
    mine = counts(carol)
    assert mine["evaluate"] == 1  # not the case she submitted herself
    assert mine["confirm"] == 1  # the running notice is not due yet
    assert mine["objections"] == 1
    assert counts(ben)["evaluate"] == 1 and counts(ben)["objections"] == 0

    page = as_user(carol).get(reverse("reports:todo"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "待五评" in html and "公示期满、待确认建档" in html and "未处理的公示异议" in html
    evaluate = html.split('id="todo-item-evaluate"')[1].split("</li>\n")[0]
    assert "等五评" in evaluate and "自己提交" not in evaluate and "外区评议" not in html
    detail = reverse("cases:household_detail", args=[intake["ended"].pk])
    assert detail in html.split('id="todo-item-confirm"')[1]
    objection = Objection.objects.get()
    assert reverse("cases:objection_resolve", args=[objection.pk]) in html
    assert "外区期满" not in html


def test_a_notice_renewed_after_an_old_one_ended_is_not_due(carol, alice, units, intake):
    """Only the latest notice of a case counts: an earlier one that ended
    says nothing about a case posted again."""
    notice(units["a"], alice, [intake["ended"]], ended=False)
    assert counts(carol)["confirm"] == 0


def test_approval_waiting_and_sent_back_to_the_drafter(
    as_user, alice, bob, carol, household, festival
):
    pending = applications.application_draft(actor=alice, household=household, program=festival)
    assert counts(carol)["approve"] == 1
    assert counts(alice)["returned"] == 0
    applications.application_return(actor=carol, application=pending, reason="请补充病历")
    assert counts(carol)["approve"] == 0
    assert counts(alice)["returned"] == 1
    assert counts(bob)["returned"] == 0
    html = as_user(alice).get(reverse("reports:todo")).content.decode()
    assert "?status=returned" in html


def test_the_caseworker_finds_her_drafts_overdue_visits_and_reviews(alice, bob, carol, units):
    a1 = units["a1"]
    make_household(a1, name="草稿户", status=S.DRAFT, created_by=alice)
    make_household(a1, name="别人的草稿", status=S.DRAFT, created_by=carol)
    make_household(a1, name="待公示", status=S.EVALUATED, created_by=carol)
    paired = make_household(a1, name="久未走访", status=S.FILED, filed_on=dt.date(2020, 1, 1))
    Helper.objects.create(
        household=paired, person=roster_person(a1, alice), user=alice, role="union_cadre",
        is_first=True, start_on=dt.date(2020, 1, 1), last_visited_on=dt.date(2020, 2, 1),
    )  # fmt: skip
    review = ReviewRound.objects.create(
        unit=units["a"], year=2026, seed=1, sample_percent=10, started_by=carol
    )
    ReviewItem.objects.create(round=review, household=paired)
    mine = counts(alice)
    assert (mine["drafts"], mine["to_notice"], mine["overdue_visits"], mine["reviews"]) == (
        1, 1, 1, 1,
    )  # fmt: skip
    theirs = counts(bob)
    assert (theirs["drafts"], theirs["to_notice"], theirs["reviews"]) == (0, 0, 0)


def test_finance_sees_what_to_pay(alice, carol, dave, fay, household, festival):
    app = applications.application_draft(actor=alice, household=household, program=festival)
    assert counts(dave)["pay"] == 0
    applications.application_decide(actor=carol, application=app, approve=True)
    assert counts(dave)["pay"] == 1
    assert counts(fay)["pay"] == 0


def test_admin_and_auditor_have_a_page_and_no_role_means_403(as_user, erin, frank, units):
    make_user("newcomer")
    assert counts(frank)["no_role"] == 1
    assert "reversals" in counts(erin)
    assert as_user(frank).get(reverse("reports:todo")).status_code == 200
    assert as_user(erin).get(reverse("reports:todo")).status_code == 200
    nobody = make_user("nobody2")
    assert as_user(nobody).get(reverse("reports:todo")).status_code == 403
    assert as_user(nobody).get(reverse("reports:todo_count")).status_code == 403


def test_the_menu_links_the_page_and_its_badge_holds_the_total(as_user, carol, intake):
    client = as_user(carol)
    menu = client.get(reverse("cases:household_list")).content.decode()
    assert f'href="{reverse("reports:todo")}"' in menu
    assert reverse("reports:todo_count") in menu
    badge = client.get(reverse("reports:todo_count"), HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r">\s*3\s*<", badge), badge  # 五评 1, 待确认 1, 异议 1
    assert todo_for(carol).total == 3


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Session, user, memberships; per role one COUNT an item; the rows of the
# items shown inline; CaseRules for the visit interval.
BUDGET = 20


@pytest.mark.parametrize("who", ["alice", "carol", "dave", "erin", "frank"])
def test_page_costs_a_fixed_number_of_queries(
    request, as_user, who, intake, units, alice, carol, django_assert_max_num_queries
):
    user = request.getfixturevalue(who)
    client = as_user(user)
    url = reverse("reports:todo")

    def more(n, tag):
        a1 = units["a1"]
        for i in range(n):
            make_household(a1, name=f"评议{tag}{i}", status=S.DISCUSSED, submitted_by=alice)
            make_household(a1, name=f"稿{tag}{i}", status=S.DRAFT, created_by=alice)
            make_household(a1, name=f"评定{tag}{i}", status=S.EVALUATED, created_by=alice)
        ended = [
            make_household(a1, name=f"期满{tag}{i}", status=S.NOTICED, submitted_by=alice)
            for i in range(n)
        ]
        notice(units["a"], alice, ended, ended=True)

    more(1, "a")
    before = _queries(client, url)
    more(10, "b")
    assert _queries(client, url) == before
    with django_assert_max_num_queries(BUDGET):
        client.get(url)
    with django_assert_max_num_queries(BUDGET):
        client.get(reverse("reports:todo_count"))


def test_more_rows_than_shown_say_how_many_more(as_user, carol, alice, units):
    for i in range(11):
        make_household(units["a1"], name=f"评议{i}", status=S.DISCUSSED, submitted_by=alice)
    html = as_user(carol).get(reverse("reports:todo")).content.decode()
    assert "另有 3 项" in html
