"""The intake pages: each step's form, what is refused and how it reads."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from cases.models import (
    Assessment,
    Discussion,
    Holiday,
    IntakeNotice,
    LocalStandard,
    Objection,
    ObjectionOutcome,
    StatusChange,
    Tier,
    Visit,
)
from cases.models import HouseholdStatus as S
from cases.selectors.households import get_household_for
from cases.services import intake
from cases.views.intake import panel_context
from tests.builders import make_household
from tests.cases.routes_intake import PNG, put_on_notice, set_status

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def case(units, alice, standard):
    """A draft alice filed, so she is its submitter."""
    return make_household(
        units["a1"], name="王秀兰", status=S.DRAFT, submitted_by=alice, created_by=alice
    )


def url(name, obj):
    return reverse(f"cases:{name}", args=[obj.pk])


def detail(client, household):
    return client.get(url("household_detail", household)).content.decode()


def status_of(household):
    household.refresh_from_db()
    return household.status


def flash(response):
    return [str(m) for m in response.wsgi_request._messages]


def money(**kw):
    data = {"assessed_on": clock.today().isoformat(), "household_size": "3"}
    data.update(kw)
    return data


def walk(household, alice, carol, *, until):
    """Take a case through the services up to the status `until`."""
    order = [S.VISITED, S.ASSESSED, S.DISCUSSED, S.EVALUATED, S.NOTICED]
    steps = {
        S.VISITED: lambda: intake.intake_visit_log(
            actor=alice, household=household, data={"seen_housing": "老旧平房"}
        ),
        S.ASSESSED: lambda: intake.assessment_record(
            actor=alice,
            household=household,
            data={"income_wages": D("24000"), "household_size": 3},
        ),
        S.DISCUSSED: lambda: intake.discussion_record(
            actor=alice,
            household=household,
            held_on=clock.today(),
            attendees="甲、乙",
            minutes="同意",
        ),
        S.EVALUATED: lambda: intake.case_evaluate(
            actor=carol, household=household, tier=Tier.objects.get(name="特困")
        ),
        S.NOTICED: lambda: intake.notice_create(
            actor=alice,
            unit=household.unit,
            title="建档公示",
            starts_on=clock.today(),
            posted_at="厂区公告栏",
            households=[household],
        ),
    }
    for status in order[: order.index(until) + 1]:
        steps[status]()
    household.refresh_from_db()
    return household


def past_notice_period(household):
    notice = intake.current_notice(household)
    clock.advance(dt.timedelta(days=(notice.ends_on - clock.today()).days + 1))
    return notice


# -- 一进二看 ---------------------------------------------------------------------


@pytest.mark.django_db
def test_caseworker_logs_the_home_visit(as_user, alice, case):
    client = as_user(alice)
    page = client.get(url("intake_visit", case)).content.decode()
    assert "六知道" in page and "知道配偶情况" in page
    response = client.post(
        url("intake_visit", case),
        {
            "visited_on": clock.today().isoformat(),
            "seen_housing": "两间老旧平房，屋顶漏雨",
            "knows_name": "on",
            "knows_phone": "on",
        },
        follow=True,
    )
    assert "已登记入户核查" in response.content.decode()
    assert status_of(case) == S.VISITED
    visit = Visit.objects.get(household=case)
    assert visit.is_intake and visit.knows_phone and not visit.knows_spouse
    assert visit.seen_housing == "两间老旧平房，屋顶漏雨"


@pytest.mark.django_db
def test_a_visit_that_saw_nothing_is_refused_on_the_form(as_user, alice, case):
    response = as_user(alice).post(url("intake_visit", case), {"visited_on": "2999-01-01"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "走访日期：日期不能晚于今天。" in page
    assert "住房情况：请至少填写一项入户看到的情况。" in page
    assert status_of(case) == S.DRAFT and not Visit.objects.exists()


@pytest.mark.django_db
def test_visit_on_a_case_past_that_step_is_refused_with_a_message(as_user, alice, case):
    set_status(case, S.ASSESSED)
    client = as_user(alice)
    events = AuditEvent.objects.count()
    response = client.post(
        url("intake_visit", case), {"visited_on": clock.today().isoformat(), "seen_housing": "平房"}
    )
    assert response.status_code == 302
    assert "只有待入户的档案需要登记建档入户核查。" in flash(response)
    assert status_of(case) == S.ASSESSED
    assert not Visit.objects.exists() and AuditEvent.objects.count() == events
    # Opening the form says the same instead of offering a useless form.
    response = client.get(url("intake_visit", case))
    assert response.status_code == 302
    assert any("不能办理此步骤" in m for m in flash(response))


# -- 三算 -------------------------------------------------------------------------


@pytest.mark.django_db
def test_preview_explains_the_arithmetic_without_saving(as_user, alice, case):
    set_status(case, S.VISITED)
    response = as_user(alice).post(
        url("intake_assess_preview", case), money(income_wages="24000", expense_medical="0")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "24,000.00 元 ÷ 3 人 ÷ 12 个月 = 人均月收入 666.67 元" in page
    assert "当地低保标准 800.00 元/人·月，人均月收入为标准的 0.83 倍" in page
    assert "特困" in page and "深度困难" in page
    assert not Assessment.objects.exists() and status_of(case) == S.VISITED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("wages", "tier"),
    [("28800", "特困"), ("28800.36", "困难"), ("57600", "困难"), ("57600.36", "边缘")],
)
def test_preview_at_the_1x_and_2x_boundaries(as_user, alice, case, wages, tier):
    # 28,800 ÷ 3 ÷ 12 = 800 (1×); 57,600 → 1,600 (2×); a cent more crosses over.
    set_status(case, S.VISITED)
    response = as_user(alice).post(url("intake_assess_preview", case), money(income_wages=wages))
    suggestion = response.content.decode().split('id="means-suggestion"')[1].split("</dd>")[0]
    assert f"<strong>{tier}</strong>" in suggestion


@pytest.mark.django_db
def test_preview_names_the_bad_field(as_user, alice, case):
    set_status(case, S.VISITED)
    response = as_user(alice).post(
        url("intake_assess_preview", case), money(income_wages="-5", household_size="0")
    )
    page = response.content.decode()
    assert "工资性收入：金额不能为负数。" in page
    assert "家庭人口：家庭人口至少为 1 人（含户主）。" in page


@pytest.mark.django_db
def test_assessment_is_saved_and_shown_on_the_household_page(as_user, alice, case):
    set_status(case, S.VISITED)
    client = as_user(alice)
    page = client.get(url("intake_assess", case)).content.decode()
    assert 'id="means-result"' in page and "人均月收入" in page  # the arithmetic on opening
    response = client.post(
        url("intake_assess", case),
        money(income_wages="30000", expense_medical="1200", exclusions=["vehicle"]),
    )
    assert response.status_code == 302
    assert status_of(case) == S.ASSESSED
    page = detail(client, case)
    assert "¥800.00" in page  # (30,000 − 1,200) ÷ 3 ÷ 12
    assert "拥有机动车辆" in page
    assert "30,000.00 元 − 年刚性支出 1,200.00 元 = 28,800.00 元" in page
    assessment = Assessment.objects.get(household=case)
    assert assessment.created_by == alice and assessment.suggested_tier.name == "特困"


@pytest.mark.django_db
def test_bad_assessment_changes_nothing(as_user, alice, case):
    set_status(case, S.VISITED)
    response = as_user(alice).post(url("intake_assess", case), money(income_business="abc"))
    assert response.status_code == 200
    assert "经营性收入：" in response.content.decode()
    assert not Assessment.objects.exists() and status_of(case) == S.VISITED


# -- 四议 -------------------------------------------------------------------------


@pytest.mark.django_db
def test_discussion_with_minutes_file(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.ASSESSED)
    response = as_user(alice).post(
        url("intake_discuss", case),
        {
            "held_on": clock.today().isoformat(),
            "attendees": "陈红、张丽、王五",
            "minutes": "经评议，同意列为困难职工。",
            "file": SimpleUploadedFile("纪要.pdf", PDF, "application/pdf"),
        },
    )
    assert response.status_code == 302
    assert status_of(case) == S.DISCUSSED
    discussion = Discussion.objects.get(household=case)
    assert discussion.file and discussion.attendees == "陈红、张丽、王五"


@pytest.mark.django_db
def test_discussion_file_must_really_be_a_document(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.ASSESSED)
    response = as_user(alice).post(
        url("intake_discuss", case),
        {
            "held_on": clock.today().isoformat(),
            "attendees": "甲",
            "minutes": "乙",
            "file": SimpleUploadedFile("纪要.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),
        },
    )
    assert response.status_code == 200
    assert "会议记录附件：文件内容与扩展名不符" in response.content.decode()
    assert status_of(case) == S.ASSESSED and not Discussion.objects.exists()


@pytest.mark.django_db
def test_discussion_before_assessment_is_an_illegal_move(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.VISITED)
    response = as_user(alice).post(
        url("intake_discuss", case),
        {"held_on": clock.today().isoformat(), "attendees": "甲", "minutes": "乙"},
    )
    assert response.status_code == 302
    assert "只有已核算的档案才能提交民主评议（当前为“已入户”）。" in flash(response)
    assert status_of(case) == S.VISITED and not Discussion.objects.exists()


# -- 五评 and separation of duties ---------------------------------------------------


@pytest.mark.django_db
def test_chair_evaluates_with_the_suggested_tier_preselected(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.DISCUSSED)
    client = as_user(carol)
    assert "评定困难类别" in detail(client, case)
    page = client.get(url("intake_evaluate", case)).content.decode()
    special = Tier.objects.get(name="特困")
    assert f'<option value="{special.pk}" selected>' in page
    response = client.post(url("intake_evaluate", case), {"tier": special.pk, "reason": "属实"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == S.EVALUATED and case.tier == special


@pytest.mark.django_db
def test_caseworker_posting_to_a_chair_url_gets_403(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.DISCUSSED)
    client = as_user(alice)
    assert "评定困难类别" not in detail(client, case)
    tier = Tier.objects.get(name="困难")
    assert client.post(url("intake_evaluate", case), {"tier": tier.pk}).status_code == 403
    assert client.post(url("intake_reject", case), {"reason": "不符合"}).status_code == 403
    assert status_of(case) == S.DISCUSSED


@pytest.mark.django_db
def test_a_chair_cannot_evaluate_or_confirm_a_case_she_submitted(as_user, units, alice, carol):
    LocalStandard.objects.create(
        unit=units["city"], amount=D("800"), effective_from=dt.date(2020, 1, 1)
    )
    mine = make_household(units["a1"], status=S.DRAFT, submitted_by=carol, created_by=carol)
    walk(mine, carol, carol, until=S.DISCUSSED)
    client = as_user(carol)
    assert "评定困难类别" not in detail(client, mine)
    response = client.get(url("intake_evaluate", mine))
    assert response.status_code == 403
    assert "提交该档案的人员不能自己评定、确认或驳回。" in response.content.decode()
    # A crafted POST straight to the URL is refused by the service too.
    tier = Tier.objects.get(name="特困")
    response = client.post(url("intake_evaluate", mine), {"tier": tier.pk})
    assert response.status_code == 403
    assert "提交该档案的人员不能自己评定" in response.content.decode()
    assert status_of(mine) == S.DISCUSSED

    # Another chair of the union evaluates; the submitter still cannot confirm.
    from tests.builders import make_user

    dan = make_user("dan", units["a"], "chair", full_name="丁一")
    intake.case_evaluate(actor=dan, household=mine, tier=tier)
    walk_notice = intake.notice_create(
        actor=carol, unit=mine.unit, title="公示", starts_on=clock.today(), posted_at="公告栏",
        households=[mine],
    )  # fmt: skip
    clock.advance(dt.timedelta(days=(walk_notice.ends_on - clock.today()).days + 1))
    response = client.post(url("intake_confirm", mine))
    assert response.status_code == 403
    assert "提交该档案的人员不能自己评定" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == S.NOTICED and mine.file_number is None


@pytest.mark.django_db
def test_exclusion_warning_needs_a_written_reason(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.VISITED)
    intake.assessment_record(
        actor=alice, household=case, data={"household_size": 2, "exclusions": ["vehicle"]}
    )
    intake.discussion_record(
        actor=alice, household=case, held_on=clock.today(), attendees="甲", minutes="乙"
    )
    client = as_user(carol)
    tier = Tier.objects.get(name="特困")
    response = client.post(url("intake_evaluate", case), {"tier": tier.pk})
    assert response.status_code == 200
    assert "排除情形认定理由：存在排除情形：拥有机动车辆" in response.content.decode()
    assert status_of(case) == S.DISCUSSED
    response = client.post(
        url("intake_evaluate", case), {"tier": tier.pk, "override": "残疾代步车"}
    )
    assert response.status_code == 302 and status_of(case) == S.EVALUATED


# -- sending back, rejecting, reopening -------------------------------------------------


@pytest.mark.django_db
def test_send_back_needs_a_reason_and_shows_it_in_the_timeline(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.ASSESSED)
    client = as_user(alice)
    response = client.post(url("intake_send_back", case), {"reason": "  "})
    assert any(m.startswith("理由：") for m in flash(response))
    assert status_of(case) == S.ASSESSED
    client.post(url("intake_send_back", case), {"reason": "收入材料不全，请补充工资证明"})
    assert status_of(case) == S.VISITED
    page = detail(client, case)
    timeline = page.split('id="timeline"')[1]
    assert "已核算 → 已入户" in timeline and "收入材料不全，请补充工资证明" in timeline


@pytest.mark.django_db
def test_caseworker_cannot_send_back_a_chairs_decision(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.EVALUATED)
    client = as_user(alice)
    assert "退回上一步" not in detail(client, case)
    response = client.post(url("intake_send_back", case), {"reason": "重新评议"})
    assert response.status_code == 403
    assert status_of(case) == S.EVALUATED


@pytest.mark.django_db
def test_reject_and_reopen(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.VISITED)
    as_user(carol).post(url("intake_reject", case), {"reason": "有两套住房，不符合条件"})
    assert status_of(case) == S.REJECTED
    client = as_user(alice)
    page = detail(client, case)
    assert "重新申请建档" in page and "有两套住房，不符合条件" in page
    client.post(url("intake_reopen", case), {"reason": "已出售一套住房"})
    assert status_of(case) == S.DRAFT
    assert "登记入户核查" in detail(client, case)


# -- 六公示 -------------------------------------------------------------------------


def next_monday():
    today = clock.today()
    return today + dt.timedelta(days=7 - today.weekday())


@pytest.mark.django_db
def test_notice_form_defaults_and_end_date_over_a_weekend_and_holiday(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.EVALUATED)
    client = as_user(alice)
    page = client.get(reverse("cases:notice_create") + f"?household={case.pk}").content.decode()
    assert f'value="{case.pk}"' in page and "checked" in page.split(f'value="{case.pk}"')[1][:40]
    assert f'value="{clock.today().isoformat()}"' in page
    assert 'name="working_days" value="5"' in page
    assert 'capture="environment"' in page

    monday = next_monday()
    Holiday.objects.create(date=monday + dt.timedelta(days=2), name="调休")
    response = client.post(
        reverse("cases:notice_create"),
        {
            "unit": case.unit_id,
            "title": "2025年第一批困难职工建档公示",
            "households": [case.pk],
            "starts_on": monday.isoformat(),
            "working_days": "5",
            "posted_at": "厂区公告栏",
            "proof": SimpleUploadedFile("张贴.png", PNG, "image/png"),
        },
    )
    notice = IntakeNotice.objects.get()
    assert response["Location"] == url("notice_detail", notice)
    # Mon, Tue, (Wed off), Thu, Fri, (weekend), Mon: five working days.
    end = monday + dt.timedelta(days=7)
    assert notice.ends_on == end
    page = client.get(url("notice_detail", notice)).content.decode()
    assert f"{monday:%Y-%m-%d} 至 {end:%Y-%m-%d}（5 个工作日）" in page
    assert "王秀兰" in page and 'id="proof-link"' in page
    assert status_of(case) == S.NOTICED
    assert f"公示期 {monday:%Y-%m-%d} 至 {end:%Y-%m-%d}" in detail(client, case)


@pytest.mark.django_db
def test_notice_refuses_backdating_and_unevaluated_households(as_user, alice, carol, case, units):
    walk(case, alice, carol, until=S.EVALUATED)
    draft = make_household(units["a1"], name="李四", status=S.DRAFT)
    client = as_user(alice)
    data = {
        "unit": case.unit_id,
        "title": "公示",
        "households": [case.pk],
        "starts_on": (clock.today() - dt.timedelta(days=10)).isoformat(),
        "working_days": "5",
        "posted_at": "厂区公告栏",
    }
    response = client.post(reverse("cases:notice_create"), data)
    assert "公示开始日期：公示开始日期不能早于今天。" in response.content.decode()
    data.update(starts_on=clock.today().isoformat(), households=[case.pk, draft.pk])
    response = client.post(reverse("cases:notice_create"), data)
    assert response.status_code == 200
    assert "公示家庭：" in response.content.decode()
    assert not IntakeNotice.objects.exists()
    assert status_of(case) == S.EVALUATED and status_of(draft) == S.DRAFT


@pytest.mark.django_db
def test_notice_list_is_paginated_in_a_fixed_number_of_queries(
    as_user, alice, units, django_assert_max_num_queries
):
    client = as_user(alice)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("cases:notice_list"))
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    for _ in range(3):
        put_on_notice(make_household(units["a1"]), ended=False)
    few, _page = queries()
    for _ in range(30):
        put_on_notice(make_household(units["a1"]), ended=False)
    put_on_notice(make_household(units["b"], name="外区户"), ended=False)
    many, page = queries()
    assert many == few
    assert "第 1 / 2 页，共 33 条" in page
    with django_assert_max_num_queries(10):
        client.get(reverse("cases:notice_list") + "?page=2")


@pytest.mark.django_db
def test_proof_photo_upload_and_download(as_user, alice, erin, carol, case):
    walk(case, alice, carol, until=S.NOTICED)
    notice = intake.current_notice(case)
    client = as_user(alice)
    assert client.get(url("notice_proof", notice)).status_code == 404  # none yet
    response = client.post(
        url("notice_proof", notice),
        {"proof": SimpleUploadedFile("a.png", b"GIF89a...", "image/png")},
    )
    assert any("张贴照片：" in m for m in flash(response))
    notice.refresh_from_db()
    assert not notice.proof
    client.post(
        url("notice_proof", notice), {"proof": SimpleUploadedFile("a.png", PNG, "image/png")}
    )
    response = client.get(url("notice_proof", notice))
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    # The auditor may look at it but not replace it.
    auditor = as_user(erin)
    assert auditor.get(url("notice_proof", notice)).status_code == 200
    response = auditor.post(
        url("notice_proof", notice), {"proof": SimpleUploadedFile("b.png", PNG, "image/png")}
    )
    assert response.status_code == 403


# -- objections and 七确认 -----------------------------------------------------------


@pytest.mark.django_db
def test_confirmation_is_refused_before_the_period_ends(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.NOTICED)
    notice = intake.current_notice(case)
    client = as_user(carol)
    page = client.get(url("intake_confirm", case)).content.decode()
    assert f"公示期至 {notice.ends_on.isoformat()} 结束，期满后方可确认。" in page
    response = client.post(url("intake_confirm", case))
    assert f"公示期至 {notice.ends_on.isoformat()} 结束，期满后方可确认。" in flash(response)
    case.refresh_from_db()
    assert case.status == S.NOTICED and case.file_number is None


@pytest.mark.django_db
def test_open_objection_blocks_confirmation_until_dismissed(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.NOTICED)
    worker = as_user(alice)
    response = worker.post(
        url("objection_record", case),
        {
            "received_on": clock.today().isoformat(),
            "raised_by": "",
            "content": "其子在私立学校就读",
        },
    )
    assert response.status_code == 302
    objection = Objection.objects.get(household=case)
    assert "其子在私立学校就读" in detail(worker, case)
    # A caseworker may record an objection, not decide it.
    assert worker.post(url("objection_resolve", objection), {}).status_code == 403

    past_notice_period(case)
    chair = as_user(carol)
    page = detail(chair, case)
    assert "有未处理的公示异议。" in page.split('id="confirm-blockers"')[1]
    response = chair.post(url("intake_confirm", case))
    assert "有未处理的公示异议。" in flash(response)
    assert status_of(case) == S.NOTICED

    chair.post(
        url("objection_resolve", objection),
        {"outcome": "dismissed", "resolution": "经核实为公办学校，异议不成立"},
    )
    objection.refresh_from_db()
    assert objection.outcome == ObjectionOutcome.DISMISSED and objection.resolved_by == carol
    response = chair.post(url("intake_confirm", case), follow=True)
    number = f"410105001-{clock.today().year}-0001"
    assert f"已确认建档，档案编号 {number}。" in response.content.decode()
    page = detail(chair, case)
    assert f"档案编号 {number}" in page
    case.refresh_from_db()
    assert case.status == S.FILED and case.file_number == number


@pytest.mark.django_db
def test_upheld_objection_sends_the_case_back_and_says_why(as_user, alice, carol, case):
    walk(case, alice, carol, until=S.NOTICED)
    objection = intake.objection_record(actor=alice, household=case, content="家中有两套住房")
    client = as_user(carol)
    response = client.post(url("objection_resolve", objection), {"outcome": "upheld"})
    assert "处理说明：" in response.content.decode()  # the reason is required
    assert status_of(case) == S.NOTICED
    client.post(
        url("objection_resolve", objection), {"outcome": "upheld", "resolution": "核实有第二套住房"}
    )
    assert status_of(case) == S.EVALUATED
    timeline = detail(client, case).split('id="timeline"')[1]
    assert "公示中 → 已评定" in timeline and "公示异议成立：核实有第二套住房" in timeline
    # Resolving it twice is refused with a message.
    response = client.post(
        url("objection_resolve", objection), {"outcome": "dismissed", "resolution": "再议"}
    )
    assert "该异议已处理。" in flash(response)


# -- the household page's panel ---------------------------------------------------------


@pytest.mark.django_db
def test_panel_shows_each_persona_only_what_they_may_do(as_user, alice, carol, erin, case):
    page = detail(as_user(alice), case)
    assert 'aria-current="step"' in page and "登记入户核查" in page
    assert "驳回申请" not in page  # a chair's decision
    assert "驳回申请" in detail(as_user(carol), case)
    page = detail(as_user(erin), case)
    assert "登记入户核查" not in page and "退回上一步" not in page


@pytest.mark.django_db
def test_panel_is_a_fixed_number_of_queries(alice, carol, case, units):
    quiet = make_household(units["a1"], status=S.NOTICED, name="赵六")
    put_on_notice(quiet, ended=False)
    walk(case, alice, carol, until=S.NOTICED)
    for n in range(5):
        intake.objection_record(actor=alice, household=case, content=f"异议{n}")
    assert StatusChange.objects.filter(household=case).count() == 5

    def count(household):
        # Loaded as the household page loads it.
        household = get_household_for(carol, household.pk)
        with CaptureQueriesContext(connection) as ctx:
            panel_context(carol, household)
        return len(ctx.captured_queries)

    count(quiet)  # warm the membership cache of this user object
    assert count(case) == count(quiet) <= 8
