"""A lawful anonymisation keeps the chains whole; a silent edit does not.

The retention sweep rewrites the people out of a closed file's protected
rows (cases/services/retention.py). Each rewrite is recorded as a chained
Redaction (the row's digest before and after), so `audit_verify` passes
afterwards; a row changed later, or changed without a record, is named."""

import pgtrigger
import pytest
from django.core.management import call_command
from django.db import connection

from accounts.audit import audit_record
from accounts.chain import chain_backfill, chain_verify
from accounts.chain_check import GENESIS
from accounts.models import AuditEvent, ChainHead, Redaction
from cases.models import StatusChange
from funds.models import LedgerEntry
from programs.models import Decision
from tests.accounts.chain_support import _trigger_uri, raw_sql, verify, verify_fails_at
from tests.cases.test_retention import lived  # noqa: F401
from tests.programs.conftest import cathy, festival, fund, tier  # noqa: F401
from tests.programs.test_mutual import coop, fang, mutual_fund  # noqa: F401

pytestmark = pytest.mark.django_db


def _sweep(capture):
    with capture(execute=True):
        call_command("retention_sweep", stdout=None)


def test_the_sweep_is_recorded_and_the_chains_still_verify(
    lived,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    assert verify()[0]
    _sweep(django_capture_on_commit_callbacks)
    redacted = set(Redaction.objects.values_list("chain", flat=True))
    assert {"accounts.auditevent", "funds.ledgerentry", "programs.decision"} <= redacted
    passed, output = verify()
    assert passed, output
    report = chain_verify(LedgerEntry)
    assert report.finding is None and report.redacted > 0


def test_a_silent_edit_after_the_sweep_is_named(lived, django_capture_on_commit_callbacks):  # noqa: F811
    _sweep(django_capture_on_commit_callbacks)
    entry = LedgerEntry.objects.get(
        pk=Redaction.objects.filter(chain="funds.ledgerentry").values("row_id")[:1]
    )
    raw_sql(LedgerEntry, "UPDATE {table} SET memo = %s WHERE id = %s", ["另一笔", entry.pk])
    output = verify_fails_at(LedgerEntry, entry.chain_seq, entry.pk)
    assert "内容与摘要不符" in output


def test_an_edit_made_to_look_like_the_sweep_is_named(lived):  # noqa: F811
    """The same text the sweep would write, written without the sweep:
    nothing records it, so it is a silent edit."""
    decision = Decision.objects.exclude(note="").first()
    raw_sql(Decision, "UPDATE {table} SET note = %s WHERE id = %s", ["已匿名", decision.pk])
    verify_fails_at(Decision, decision.chain_seq, decision.pk)
    assert chain_verify(StatusChange).finding is None
    assert chain_verify(AuditEvent).finding is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_rows_written_before_the_chains_are_linked_by_the_backfill(units):
    """What the migration does on a database that already holds a trail:
    rows with no chain columns (the NOT NULL dropped here, in the test's
    transaction, as before the migration) are linked in id order and verify,
    NULL columns included."""
    # The table name comes from the model, not from input.
    table = AuditEvent._meta.db_table
    unlinked = f"UPDATE {table} SET chain_seq = NULL, chain_digest = '', chain_hash = ''"  # noqa: S608
    with connection.cursor() as cursor:
        # The fixtures' deferred foreign-key checks run first: PostgreSQL
        # alters no table with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN chain_seq DROP NOT NULL")
    events = [
        audit_record(actor=None, action="household.update", unit=units["a"]),
        audit_record(actor=None, action="household.view", unit=None, changes={"n": [1, 2]}),
    ]
    raw_sql(AuditEvent, unlinked, [])
    ChainHead.objects.filter(chain="accounts.auditevent").update(seq=0, hash=GENESIS)
    with pgtrigger.ignore(_trigger_uri(AuditEvent)):
        linked = chain_backfill(AuditEvent, ChainHead, using="default")
    assert linked == AuditEvent.objects.count() >= len(events)
    assert chain_verify(AuditEvent).finding is None
    assert AuditEvent.objects.get(pk=events[0].pk).chain_seq == linked - 1
