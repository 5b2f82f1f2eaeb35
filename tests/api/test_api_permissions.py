"""Every URL under /api/v1/, walked with the personas and a token each.

As the web walk (tests/test_permissions.py), whose resolver walk lists the
API's URLs too: an object of the caseworker's county is let in; the same
role in another county gets 404; someone without the role 403; no token 401.
A refused call changes nothing but leaves its one audit row (every call
with a token does). Every answer is checked against the OpenAPI schema."""

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from cases.models import Household, Visit
from programs.models import Application
from tests.api.conftest import Api, key_for
from tests.api.routes_api import PAGES, ROUTES, WRITERS
from tests.builders import make_household, make_user
from tests.test_permissions import API_URLS, takes_pk, walk

ID_URLS = sorted(n for r, n, e in walk() if n in API_URLS and takes_pk(e))
OTHER_URLS = sorted(n for r, n, e in walk() if n in API_URLS and not takes_pk(e))


def test_every_api_url_is_covered():
    assert ID_URLS and OTHER_URLS, "the resolver walk found no API URL"
    assert sorted(set(ID_URLS) - set(ROUTES)) == [], "API URLs with an id and no entry"
    assert sorted(set(OTHER_URLS) - set(PAGES)) == [], "API URLs without an entry"
    assert sorted(set(ROUTES) - set(ID_URLS)) == [], "entries for URLs that no longer exist"
    assert sorted(set(PAGES) - set(OTHER_URLS)) == [], "entries for URLs that no longer exist"


@pytest.fixture
def people(alice, bob, carol, dave, erin, frank, ben, fay):
    everyone = [alice, bob, carol, dave, erin, frank, ben, fay, make_user("nobody")]
    return {p.username: p for p in everyone}


@pytest.fixture
def clients(people):
    """A client with a token for each persona, made up front (making a
    token is itself an audit event)."""
    made = {username: Api(key_for(person)) for username, person in people.items()}

    def _for(username: str | None) -> Api:
        return Api() if username is None else made[username]

    return _for


def state(household: Household) -> tuple:
    """What a refused call must leave alone: the file, its visits and
    applications, and every audit row but the calls' own."""
    row = Household.objects.filter(pk=household.pk).values("name", "status", "unit_id").first()
    return (
        row,
        Visit.objects.filter(household=household).count(),
        Application.objects.filter(household=household).count(),
        AuditEvent.objects.exclude(action="api.call").count(),
    )


def calls_of(username: str) -> int:
    return AuditEvent.objects.filter(action="api.call", actor__username=username).count()


def _call(client: Api, method: str, url: str, payload: Any) -> Any:
    return client.call(method, url, payload)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ID_URLS)
def test_api_id_url_three_personas(clients, people, household, name):
    route = ROUTES[name]
    obj = route.target(household)
    url = reverse(name, args=[obj.pk])
    for method in route.methods:
        payload = route.payload(household) if route.payload else None
        before = state(household)
        assert _call(clients(None), method, url, payload).status_code == 401
        for username, expected in [(route.outsider, 404)] + [(u, 403) for u in route.refused]:
            calls = calls_of(username)
            response = _call(clients(username), method, url, payload)
            assert response.status_code == expected, f"{username} {method} {url}"
            assert response.json()["detail"], "a refusal says why"
            assert state(household) == before, f"{username}'s refused {method} changed something"
            assert calls_of(username) == calls + 1, "every call leaves one audit row"
        response = _call(clients(route.user), method, url, payload)
        assert response.status_code == 200, f"{route.user} {method} {url}: {response.content!r}"
        if route.allowed is not None:
            route.allowed(response.json(), household, obj)
    other = ({"GET", "POST"} - set(route.methods)).pop()
    user = clients(route.user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {user.key}"}
    assert user.client.generic(other, url, **auth).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("name", ID_URLS)
def test_api_another_countys_object_is_not_found(clients, units, name):
    """The mirror image: the persona let in above, reaching into county B."""
    route = ROUTES[name]
    theirs = make_household(units["b"], name="赵铁柱")
    obj = route.target(theirs)
    url = reverse(name, args=[obj.pk])
    for method in route.methods:
        payload = route.payload(theirs) if route.payload else None
        before = state(theirs)
        assert _call(clients(route.user), method, url, payload).status_code == 404
        assert state(theirs) == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", OTHER_URLS)
def test_api_page_roles(client, clients, people, household, name):
    page = PAGES[name]
    url = reverse(name) if name != "api:not_found" else "/api/v1/no-such-thing/"
    if name == "api:docs":
        # A page for a browser: the signed-in session, not a token.
        assert client.get(url).status_code == 302
        client.force_login(people["alice"])
        response = client.get(url)
        assert response.status_code == 200
        assert b"swagger-ui" in response.content and b"cdn" not in response.content.lower()
        return
    for method in page.methods:
        payload = page.payload(household) if page.payload and method == "POST" else None
        assert _call(clients(None), method, url, payload).status_code == page.anonymous
        for username in page.refused:
            response = _call(clients(username), method, url, payload)
            assert response.status_code == 403, f"{username} {method} {name}"
    if name == "api:not_found":
        response = clients("alice").get(url)
        assert response.status_code == 404 and response.json()["detail"]
        return
    row = page.row(household) if page.row else None
    for username in page.allowed:
        response = clients(username).get(url)
        assert response.status_code == 200, f"{username} GET {name}: {response.content!r}"
        if row is not None:
            ids = [r["id"] for r in response.json()["results"]]
            assert (row in ids) == (username not in page.hidden_from), f"{username} {name}"
    if "POST" in page.methods:
        _writes(clients, household, name, page)


def _writes(clients: Any, household: Household, name: str, page: Any) -> None:
    url = reverse(name)
    payload = page.payload(household)
    before = state(household)
    refused = [u for u in page.allowed if u not in WRITERS[name] and u != page.outsider]
    for username in refused:
        response = clients(username).post(url, payload)
        assert response.status_code == 403, f"{username} POST {name}: {response.content!r}"
    response = clients(page.outsider).post(url, payload)
    assert response.status_code == 404, f"{page.outsider} POST {name}"
    assert state(household) == before
    response = clients(WRITERS[name][0]).post(url, payload)
    assert response.status_code == 201, response.content
    assert response.json()["household"]["id"] == household.pk
