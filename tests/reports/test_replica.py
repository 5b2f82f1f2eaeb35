"""With a read replica configured (DATABASE_REPLICA_URL), the statistics and
the exported documents read from it and everything else, writes first of
all, stays on the primary. The test settings name "replica" as a mirror of
the test database, so what the reports read there is the real data."""

import datetime as dt

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.db import REPLICA, reading_from_replica, replica_alias
from accounts.models import AuditEvent
from cases.models import Household
from cases.models import HouseholdStatus as S
from reports.stats import Scope, statistics
from tests.builders import make_household

BOTH = ["default", "replica"]


@pytest.fixture(autouse=True)
def _close_replica():
    """The replica's connection is closed after each test, so the test
    database can be dropped at the end of the run."""
    yield
    connections["replica"].close()


def _tables(queries: CaptureQueriesContext) -> str:
    return " ".join(q["sql"] for q in queries.captured_queries)


def test_without_a_replica_every_read_stays_on_the_primary(settings):
    settings.REPLICA_READS = False
    assert replica_alias() == DEFAULT_DB_ALIAS
    with reading_from_replica() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Household) == DEFAULT_DB_ALIAS


def test_only_reads_inside_the_block_go_to_the_replica_and_never_a_write(settings):
    settings.REPLICA_READS = True
    assert router.db_for_read(Household) == DEFAULT_DB_ALIAS
    with reading_from_replica() as alias:
        assert alias == REPLICA
        assert router.db_for_read(Household) == REPLICA
        assert router.db_for_write(Household) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Household) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(REPLICA, "cases") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "cases") is True


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_statistics_are_read_from_the_replica(settings, seeded_lists, units):
    for _ in range(3):
        make_household(units["a1"], status=S.FILED, filed_on=dt.date(2025, 3, 1))
    settings.REPLICA_READS = True
    scope = Scope(units["a"], dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        stats = statistics(scope)
    assert stats.get("tiers").table.totals["households"] == 3
    assert "cases_household" in _tables(replica)
    assert "funds_ledgerentry" in _tables(replica)
    assert primary.captured_queries == []


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_an_export_reads_from_the_replica_and_is_recorded_on_the_primary(
    settings, seeded_lists, units, alice, as_user
):
    household = make_household(units["a1"], name="王秀兰")
    settings.REPLICA_READS = True
    client = as_user(alice)
    url = reverse("reports:household_card", args=[household.pk])
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as primary,
    ):
        response = client.get(url, {"format": "pdf"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert "cases_member" in _tables(replica)
    assert "cases_member" not in _tables(primary)
    assert not any(q["sql"].lstrip().upper().startswith("INSERT") for q in replica.captured_queries)
    assert AuditEvent.objects.using("default").filter(action="export.household_card").count() == 1
