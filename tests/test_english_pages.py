"""Every page in English: no Chinese left outside the data.

Each persona switches the interface to English and opens every page the
permission walk knows (tests/test_permissions.py): the menu's pages for each
persona let in, and each id page with the object the walk builds for it.
What is Chinese data and what is an untranslated label is decided in
tests/english_text.py; this walk reads the page's HTML, text and the
attributes a reader sees or hears.
"""

from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from reports.generators import REGISTRY
from tests.builders import make_household
from tests.english_text import chinese_left, data_values, name_the_lists
from tests.test_permissions import PAGES, ROUTES, make_attachment, target_of

# Pages that answer with a file, not a page: the documents (their labels go
# through the same display names and catalogue), downloads and templates.
FILES = ("download", "bank_file", "template", "payment_sheet", "_pdf", "_xlsx")
DOCUMENTS = {f"reports:{name}" for name in REGISTRY}
# Attributes a reader sees or hears.
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-label")


@pytest.fixture
def people(alice, bob, carol, dave, erin, frank, ben, fay):
    return {p.username: p for p in (alice, bob, carol, dave, erin, frank, ben, fay)}


@pytest.fixture(autouse=True)
def _restore_language():
    before = translation.get_language()
    yield
    translation.activate(before)


class _Text(HTMLParser):
    """The text of a page as a reader meets it: text nodes (not scripts or
    styles) and the attributes that are shown or read out."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._chinese: list[str] = []  # open elements marked lang="zh-…"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if str(values.get("lang") or "").startswith("zh"):
            # The way back to Chinese is offered in Chinese, marked as such.
            self._chinese.append(tag)
        if tag in ("script", "style", "textarea"):
            self._skip += 1
        if tag == "input" and values.get("type") == "hidden":
            return
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "textarea") and self._skip:
            self._skip -= 1
        if self._chinese and self._chinese[-1] == tag:
            self._chinese.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._chinese and data.strip():
            self.parts.append(data.strip())


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def untranslated(html: str, data: list[str]) -> list[str]:
    return chinese_left(page_text(html), data)


def in_english(client: Any) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _is_file(name: str) -> bool:
    return name in DOCUMENTS or any(word in name for word in FILES)


def _is_page(response: Any) -> bool:
    return response.status_code == 200 and response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_every_page_in_english_shows_no_chinese_outside_the_data(client, people, household):
    # The objects of the id pages, each from a household of its own so that
    # one page's state does not stand in another's way.
    targets: list[tuple[str, str, Any]] = []
    for name, route in sorted(ROUTES.items()):
        if "GET" not in route.methods or _is_file(name):
            continue
        own = make_household(household.unit, name=f"Wang Fang {len(targets)}")
        if route.prepare is not None:
            route.prepare(own)
        obj = target_of(route, own, make_attachment(own))
        targets.append((name, route.user, obj))
    name_the_lists()
    data = data_values()

    in_english(client)
    failures: dict[str, list[str]] = {}
    visited = 0
    for name, username, obj in targets:
        client.force_login(people[username])
        response = client.get(reverse(name, args=[obj.pk]))
        if _is_page(response):
            visited += 1
            found = untranslated(response.content.decode(), data)
            if found:
                failures[f"{username} {name}"] = found
    for name, page in sorted(PAGES.items()):
        if "GET" not in page.methods or _is_file(name):
            continue
        for username in page.allowed or ("alice",):
            client.force_login(people[username])
            response = client.get(reverse(name))
            if _is_page(response):
                visited += 1
                found = untranslated(response.content.decode(), data)
                if found:
                    failures[f"{username} {name}"] = found
    assert visited > 80, visited
    report = "\n".join(
        f"{page}:\n    " + "\n    ".join(sorted(set(found))[:12])
        for page, found in sorted(failures.items())
    )
    assert not failures, f"Chinese left on {len(failures)} English pages:\n{report}"
