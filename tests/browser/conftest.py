"""Playwright against the live server, on a phone-sized screen.

One Chromium (the system's, not Playwright's download) serves every browser
test; each test gets a fresh browser context, so no cookie or session leaks
from one persona to the next. Set BROWSER_SCREENSHOT_DIR to keep full-page
screenshots of the pages a test calls `snap` on.
"""

import importlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from accounts.models import User
from tests.otp_support import pass_second_factor

PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Playwright and Chromium, started once for all browser tests.

    Playwright's sync API keeps an event loop running in the main thread for
    as long as it lives. Django then refuses ORM calls from the test code
    (which is in fact synchronous, hence DJANGO_ALLOW_ASYNC_UNSAFE), and
    asgiref hands the thread a different database connection than the one the
    test database was set up on. Package scope ends all that with the last
    browser test instead of letting it reach into the rest of the suite.
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Browser tests need the system Chromium: sudo apt-get install chromium")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
            connections.close_all()  # the ones opened while the loop ran
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(autouse=True)
def default_lists(browser: Browser, transactional_db: None) -> None:
    """The default tiers and causes, as migration 0002 seeds them.

    The live server needs a transactional database, which is flushed after
    every test and takes the seeded rows with it. Serialized rollback cannot
    bring them back here: the contents are saved on the connection the
    database was set up on, which is not the one the test sees while
    Playwright's loop runs (see `browser`).
    """
    seed = importlib.import_module("cases.migrations.0002_seed_default_tiers_and_causes")
    seed.seed_defaults(apps, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    # Lets the page fixture see whether the test body failed.
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, live_server, request, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=live_server.url,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the page at failure: {shot}")
    context.close()


@pytest.fixture
def login_as(page: Page) -> Callable[[User], Page]:
    """Sign in through the real login form, as a person would."""

    def _login(user: User) -> Page:
        page.goto("/accounts/login/")
        page.get_by_label("用户名").fill(user.username)
        page.get_by_label("密码").fill("pw-" + user.username)
        page.get_by_role("button", name="登录").click()
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
        pass_second_factor(page, user)
        return page

    return _login


@pytest.fixture
def snap(request) -> Callable[[Page, str], None]:
    """Keep a full-page screenshot when BROWSER_SCREENSHOT_DIR is set."""
    target = os.environ.get("BROWSER_SCREENSHOT_DIR")

    def _snap(page: Page, name: str) -> None:
        if not target:
            return
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{request.node.name}-{name}.png"), full_page=True)

    return _snap


@pytest.fixture
def second_browser(browser: Browser, live_server) -> Iterator[Callable[[User], Page]]:
    """Another phone, for a second person signed in at the same time."""
    contexts = []

    def _open(user: User) -> Page:
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            base_url=live_server.url,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("用户名").fill(user.username)
        page.get_by_label("密码").fill("pw-" + user.username)
        page.get_by_role("button", name="登录").click()
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
        pass_second_factor(page, user)
        return page

    yield _open
    for context in contexts:
        context.close()
