"""Every URL of the project, walked with the personas.

For a URL that takes an object id: the caseworker of the object's county is
let in; a caseworker of another county gets 404 (so she cannot even learn the
record exists); someone without the role gets 403; nobody signed in is sent
to the login page. A refused request changes nothing and leaves no trace in
the audit trail. Every POST is refused without a CSRF token, even from the
person it would let in. The URL list comes from the resolver itself, so a new
URL without an entry below fails here instead of going untested.
"""

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AuditEvent
from cases.models import Attachment, Household
from tests.api import routes_tokens
from tests.builders import household_data, make_household, make_user
from tests.cases import routes_followup, routes_intake, routes_kin, routes_lifecycle
from tests.funds import routes_funds
from tests.permission_routes import Page, Route
from tests.programs import (
    routes_applications,
    routes_complaints,
    routes_conflicts,
    routes_loans,
    routes_money,
    routes_payments,
    routes_verification,
)
from tests.reports import (
    routes_audit,
    routes_civil,
    routes_documents,
    routes_imports,
    routes_jobs,
    routes_statistics,
    routes_todo,
)

SKIPPED_PREFIXES = ("admin/", "i18n/")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def walk(patterns: list[Any] | None = None, prefix: str = "", namespace: str = "") -> Iterator:
    """(route, qualified name, pattern) for every URL outside admin/ and i18n/."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith(SKIPPED_PREFIXES):
                continue
            inner = ":".join(n for n in (namespace, entry.namespace) if n)
            yield from walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else (entry.name or route)
            yield route, name, entry


def takes_pk(entry: URLPattern) -> bool:
    return "pk" in entry.pattern.regex.groupindex


# The API answers a token, not a session: tests/api/test_api_permissions.py
# walks its URLs with the same personas and fails on any it does not cover.
API_PREFIX = "api/"
API_URLS = sorted(name for route, name, _entry in walk() if route.startswith(API_PREFIX))
ID_URLS = sorted(
    name for route, name, entry in walk() if takes_pk(entry) and not route.startswith(API_PREFIX)
)
OTHER_URLS = sorted(
    name
    for route, name, entry in walk()
    if not takes_pk(entry) and not route.startswith(API_PREFIX)
)


# -- objects the id URLs point at ---------------------------------------------


def make_attachment(household: Household, content: bytes = PDF) -> Attachment:
    attachment = Attachment(
        household=household,
        kind="id_card",
        original_name="身份证.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    attachment.file.save("id.pdf", ContentFile(content), save=False)
    attachment.save()
    return attachment


def edit_payload(household: Household) -> dict[str, Any]:
    data = household_data(
        name="王秀兰（已更正）",
        id_number=household.id_number,
        unit=household.unit_id,
        employment_status=household.employment_status,
    )
    data.update({"members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"})
    return data


def upload_payload(_household: Household) -> dict[str, Any]:
    return {"kind": "wages", "file": SimpleUploadedFile("工资证明.pdf", PDF, "application/pdf")}


def state(household: Household) -> tuple:
    """What a user would see change: the file, its attachments, the trail."""
    row = Household.objects.filter(pk=household.pk).values("name", "phone", "unit_id").first()
    attachments = sorted(Attachment.objects.filter(household=household).values_list("pk"))
    return row, attachments, AuditEvent.objects.count()


def _detail_shown(response: Any, household: Household, _a: Any) -> None:
    assert response.status_code == 200
    assert household.name in response.content.decode()


def _edit_form_or_saved(response: Any, household: Household, _a: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="household-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:3000]
        household.refresh_from_db()
        assert household.name == "王秀兰（已更正）"


def _revealed(response: Any, household: Household, _a: Any) -> None:
    assert response.status_code == 200
    assert household.id_number in response.content.decode()


def _uploaded(response: Any, household: Household, _a: Any) -> None:
    assert response.status_code == 302
    assert household.attachments.filter(original_name="工资证明.pdf").exists()


def _downloaded(response: Any, _h: Household, _a: Any) -> None:
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def _deleted(response: Any, _h: Household, attachment: Attachment) -> None:
    assert response.status_code == 302
    assert not Attachment.objects.filter(pk=attachment.pk).exists()


VIEWERS_WITHOUT_ROLE = ("frank",)  # an admin: no role that reads household files
EDITORS_WITHOUT_ROLE = ("erin", "dave")  # auditor and finance: may read, not edit

CORE_ROUTES: dict[str, Route] = {
    "cases:household_detail": Route(
        "household", ("GET",), VIEWERS_WITHOUT_ROLE, allowed=_detail_shown
    ),
    "cases:household_edit": Route(
        "household",
        ("GET", "POST"),
        EDITORS_WITHOUT_ROLE,
        payload=edit_payload,
        allowed=_edit_form_or_saved,
    ),
    # Reading a full value takes a role that sees unmasked data: an auditor
    # without that grant is refused like someone with no role at all.
    "cases:household_reveal": Route(
        "household",
        ("POST",),
        (*VIEWERS_WITHOUT_ROLE, "erin"),
        payload=lambda h: {"field": "id_number"},
        allowed=_revealed,
    ),
    "cases:attachment_upload": Route(
        "household", ("POST",), EDITORS_WITHOUT_ROLE, payload=upload_payload, allowed=_uploaded
    ),
    "cases:attachment_download": Route(
        "attachment", ("GET",), (*VIEWERS_WITHOUT_ROLE, "erin"), allowed=_downloaded
    ),
    "cases:attachment_delete": Route(
        "attachment", ("POST",), EDITORS_WITHOUT_ROLE, payload=lambda h: {}, allowed=_deleted
    ),
}

ROUTES: dict[str, Route] = {
    **CORE_ROUTES,
    **routes_intake.ROUTES,
    **routes_followup.ROUTES,
    **routes_lifecycle.ROUTES,
    **routes_funds.ROUTES,
    **routes_applications.ROUTES,
    **routes_payments.ROUTES,
    **routes_loans.ROUTES,
    **routes_money.ROUTES,
    **routes_verification.ROUTES,
    **routes_complaints.ROUTES,
    **routes_conflicts.ROUTES,
    **routes_jobs.ROUTES,
    **routes_documents.ROUTES,
    **routes_imports.ROUTES,
    **routes_statistics.ROUTES,
    **routes_todo.ROUTES,
    **routes_civil.ROUTES,
    **routes_audit.ROUTES,
    **routes_tokens.ROUTES,
}


def test_every_id_url_is_covered_by_this_test():
    assert ID_URLS, "the resolver walk found no URL with a pk"
    missing = sorted(set(ID_URLS) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(ID_URLS))
    assert not missing, f"URLs with an object id and no entry in ROUTES: {missing}"
    assert not stale, f"ROUTES names URLs that no longer exist: {stale}"


@pytest.fixture
def people(alice, bob, carol, dave, erin, frank, ben, fay):
    return {p.username: p for p in (alice, bob, carol, dave, erin, frank, ben, fay)}


def target_of(route: Route, household: Household, attachment: Attachment) -> Any:
    if route.target == "household":
        return household
    if route.target == "attachment":
        return attachment
    assert callable(route.target)
    return route.target(household)


def _request(client: Any, method: str, url: str, route: Route, household: Household) -> Any:
    data = route.payload(household) if route.payload and method == "POST" else {}
    return client.get(url) if method == "GET" else client.post(url, data)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", ID_URLS)
def test_id_url_three_personas(client, people, household, name, method):
    route = ROUTES.get(name)
    if route is None:
        pytest.fail(f"{name} takes an object id but has no entry in ROUTES")
    if route.prepare is not None:
        route.prepare(household)
    attachment = make_attachment(household)
    obj = target_of(route, household, attachment)
    url = reverse(name, args=[obj.pk])

    if method not in route.methods:
        client.force_login(people[route.user])
        assert client.generic(method, url).status_code == 405
        return

    before = state(household)
    response = _request(client, method, url, route, household)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert state(household) == before

    for username, expected in [(route.outsider, 404)] + [(u, 403) for u in route.refused]:
        client.force_login(people[username])
        before = state(household)  # signing in is itself an audit event
        response = _request(client, method, url, route, household)
        assert response.status_code == expected, f"{username} {method} {url}"
        assert state(household) == before, f"{username}'s refused {method} changed something"

    client.force_login(people[route.user])
    response = _request(client, method, url, route, household)
    assert 200 <= response.status_code < 400, (
        f"{route.user} {method} {url}: {response.status_code} {response.content[:1500]!r}"
    )
    route.allowed(response, household, obj)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["cases:household_detail", "cases:household_edit"])
def test_unknown_or_huge_id_is_not_found(as_user, alice, name):
    client = as_user(alice)
    for pk in (999999, 2**63 + 10):
        assert client.get(reverse(name, args=[pk])).status_code == 404


@pytest.mark.django_db
def test_another_countys_household_is_refused_for_every_id_url(client, people, units):
    """The mirror image: county A's people reaching into county B get 404."""
    for name, route in ROUTES.items():
        theirs = make_household(units["b"], name="赵铁柱")
        if route.prepare is not None:
            route.prepare(theirs)
        obj = target_of(route, theirs, make_attachment(theirs))
        client.force_login(people[route.user])
        before = state(theirs)
        for method in route.methods:
            response = _request(client, method, reverse(name, args=[obj.pk]), route, theirs)
            assert response.status_code == 404, f"{route.user} {method} {name}"
        assert state(theirs) == before


# -- URLs without an object id ------------------------------------------------


CORE_PAGES: dict[str, Page] = {
    "home": Page(("GET",), ("alice", "erin", "frank"), ()),
    "cases:household_list": Page(("GET",), ("alice", "bob", "carol", "dave", "erin"), ("frank",)),
    "cases:household_create": Page(("GET", "POST"), ("alice", "carol"), ("erin", "dave", "frank")),
    "cases:member_form_row": Page(("GET",), ("alice", "carol"), ("erin", "dave", "frank")),
    "accounts:audit_list": Page(("GET",), ("erin", "frank"), ("alice", "bob", "dave")),
    "accounts:password_change": Page(("GET", "POST"), ("alice", "frank"), ()),
    "accounts:password_change_done": Page(("GET",), ("alice",), ()),
    "accounts:login": Page(("GET", "POST"), (), (), login_required=False),
    "accounts:logout": Page(("POST",), ("alice",), (), login_required=False),
    # Signed in fully (force_login includes the second factor) or not needing
    # one, these pages send the person on; the OTP tests walk them properly.
    "accounts:otp_verify": Page(("GET", "POST"), ("alice", "carol"), ()),
    "accounts:otp_enroll": Page(("GET", "POST"), ("alice", "dave"), ()),
    "accounts:otp_recovery": Page(("GET", "POST"), ("carol", "frank"), ("alice", "erin")),
}

PAGES: dict[str, Page] = {
    **CORE_PAGES,
    **routes_intake.PAGES,
    **routes_followup.PAGES,
    **routes_lifecycle.PAGES,
    **routes_kin.PAGES,
    **routes_funds.PAGES,
    **routes_applications.PAGES,
    **routes_payments.PAGES,
    **routes_loans.PAGES,
    **routes_money.PAGES,
    **routes_verification.PAGES,
    **routes_complaints.PAGES,
    **routes_conflicts.PAGES,
    **routes_jobs.PAGES,
    **routes_documents.PAGES,
    **routes_imports.PAGES,
    **routes_statistics.PAGES,
    **routes_todo.PAGES,
    **routes_civil.PAGES,
    **routes_audit.PAGES,
    **routes_tokens.PAGES,
}


def test_every_other_url_is_covered_by_this_test():
    missing = sorted(set(OTHER_URLS) - set(PAGES))
    stale = sorted(set(PAGES) - set(OTHER_URLS))
    assert not missing, f"URLs with no entry in PAGES: {missing}"
    assert not stale, f"PAGES names URLs that no longer exist: {stale}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", OTHER_URLS)
def test_page_roles(client, people, name):
    page = PAGES.get(name)
    if page is None:
        pytest.fail(f"{name} has no entry in PAGES")
    url = reverse(name)
    for method in page.methods:
        response = client.generic(method, url)
        if page.login_required:
            assert response.status_code == 302, f"anonymous {method} {name}"
            assert response["Location"].startswith(reverse("accounts:login"))
        else:
            assert 200 <= response.status_code < 400, f"anonymous {method} {name}"
    for username in page.refused:
        client.force_login(people[username])
        for method in page.methods:
            assert client.generic(method, url).status_code == 403, f"{username} {method} {name}"
    for username in page.allowed:
        client.force_login(people[username])
        for method in ("GET", "POST"):
            status = client.generic(method, url).status_code
            if method in page.methods:
                assert 200 <= status < 400, f"{username} {method} {name}: {status}"
            else:
                assert status == 405, f"{username} {method} {name}: {status}"
            client.force_login(people[username])  # logout ends the session


@pytest.mark.django_db
def test_list_shows_each_caseworker_only_her_own_county(
    as_user, alice, bob, household, other_household
):
    page = as_user(alice).get(reverse("cases:household_list")).content.decode()
    assert household.name in page and other_household.name not in page
    page = as_user(bob).get(reverse("cases:household_list")).content.decode()
    assert other_household.name in page and household.name not in page


@pytest.mark.django_db
def test_home_sends_each_role_to_its_work(as_user, alice, erin, frank, units):
    assert as_user(alice).get(reverse("home"))["Location"] == reverse("cases:household_list")
    assert as_user(frank).get(reverse("home"))["Location"] == reverse("accounts:audit_list")
    nobody = make_user("nobody")
    response = as_user(nobody).get(reverse("home"))
    assert response.status_code == 200
    assert "没有可用的业务角色" in response.content.decode()


# -- CSRF ---------------------------------------------------------------------


def _posted(name: str) -> bool:
    entry = ROUTES.get(name) or PAGES.get(name)
    return entry is not None and "POST" in entry.methods


POST_URLS = sorted(name for name in (*ID_URLS, *OTHER_URLS) if _posted(name))


def row_counts() -> dict[str, int]:
    """How many rows every table holds (sessions aside: signing in makes one)."""
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label not in ("sessions", "axes")
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", POST_URLS)
def test_post_without_csrf_token_is_refused(people, household, name):
    """The person the walk above lets in, sending the very payload it accepts
    there, but from a page of another site: no token, so 403 and no change."""
    client = Client(enforce_csrf_checks=True)
    data: dict[str, Any] = {}
    if name in ROUTES:
        route = ROUTES[name]
        if route.prepare is not None:
            route.prepare(household)
        obj = target_of(route, household, make_attachment(household))
        url = reverse(name, args=[obj.pk])
        username: str | None = route.user
        data = route.payload(household) if route.payload else {}
    else:
        page = PAGES[name]
        url = reverse(name)
        username = page.allowed[0] if page.allowed else None
        if name == "accounts:login":
            data = {"username": "alice", "password": "pw-alice"}
    if username is not None:
        client.force_login(people[username])
    before = (state(household), row_counts())
    response = client.post(url, data)
    assert response.status_code == 403, f"{username} POST {name} without a token"
    assert (state(household), row_counts()) == before
    if name == "accounts:login":
        assert "_auth_user_id" not in client.session
