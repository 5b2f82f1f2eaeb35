"""回访核实 on a phone: a caseworker who had no hand in the payment finds the
drawn household in 待回访, calls it and records that only part arrived; the
city chair sees the case on her phone and closes it."""

import pytest
from playwright.sync_api import Page, expect

from programs.models import CaseStatus, VerificationCase, VerificationLine
from tests.browser.helpers import assert_fits_phone
from tests.programs.conftest import cathy, festival, fund, tier  # noqa: F401 - fixtures
from tests.programs.verification_world import amy, approved_many, paid_batch

pytestmark = pytest.mark.browser


def test_a_partial_payment_reaches_the_city_chair(
    page: Page,
    login_as,
    second_browser,
    snap,
    alice,
    cathy,  # noqa: F811
    dave,
    festival,  # noqa: F811 - the fixture above
    fund,  # noqa: F811
    units,
):
    paid_batch(dave, fund, approved_many(festival, units["a"], 5, alice))
    line = VerificationLine.objects.get()
    verifier = amy(units["a"])

    login_as(verifier)
    page.goto("/aid/verification/todo/")
    assert_fits_phone(page)
    page.get_by_role("link", name=line.household.name).click()
    expect(page.locator("#line-amount")).to_contain_text("1,000.00")
    page.get_by_role("button", name="领取此户").click()
    expect(page.locator(".messages")).to_contain_text("已领取")
    page.get_by_label("部分收到").check()
    page.get_by_label("实收金额（元）").fill("1000")
    page.get_by_label("电话").check()
    page.get_by_label("情况说明").fill("户主说只收到 600 元")
    page.get_by_role("button", name="登记核实结果").click()
    expect(page.locator("#verification-form")).to_contain_text("须小于发放金额")
    assert_fits_phone(page)
    page.get_by_label("实收金额（元）").fill("600")
    page.get_by_role("button", name="登记核实结果").click()
    expect(page.locator(".messages")).to_contain_text("已转 郑州市总工会 主席处理")
    expect(page.locator("#sample-progress")).to_contain_text("1 / 1")
    snap(page, "recorded")
    assert_fits_phone(page)

    chair = second_browser(cathy)
    chair.goto("/aid/verification/cases/")
    assert_fits_phone(chair)
    chair.get_by_role("link", name=line.household.name).click()
    expect(chair.locator("#case-outcome")).to_contain_text("实收 600.00 元")
    chair.get_by_label("处理结果").fill("经查为代领人截留 400 元，已追回补发。")
    chair.get_by_role("button", name="办结").click()
    expect(chair.locator("#case-status")).to_contain_text("已办结")
    snap(chair, "closed")
    assert_fits_phone(chair)
    assert VerificationCase.objects.get().status == CaseStatus.CLOSED
