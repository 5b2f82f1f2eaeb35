"""A helper logs a follow-up visit on a phone at the door.

alice is the first helper of a filed household she has not visited for four
months: 我的帮扶户 shows it overdue; she opens 记录走访, ticks the six knowns,
takes a photo, saves, and finds the visit on the household page and the
household no longer overdue.
"""

import io

import pytest
from PIL import Image
from playwright.sync_api import FilePayload, Page, expect

from cases import clock
from cases.models import Visit
from tests.browser.helpers import assert_fits_phone, helper_scene

pytestmark = pytest.mark.browser

KNOWNS = ("知道姓名", "知道住址", "知道电话", "知道配偶情况", "知道子女就学", "知道家庭大事")


def photo_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def paired(transactional_db):
    alice, household, _county = helper_scene()
    yield alice, household
    clock.reset()


def open_menu_item(page: Page, name: str) -> None:
    page.get_by_label("菜单").click()
    page.get_by_role("link", name=name).click()


def test_helper_logs_a_visit_with_photo_on_a_phone(page: Page, login_as, paired, snap):
    alice, household = paired
    login_as(alice)

    open_menu_item(page, "我的帮扶户")
    expect(page.get_by_role("heading", name="我的帮扶户")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="王秀兰")
    expect(row.get_by_text("逾期")).to_be_visible()
    assert_fits_phone(page)
    snap(page, "my-households-overdue")

    row.get_by_role("link", name="记录走访").click()
    expect(page.get_by_role("heading", name="记录走访")).to_be_visible()
    expect(page.get_by_label("走访日期")).to_have_value(clock.today().isoformat())
    expect(page.get_by_label("入户走访")).to_be_checked()
    page.get_by_label("医院探望").check()
    for label in KNOWNS:
        page.get_by_label(label).check()
    page.get_by_label("发现的需求").fill("住院押金不足，孩子开学缺学费")
    page.get_by_label("已提供的帮助").fill("送去慰问金，联系医疗互助")
    camera = page.locator('input[type="file"]')
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("accept") == "image/*"
    shot: FilePayload = {"name": "camera.png", "mimeType": "image/png", "buffer": photo_png()}
    camera.set_input_files(shot)
    assert_fits_phone(page)
    snap(page, "visit-form")
    page.get_by_role("button", name="保存走访").click()

    expect(page.get_by_text("走访记录已保存。")).to_be_visible()
    panel = page.locator("#followup")
    expect(panel.get_by_text("住院押金不足，孩子开学缺学费")).to_be_visible()
    expect(panel.get_by_text("六知道 6/6")).to_be_visible()
    expect(panel.get_by_text("医院探望")).to_be_visible()
    expect(panel.get_by_role("link", name="照片 1")).to_be_visible()
    expect(panel.get_by_text("走访逾期")).to_have_count(0)
    assert_fits_phone(page)
    snap(page, "household-after-visit")

    visit = Visit.objects.get(household=household, is_intake=False)
    assert visit.photos.count() == 1

    open_menu_item(page, "我的帮扶户")
    row = page.get_by_role("row").filter(has_text="王秀兰")
    expect(row).to_be_visible()
    expect(row.get_by_text("逾期")).to_have_count(0)
    assert_fits_phone(page)
