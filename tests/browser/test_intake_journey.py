"""One household through 一进二看三算四议五评六公示七确认 in a phone-sized
Chromium, with a caseworker (alice) and a chair (carol) in separate browsers;
and an objection that the chair upholds, sending the case back.

The notice period is skipped with `cases.clock`: the live server runs in this
process, so it sees the same day the test moves to.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from playwright.sync_api import Locator, Page, expect

from cases import clock
from cases.models import Household, IntakeNotice, Tier
from cases.models import HouseholdStatus as S
from cases.services import intake
from tests.browser.helpers import assert_fits_phone
from tests.builders import make_household

pytestmark = pytest.mark.browser


def panel(page: Page) -> Locator:
    return page.locator("#intake")


def open_file(page: Page, household: Household) -> None:
    page.goto(f"/households/{household.pk}/")
    expect(page.get_by_role("heading", name=household.name)).to_be_visible()


def current_step(page: Page) -> Locator:
    return panel(page).locator('[aria-current="step"]')


def test_one_household_through_all_seven_steps(
    page: Page, login_as, second_browser, snap, alice, carol, units, standard
):
    household = make_household(
        units["a1"], name="王秀兰", status=S.DRAFT, submitted_by=alice, created_by=alice
    )
    login_as(alice)
    open_file(page, household)
    expect(current_step(page).first).to_contain_text("一进")
    assert_fits_phone(page)

    # 一进二看: at the door.
    panel(page).get_by_role("link", name="登记入户核查").click()
    page.get_by_label("住房情况").fill("两间老旧平房，屋顶漏雨")
    page.get_by_label("健康状况").fill("户主慢性病，长期服药")
    page.get_by_label("知道姓名").check()
    page.get_by_label("知道电话").check()
    assert_fits_phone(page)
    page.get_by_role("button", name="保存入户核查").click()
    expect(page.locator(".messages")).to_contain_text("已登记入户核查")
    expect(current_step(page)).to_contain_text("三算")

    # 三算: the calculator explains itself while she types.
    panel(page).get_by_role("link", name="经济状况核算").click()
    page.get_by_label("家庭人口").fill("3")
    page.get_by_label("工资性收入").fill("24000")
    for label in ("经营性收入", "财产性收入", "转移性收入", "其他收入", "医疗刚性支出",
                  "残疾刚性支出", "非义务教育支出", "住房刚性支出"):  # fmt: skip
        page.get_by_label(label).fill("0")
    result = page.locator("#means-result")
    expect(result).to_contain_text("24,000.00 元 ÷ 3 人 ÷ 12 个月 = 人均月收入 666.67 元")
    expect(result.locator("#means-suggestion")).to_contain_text("特困")
    assert_fits_phone(page)
    snap(page, "assess")
    page.get_by_role("button", name="保存核算").click()
    expect(page.locator("#latest-assessment")).to_contain_text("666.67")
    expect(panel(page)).to_contain_text("人均月收入为标准的 0.83 倍")

    # 四议
    panel(page).get_by_role("link", name="登记民主评议").click()
    page.get_by_label("参会人员").fill("陈红、张丽、王五")
    page.get_by_label("会议纪要").fill("经评议，一致同意列为困难职工。")
    page.get_by_role("button", name="保存评议记录").click()
    expect(page.locator(".messages")).to_contain_text("已登记民主评议")
    # The chair's step is not offered to the caseworker.
    expect(panel(page).get_by_role("link", name="评定困难类别")).to_have_count(0)

    # 五评: carol, on her own phone.
    chair = second_browser(carol)
    open_file(chair, household)
    panel(chair).get_by_role("link", name="评定困难类别").click()
    expect(chair.get_by_label("困难类别")).to_have_value(str(Tier.objects.get(name="特困").pk))
    chair.get_by_role("button", name="确认评定").click()
    expect(chair.locator(".messages")).to_contain_text("已评定为“特困”")

    # 六公示: alice posts the notice.
    open_file(page, household)
    panel(page).get_by_role("link", name="发布公示").click()
    expect(page.get_by_label("王秀兰")).to_be_checked()
    expect(page.get_by_label("公示期（工作日）")).to_have_value("5")
    page.get_by_label("张贴地点").fill("纺织厂厂区公告栏")
    assert_fits_phone(page)
    page.get_by_role("button", name="发布公示").click()
    notice = IntakeNotice.objects.get()
    expect(page.locator("#notice-period")).to_contain_text(
        f"{notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d}（5 个工作日）"
    )
    assert_fits_phone(page)

    # Too early for carol: the page says until when.
    open_file(chair, household)
    expect(chair.locator("#confirm-blockers")).to_contain_text(
        f"公示期至 {notice.ends_on.isoformat()} 结束"
    )

    # The period passes.
    clock.advance(dt.timedelta(days=(notice.ends_on - clock.today()).days + 1))

    # 七确认
    open_file(chair, household)
    expect(chair.locator("#confirm-blockers")).to_have_count(0)
    panel(chair).get_by_role("link", name="确认建档").click()
    chair.get_by_role("button", name="确认建档").click()
    number = f"410105001-{clock.today().year}-0001"
    expect(chair.locator(".messages")).to_contain_text(f"档案编号 {number}")
    expect(chair.locator("main")).to_contain_text(f"档案编号 {number}")
    steps = panel(chair).locator(".step.done")
    expect(steps).to_have_count(7)

    timeline = chair.locator("#timeline li")
    expect(timeline).to_have_count(6)
    for index, (move, who) in enumerate(
        [
            ("待入户 → 已入户", "张丽"),
            ("已入户 → 已核算", "张丽"),
            ("已核算 → 已评议", "张丽"),
            ("已评议 → 已评定", "陈红"),
            ("已评定 → 公示中", "张丽"),
            ("公示中 → 已建档", "陈红"),
        ]
    ):
        expect(timeline.nth(index)).to_contain_text(move)
        expect(timeline.nth(index)).to_contain_text(who)
    assert_fits_phone(chair)
    snap(chair, "filed")


def test_upheld_objection_sends_the_case_back(
    page: Page, login_as, second_browser, alice, carol, units, standard
):
    household = make_household(
        units["a1"], name="李建国", status=S.DRAFT, submitted_by=alice, created_by=alice
    )
    intake.intake_visit_log(actor=alice, household=household, data={"seen_housing": "平房"})
    intake.assessment_record(
        actor=alice, household=household, data={"income_wages": D("24000"), "household_size": 3}
    )
    intake.discussion_record(
        actor=alice, household=household, held_on=clock.today(), attendees="甲", minutes="同意"
    )
    intake.case_evaluate(actor=carol, household=household, tier=Tier.objects.get(name="特困"))
    intake.notice_create(
        actor=alice, unit=household.unit, title="建档公示", starts_on=clock.today(),
        posted_at="厂区公告栏", households=[household],
    )  # fmt: skip

    login_as(alice)
    open_file(page, household)
    panel(page).get_by_role("link", name="登记异议").click()
    page.get_by_label("异议人").fill("同厂职工")
    page.get_by_label("异议内容").fill("该户在郊区另有一套住房")
    page.get_by_role("button", name="登记异议").click()
    expect(page.locator("#open-objections")).to_contain_text("该户在郊区另有一套住房")
    expect(page.locator("#confirm-blockers")).to_contain_text("有未处理的公示异议")

    chair = second_browser(carol)
    open_file(chair, household)
    chair.locator("#open-objections").get_by_role("link", name="处理异议").click()
    chair.get_by_label("异议成立").check()
    chair.get_by_label("处理说明").fill("经核实确有第二套住房")
    assert_fits_phone(chair)
    chair.get_by_role("button", name="提交处理结果").click()
    expect(chair.locator(".messages")).to_contain_text("异议成立")
    expect(chair.locator("h1 .badge")).to_have_text("已评定")
    last = chair.locator("#timeline li").last
    expect(last).to_contain_text("公示中 → 已评定")
    expect(last).to_contain_text("公示异议成立：经核实确有第二套住房")
    expect(last).to_contain_text("陈红")
    expect(chair.locator("#open-objections")).to_have_count(0)
