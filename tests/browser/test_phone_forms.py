"""On a phone, a form that comes back with errors says so at its top, names
every field at fault with a link to it, and shows the first one without the
caseworker having to hunt for it; a table wider than the screen shows that
it scrolls sideways."""

import re

import pytest
from playwright.sync_api import Page, expect

from cases.models import Household
from tests.browser.helpers import assert_fits_phone
from tests.browser.test_household_journey import fill_head, section
from tests.builders import make_id

pytestmark = pytest.mark.browser


def in_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def bad_id() -> str:
    good = make_id()
    return good[:17] + ("0" if good[17] != "0" else "1")


def test_a_bad_id_number_is_summarised_at_the_top_and_shown(
    page: Page, login_as, snap, alice, units
):
    login_as(alice)
    page.goto("/households/new/")
    fill_head(page, unit_pk=units["a1"].pk, id_number=bad_id())
    page.get_by_role("button", name="保存档案").click()

    summary = page.locator("[data-form-errors]")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("请修改下面标红的内容后再保存。")
    expect(summary.get_by_role("link", name="身份证号")).to_be_visible()
    expect(summary).to_contain_text("身份证号校验位错误")
    # The summary opens the form, above every section.
    form = page.locator("#household-form")
    first = form.locator("> *:not(input)").first
    expect(first).to_have_attribute("data-form-errors", "")
    id_input = section(page, "户主信息").get_by_label("身份证号")
    page.wait_for_function("() => document.readyState === 'complete'")
    assert in_viewport(page, id_input), "the first field with an error is off screen"
    assert in_viewport(page, summary), "the summary is off screen"
    snap(page, "summary")
    assert_fits_phone(page)
    assert not Household.objects.exists()


def test_an_error_far_down_the_form_is_scrolled_to_and_linked(page: Page, login_as, alice, units):
    login_as(alice)
    page.goto("/households/new/")
    fill_head(page, unit_pk=units["a1"].pk, id_number=make_id())
    bank = section(page, "收款账户与备注")
    bank.get_by_label("银行账号").fill("账号不是数字")
    page.get_by_role("button", name="保存档案").click()

    summary = page.locator("[data-form-errors]")
    expect(summary).to_contain_text("银行账号")
    account = bank.get_by_label("银行账号")
    page.wait_for_function("() => document.readyState === 'complete'")
    # A phone shows a screenful: the account field is far below the summary,
    # and it is the one brought into view.
    assert in_viewport(page, account), "the field with the error was not scrolled to"
    assert not in_viewport(page, summary)
    page.evaluate("window.scrollTo(0, 0)")
    assert not in_viewport(page, account)
    summary.get_by_role("link", name="银行账号").click()
    expect(account).to_be_focused()
    assert in_viewport(page, account)
    assert not Household.objects.exists()


def test_a_wide_table_says_it_scrolls_sideways(page: Page, login_as, snap, alice, units):
    """The statistics tables are wider than a phone: they scroll inside their
    box, which says so, and the page itself never scrolls sideways."""
    login_as(alice)
    page.goto("/reports/statistics/")
    page.wait_for_function("() => document.readyState === 'complete'")
    boxes = page.locator(".table-scroll")
    expect(boxes.first).to_be_attached()
    # Every box that holds more than it shows is marked, and no other.
    marks = boxes.evaluate_all(
        "els => els.map(el => [el.scrollWidth > el.clientWidth,"
        " el.classList.contains('overflowing')])"
    )
    assert any(wide for wide, _marked in marks), "no statistics table is wider than a phone"
    assert all(wide == marked for wide, marked in marks), marks
    wide = page.locator(".table-scroll.overflowing").first
    wide.scroll_into_view_if_needed()
    hint = wide.locator("xpath=preceding-sibling::p[1]")
    expect(hint).to_have_class(re.compile(r"\bscroll-hint\b"))
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("左右滑动查看")
    assert page.locator(".scroll-hint").count() == sum(1 for wide, _m in marks if wide)
    snap(page, "wide-table")
    # Swiping the box shows the rest of the table; the page stays put.
    wide.evaluate("el => el.scrollBy(1000, 0)")
    assert wide.evaluate("el => el.scrollLeft > 0")
    assert_fits_phone(page)
