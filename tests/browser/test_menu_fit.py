"""The ☰ menu fits any screen: every role reaches 退出登录 and the language
switch, on a laptop (1280×800) and on a phone (390×844).

Each role's menu has a different length (a chair's is the longest); the
links scroll inside the menu and the account actions stay in view below
them, so a long menu never pushes 退出登录 off the screen.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role
from cases.models import HouseholdStatus
from tests.builders import make_household, make_unit, make_user

pytestmark = pytest.mark.browser

SCREENS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def screen_page(browser: Browser, live_server, request):
    contexts = []

    def _open(size: dict[str, int], *, phone: bool) -> Page:
        context = browser.new_context(
            viewport=size,
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
            locale="zh-CN",
            base_url=live_server.url,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def in_viewport(page: Page, selector_or_locator) -> bool:
    box = selector_or_locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (
        box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("role", Role.values)
def test_every_role_reaches_sign_out_and_the_language_switch(
    screen_page, settings, snap, role, screen
):
    # The second factor has its own tests; here only the menu is at stake.
    settings.OTP_REQUIRED_ROLES = []
    city = make_unit("410100", "郑州市总工会", kind="city")
    county = make_unit("410105", "金水区总工会", parent=city)
    user = make_user(f"u_{role}", county, role, full_name="测试用户", is_staff=role == Role.ADMIN)
    page = screen_page(SCREENS[screen], phone=screen == "phone")

    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("pw-" + user.username)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_label("菜单").click()
    menu = page.get_by_role("navigation", name="站内导航")
    expect(menu).to_be_visible()
    # The menu itself never runs past the bottom of the screen.
    box = menu.bounding_box()
    assert box is not None and box["y"] + box["height"] <= SCREENS[screen]["height"]
    snap(page, "menu-open")

    language = menu.get_by_role("button", name="English")
    language.scroll_into_view_if_needed()
    expect(language).to_be_visible()
    assert in_viewport(page, language), f"{role} on {screen}: language switch off screen"
    sign_out = menu.get_by_role("button", name="退出登录")
    sign_out.scroll_into_view_if_needed()
    assert in_viewport(page, sign_out), f"{role} on {screen}: 退出登录 off screen"

    sign_out.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_label("菜单")).to_have_count(0)


def test_the_longest_menu_scrolls_inside_itself_on_a_phone(screen_page, settings):
    """A chair who also keeps the books and administers the system has every
    link there is: the links scroll, 退出登录 stays where the thumb is."""
    settings.OTP_REQUIRED_ROLES = []
    city = make_unit("410100", "郑州市总工会", kind="city")
    user = make_user("everything", city, *Role.values, is_staff=True)
    make_household(city, name="等评定", status=HouseholdStatus.DISCUSSED)
    page = screen_page({"width": 390, "height": 600}, phone=True)
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("pw-" + user.username)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_label("菜单").click()
    # Opening the menu fetches the 待办 count beside its link.
    expect(page.get_by_role("link", name=re.compile("待办"))).to_contain_text("1")
    links = page.locator(".menu-links")
    scrolls = links.evaluate("el => el.scrollHeight > el.clientHeight")
    assert scrolls, "the longest menu should scroll inside itself on a short phone screen"
    sign_out = page.get_by_role("button", name="退出登录")
    assert in_viewport(page, sign_out)
    # The last link is reached by scrolling the menu, not the page.
    last = links.get_by_role("link").last
    last.scroll_into_view_if_needed()
    assert in_viewport(page, last)
    assert in_viewport(page, sign_out)
