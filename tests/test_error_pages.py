"""The product's own 404, 403 and 500 pages, under the settings `make run`
uses: a changed id in the address bar never shows Django's English debug
page with its list of every URL."""

import importlib
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path, reverse

from tests.builders import make_household

ROOT = Path(__file__).resolve().parent.parent
LOCAL = importlib.import_module("config.settings.local")


def boom(request):
    raise RuntimeError("something broke")


def denied(request):
    raise PermissionDenied("提交该档案的人员不能自己评定。")


# The project's URLs plus one view that fails: the 500 page is rendered for it.
urlpatterns = [
    path("boom/", boom),
    path("denied/", denied),
    *importlib.import_module("config.urls").urlpatterns,
]


def test_make_run_serves_with_the_local_settings():
    makefile = (ROOT / "Makefile").read_text()
    runserver = next(line for line in makefile.splitlines() if "runserver" in line)
    assert "DJANGO_SETTINGS_MODULE=config.settings.local" in runserver
    assert LOCAL.DEBUG is False
    assert {"localhost", "127.0.0.1"} <= set(LOCAL.ALLOWED_HOSTS)


def _debug_page(html: str) -> bool:
    return "URLconf" in html or "Using the URLconf" in html or "Traceback" in html


@pytest.fixture
def as_local(settings):
    """What differs in config.settings.local from the test settings."""
    settings.DEBUG = LOCAL.DEBUG
    settings.WHITENOISE_USE_FINDERS = LOCAL.WHITENOISE_USE_FINDERS
    settings.WHITENOISE_AUTOREFRESH = LOCAL.WHITENOISE_AUTOREFRESH


@pytest.mark.django_db
def test_an_unknown_id_shows_the_products_404(as_local, as_user, alice, units):
    household = make_household(units["a1"])
    client = as_user(alice)
    for url in (
        reverse("cases:household_detail", args=[household.pk + 1000]),
        "/households/no-such-page/",
        "/nothing-here/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        html = response.content.decode()
        assert "找不到这个页面" in html and "返回首页" in html
        assert 'href="/static/css/app.css"' in html  # styled like every page
        assert not _debug_page(html)
        assert "cases:household_list" not in html and "households/<int:pk>" not in html


@pytest.mark.django_db
def test_a_refused_page_shows_the_products_403(as_local, as_user, frank):
    response = as_user(frank).get(reverse("cases:household_list"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "您没有权限访问这个页面" in html and "返回首页" in html
    assert not _debug_page(html)


@pytest.mark.django_db
def test_a_failing_view_shows_the_products_500(as_local, settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "系统暂时出错了" in html and 'href="/"' in html
    assert "something broke" not in html and not _debug_page(html)


@pytest.mark.django_db
def test_static_files_are_served_without_debug(as_local):
    # A fresh client builds the middleware afresh, with the settings above.
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b".menu nav" in body


@pytest.mark.django_db
def test_the_403_page_says_why_when_the_refusal_does(as_local, settings):
    """A service's own refusal (the submitter deciding her own case) reaches
    the person in words."""
    settings.ROOT_URLCONF = __name__
    response = Client().get("/denied/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "您没有权限访问这个页面" in html and "提交该档案的人员不能自己评定。" in html
