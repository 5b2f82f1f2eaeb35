"""A complaint on a phone: alice records what a worker said on the phone
from the household's page; carol, the chair, answers and closes it; the
statistics page shows it closed on time."""

import pytest
from playwright.sync_api import expect

from cases import clock
from programs.models import Complaint
from tests.browser.helpers import assert_fits_phone
from tests.builders import make_household

pytestmark = pytest.mark.browser


def test_caseworker_records_and_chair_closes_a_complaint(login_as, page, units, alice, carol, snap):
    clock.reset()
    household = make_household(units["a1"], name="王秀兰")
    login_as(alice)
    page.goto(f"/households/{household.pk}/")
    page.get_by_role("link", name="登记投诉或意见").click()
    page.get_by_label("投诉类别").select_option("amount")
    page.get_by_label("投诉渠道").select_option("phone")
    page.get_by_label("投诉人姓名").fill("王秀兰")
    page.get_by_label("投诉人联系方式").fill("13812345678")
    page.get_by_label("投诉内容").fill("春节慰问金比邻居少 200 元")
    assert_fits_phone(page)
    page.get_by_role("button", name="受理登记").click()
    expect(page.locator(".messages")).to_contain_text("已受理投诉")
    expect(page.locator("#complaint-owner")).to_have_text("陈红")
    assert_fits_phone(page)

    complaint = Complaint.objects.get()
    page.context.clear_cookies()
    login_as(carol)
    page.goto("/aid/complaints/")
    page.get_by_role("link", name=f"#{complaint.pk}").click()
    page.locator("#close-form").get_by_label("办理结论").select_option("partly")
    page.locator("#close-form").get_by_label("答复意见").fill("经核实少发 200 元，已补发")
    assert_fits_phone(page)
    page.locator("#close-form").get_by_role("button", name="办结").click()
    expect(page.locator("#complaint-status")).to_have_text("已办结")
    expect(page.locator("#complaint-deadline")).to_contain_text("按期办结")
    expect(page.locator("#complaint-history")).to_contain_text("办结，结论：部分成立。")
    snap(page, "closed")
    assert_fits_phone(page)
    page.goto("/aid/complaints/statistics/")
    expect(page.locator("#by-unit")).to_contain_text("郑州纺织厂工会")
    assert_fits_phone(page)
