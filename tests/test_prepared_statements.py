"""Every page and form under prepared statements (PostgreSQL only).

The web processes may run with `DB_PREPARED=true` (docs/operations.md):
psycopg then sends the parameters apart from the SQL, and a statement run
again on a pooled connection is planned once. Some SQL cannot run that way:
several statements in one call, or a parameter in a utility statement (SET,
DDL). Migrations, `retention_sweep` (pgtrigger.ignore) and the job workers
keep the default. This walk switches the test's connection to server-side
binding, with every statement prepared from its first run, and then opens
every page the permission walk knows as the persona it lets in, and sends
every form it knows with the payload that walk sends.
"""

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from tests.builders import make_household
from tests.race import on_postgres
from tests.test_permissions import PAGES, ROUTES, make_attachment, target_of

pytestmark = [on_postgres, pytest.mark.postgres]


@pytest.fixture
def prepared(db):
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    before = (raw.cursor_factory, raw.prepare_threshold)
    raw.cursor_factory = ServerBindingCursor
    raw.prepare_threshold = 0
    yield
    raw.cursor_factory, raw.prepare_threshold = before


@pytest.fixture
def people(alice, bob, carol, dave, erin, frank, ben, fay):
    return {p.username: p for p in (alice, bob, carol, dave, erin, frank, ben, fay)}


def test_every_page_and_form_runs_on_prepared_statements(client, people, household, prepared):
    assert connection.connection.prepare_threshold == 0
    answered: list[tuple[str, str, int]] = []
    for name, route in sorted(ROUTES.items()):
        own = make_household(household.unit, name=f"王芳{len(answered)}")
        if route.prepare is not None:
            route.prepare(own)
        obj = target_of(route, own, make_attachment(own))
        url = reverse(name, args=[obj.pk])
        client.force_login(people[route.user])
        for method in ("GET", "POST"):
            if method not in route.methods:
                continue
            data: Any = route.payload(own) if route.payload and method == "POST" else {}
            response = client.get(url) if method == "GET" else client.post(url, data)
            answered.append((method, name, response.status_code))
    for name, page in sorted(PAGES.items()):
        if "GET" not in page.methods:
            continue
        for username in page.allowed:
            client.force_login(people[username])
            answered.append(("GET", name, client.get(reverse(name)).status_code))
    wrong = [a for a in answered if not 200 <= a[2] < 400]
    assert not wrong, wrong
    assert len(answered) > 150, len(answered)


def test_the_walk_above_really_runs_prepared(prepared):
    """Several statements in one call, which these settings cannot run, fail
    under the walk's connection: the switch is on."""
    from django.db.utils import ProgrammingError

    with pytest.raises(ProgrammingError), connection.cursor() as cursor:
        cursor.execute("SELECT 1; SELECT 2")
