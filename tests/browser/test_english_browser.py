"""In English, what a person sees holds no Chinese outside the data.

Each role signs in, switches the language with the ☰ menu's switch, then
opens every link of the menu and the pages of a household, an application
and a fund. On each page the menu is opened too, and the visible text
(`document.body.innerText`: what the browser renders, scripts' additions
included) may hold Chinese only in stored data values (tests/english_text.py)
and in the switch back, “中文”.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from cases import clock
from cases.models import HouseholdStatus, Tier
from funds import services as ledger
from programs.models import Application, ApplicationStatus, Program, StandardAmount
from tests.builders import make_household
from tests.english_text import chinese_left, data_values, name_the_lists
from tests.otp_support import pass_second_factor

pytestmark = pytest.mark.browser

# The way back to Chinese is offered in Chinese.
SWITCH_BACK = "中文"


@pytest.fixture
def details(units, alice, dave, seeded_lists):
    """A filed household with a pending application and a county fund."""
    tier = Tier.objects.order_by("sort_order").first()
    household = make_household(
        units["a1"],
        name="王秀兰",
        tier=tier,
        status=HouseholdStatus.FILED,
        filed_on=clock.today(),
        bank_name="中国工商银行",
        bank_account="6222021234567890123",
    )
    fund = ledger.fund_create(actor=dave, unit=units["a"], name="春节送温暖专项", year=2027)
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="50000",
        memo="区财政拨款",
    )
    program = Program.objects.create(
        unit=units["city"], name="春节送温暖", category="festival", kind="cash"
    )
    program.funds.add(fund)
    StandardAmount.objects.create(program=program, tier=tier, amount=Decimal("800"))
    application = Application.objects.create(
        program=program,
        household=household,
        year=clock.today().year,
        status=ApplicationStatus.PENDING,
        standard_amount=Decimal("800"),
        amount=Decimal("800"),
        drafted_by=alice,
        reason="家中老人住院，医药费负担重",
    )
    return [
        reverse("cases:household_detail", args=[household.pk]),
        reverse("programs:application_detail", args=[application.pk]),
        reverse("funds:fund_detail", args=[fund.pk]),
    ]


def _sign_in(browser: Browser, base_url: str, user) -> Page:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=base_url,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("pw-" + user.username)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    pass_second_factor(page, user)
    return page


def _open_menu(page: Page) -> None:
    menu = page.locator("#main-menu")
    if not menu.evaluate("el => el.open"):
        menu.locator("summary").click()
    expect(menu.locator("nav")).to_be_visible()


def _visible_text(page: Page) -> str:
    """The page as shown, with its menu open."""
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _open_menu(page)
    return page.evaluate("() => document.body.innerText")


@pytest.mark.parametrize("role", ["alice", "carol", "dave", "erin", "frank"])
def test_every_role_sees_english_on_every_menu_page(
    browser: Browser, live_server, details, request, role
):
    """One role per test, so the roles' walks share the test workers."""
    user = request.getfixturevalue(role)
    name_the_lists()
    data = data_values()
    failures: dict[str, list[str]] = {}
    visited = 0

    def check(page: Page) -> None:
        nonlocal visited
        visited += 1
        found = chinese_left(_visible_text(page), data, allowed=[SWITCH_BACK])
        if found:
            failures[page.url.removeprefix(live_server.url)] = found

    page = _sign_in(browser, live_server.url, user)
    # The switch, as a person uses it: open ☰, tap “English”.
    page.get_by_label("菜单").click()
    page.get_by_role("navigation", name="站内导航").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check(page)

    links = page.locator("#main-menu nav a").evaluate_all(
        "els => els.map(a => a.getAttribute('href'))"
    )
    assert len(links) >= 4, f"{role}: only {links} in the menu"
    for href in links:
        _open_menu(page)
        page.locator(f'#main-menu nav a[href="{href}"]').click()
        expect(page).to_have_url(re.compile(re.escape(href.split("?")[0])))
        check(page)
    for url in details:
        page.goto(url)
        check(page)
    page.context.close()

    assert visited == len(links) + len(details) + 1, visited
    report = "\n".join(
        f"{where}:\n    " + "\n    ".join(sorted(set(found))[:12])
        for where, found in sorted(failures.items())
    )
    assert not failures, f"{role}: Chinese left on {len(failures)} English pages:\n{report}"
