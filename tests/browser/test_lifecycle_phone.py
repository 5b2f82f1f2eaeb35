"""The living file on a phone: alice records the sixth month of income above
the standard, carol confirms the exit the system suggests; carol starts the
annual review and alice records an on-site re-check."""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cases import clock
from cases.models import HouseholdStatus, LocalStandard, ReviewItem
from cases.services import lifecycle
from tests.browser.helpers import assert_fits_phone
from tests.builders import make_household

pytestmark = pytest.mark.browser


def _filed(unit, name):
    return make_household(
        unit,
        name=name,
        status=HouseholdStatus.FILED,
        filed_on=datetime.date(2020, 1, 1),
        file_number=f"410105001-2020-{abs(hash(name)) % 10000:04d}",
    )


def test_income_run_flags_exit_and_chair_confirms(login_as, page, units, alice, carol, snap):
    clock.reset()
    LocalStandard.objects.create(
        unit=units["city"], amount=Decimal("800"), effective_from=datetime.date(2020, 1, 1)
    )
    household = _filed(units["a1"], "王秀兰")
    this_month = clock.today().replace(day=1)
    months = []
    month = this_month
    for _ in range(6):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        months.append(month)
    months.reverse()  # the six months before this one, oldest first
    for month in months[:5]:
        lifecycle.monthly_income_record(
            actor=alice,
            household=household,
            month=month,
            household_income=Decimal("2700"),
            household_size=3,
        )

    login_as(alice)
    page.goto(f"/households/{household.pk}/")
    expect(page.locator("#income-run")).to_contain_text("当前已连续 5 个月高于低保标准")
    page.get_by_role("link", name="登记月收入").click()
    assert_fits_phone(page)
    page.get_by_label("月份").fill(f"{months[5]:%Y-%m}")
    page.get_by_label("家庭月收入（元）").fill("2700")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已提示脱困")
    expect(page.locator("#exit-flag")).to_contain_text("待工会主席确认或否决")
    snap(page, "flagged")
    assert_fits_phone(page)

    page.context.clear_cookies()
    login_as(carol)
    page.goto(f"/households/{household.pk}/")
    page.locator("#exit-flag").get_by_role("link", name="确认脱困退出").click()
    expect(page.get_by_label("退出类型")).to_have_value("recovered")
    page.get_by_label("退出原因").fill("再就业，收入稳定")
    assert_fits_phone(page)
    page.get_by_role("button", name="确认退出").click()
    retained = lifecycle.add_years(clock.today(), 10).isoformat()
    expect(page.locator("#exit-record")).to_contain_text(f"档案保存至 {retained}")
    expect(page.locator("h1 .badge")).to_have_text("已退出")
    assert_fits_phone(page)


def test_chair_starts_review_and_caseworker_records_sampled_visit(
    login_as, page, units, alice, carol, snap
):
    clock.reset()
    for i in range(4):
        _filed(units["a1"], f"年审户{i}")
    login_as(carol)
    page.goto("/reviews/")
    page.get_by_role("link", name="发起年审").click()
    page.get_by_label("工会").select_option(label="金水区总工会")
    page.get_by_role("button", name="发起年审").click()
    expect(page.locator(".messages")).to_contain_text("共 4 户，抽取 2 户实地复核")
    expect(page.locator("#sample-check")).to_contain_text("结果与标记的抽样户一致")
    assert_fits_phone(page)
    snap(page, "review")

    page.context.clear_cookies()
    login_as(alice)
    page.goto("/reviews/")
    page.get_by_role("link", name=re.compile(r"\d{4} 年度")).click()
    page.get_by_role("link", name="仅实地复核户").click()
    page.get_by_role("link", name="登记结果").first.click()
    assert_fits_phone(page)
    page.get_by_label("情况无变化").check()
    page.get_by_role("button", name="保存年审结果").click()
    expect(page.locator(".errorlist")).to_contain_text("实地复核日期")
    page.get_by_label("实地复核日期").fill(clock.today().isoformat())
    page.get_by_role("button", name="保存年审结果").click()
    expect(page.locator("#review-summary")).to_contain_text("已复核 1 / 2 户")
    assert ReviewItem.objects.filter(sampled=True, outcome="unchanged").count() == 1
