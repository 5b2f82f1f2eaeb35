"""The hash chains over the append-only tables (accounts/chain.py): every
way a row is written links it, `audit_verify` passes on what the services
wrote, and names the first row that was changed, removed, inserted or
moved behind their back."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from accounts.audit import audit_record
from accounts.bulk import bulk_insert
from accounts.chain import chain_verify, digests_record, row_content
from accounts.chain_check import GENESIS, content_digest, link_hash
from accounts.models import AuditEvent, ChainDigest, ChainHead
from cases import clock
from cases.models import StatusChange
from funds.models import LedgerEntry
from programs.models import ApplicationStatusChange, Decision
from programs.services import applications, payments
from tests.accounts.chain_support import raw_sql, verify, verify_fails_at
from tests.programs.conftest import festival, filed, fund, tier  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(alice, units):
    """Five audit events, written the ordinary way."""
    return [
        audit_record(actor=alice, action="household.view", unit=units["a"], changes={"n": [i, i]})
        for i in range(5)
    ]


def test_rows_are_linked_in_order_and_the_head_follows(trail):
    first = trail[0].chain_seq
    assert [e.chain_seq for e in trail] == list(range(first, first + 5))
    prev = GENESIS
    for event in AuditEvent.objects.order_by("chain_seq"):
        assert event.chain_hash == link_hash("accounts.auditevent", event.chain_seq, prev,
                                             event.chain_digest)  # fmt: skip
        prev = event.chain_hash
    head = ChainHead.objects.get(chain="accounts.auditevent")
    assert (head.seq, head.hash) == (trail[-1].chain_seq, prev)


def test_every_insert_path_is_chained_and_verifies(alice, carol, dave, units, festival, fund):  # noqa: F811
    household = filed(units["a"], name="钱多多")
    app = applications.application_draft(actor=alice, household=household, program=festival)
    applications.application_decide(actor=carol, application=app, approve=True)
    payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    # bulk_create and the imports' bulk_insert.
    AuditEvent.objects.bulk_create(
        [AuditEvent(actor=alice, action="household.view", changes={"k": i}) for i in range(3)]
    )
    bulk_insert(
        [
            StatusChange(household=household, from_status="filed", to_status="filed",
                         actor=alice, at=clock.now(), reason=f"导入 {i}")
            for i in range(3)
        ]
    )  # fmt: skip
    for model in (AuditEvent, StatusChange, ApplicationStatusChange, Decision, LedgerEntry):
        assert model.objects.count() > 0, model
        assert not model.objects.filter(chain_hash="").exists(), model
    passed, output = verify()
    assert passed, output
    assert "accounts_auditevent" not in output and "审计链核验通过" in output
    assert "每秒" in output  # rows per second, for each chain


def test_the_stored_content_is_what_the_digest_covers(alice, units):
    """Money, dates and JSON read back from the database give the digest
    the row was written with (canonical form, not Python's spelling)."""
    event = audit_record(
        actor=alice, action="household.update", unit=units["a"],
        changes={"b": ["2", 1.5], "a": {"z": None, "y": [True]}},
    )  # fmt: skip
    entry = AuditEvent.objects.get(pk=event.pk)
    assert entry.chain_digest == event.chain_digest
    assert chain_verify(AuditEvent).finding is None


def test_empty_columns_stay_out_of_the_digest(units):
    """A row's NULL columns are not part of its content, so a nullable column
    added to a chained table later leaves older rows' digests as written."""
    event = audit_record(actor=None, action="household.update", unit=units["a"])
    content = row_content(AuditEvent.objects.get(pk=event.pk))
    assert "actor_id" not in content and "ip" not in content
    assert content_digest(content) == event.chain_digest
    assert chain_verify(AuditEvent).finding is None


def test_a_changed_row_is_named(trail):
    changed = trail[2]
    raw_sql(AuditEvent, "UPDATE {table} SET action = %s WHERE id = %s", ["auth.login", changed.pk])
    output = verify_fails_at(AuditEvent, changed.chain_seq, changed.pk)
    assert "内容与摘要不符" in output


def test_a_changed_row_with_a_recomputed_digest_breaks_the_link(trail):
    changed = trail[1]
    raw_sql(AuditEvent, "UPDATE {table} SET action = %s WHERE id = %s", ["auth.login", changed.pk])
    forged = AuditEvent.objects.get(pk=changed.pk)
    from accounts.chain import row_content

    raw_sql(AuditEvent, "UPDATE {table} SET chain_digest = %s WHERE id = %s",
            [content_digest(row_content(forged)), changed.pk])  # fmt: skip
    output = verify_fails_at(AuditEvent, changed.chain_seq, changed.pk)
    assert "链哈希不符" in output


def test_a_deleted_row_is_named(trail):
    raw_sql(AuditEvent, "DELETE FROM {table} WHERE id = %s", [trail[2].pk])
    output = verify_fails_at(AuditEvent, trail[3].chain_seq, trail[3].pk)
    assert f"缺少第 {trail[2].chain_seq} 行" in output


def test_rows_deleted_at_the_end_are_found(trail):
    raw_sql(AuditEvent, "DELETE FROM {table} WHERE id >= %s", [trail[3].pk])
    output = verify_fails_at(AuditEvent, trail[3].chain_seq, "-")
    assert "之后的行缺失" in output


def test_reordered_rows_are_named(trail):
    first, second = trail[1], trail[2]
    raw_sql(AuditEvent, "UPDATE {table} SET chain_seq = -chain_seq WHERE id IN (%s, %s)",
            [first.pk, second.pk])  # fmt: skip
    raw_sql(AuditEvent, "UPDATE {table} SET chain_seq = %s WHERE id = %s",
            [second.chain_seq, first.pk])  # fmt: skip
    raw_sql(AuditEvent, "UPDATE {table} SET chain_seq = %s WHERE id = %s",
            [first.chain_seq, second.pk])  # fmt: skip
    verify_fails_at(AuditEvent, first.chain_seq, second.pk)


def test_an_inserted_row_is_named(trail, alice):
    """A row slipped in between, linked properly to the one before it: the
    rows after it were renumbered, and the next one's link breaks."""
    at = trail[2].chain_seq
    raw_sql(AuditEvent, "UPDATE {table} SET chain_seq = chain_seq + 1000 WHERE chain_seq >= %s",
            [at])  # fmt: skip
    raw_sql(AuditEvent, "UPDATE {table} SET chain_seq = chain_seq - 999 WHERE chain_seq > 1000",
            [])  # fmt: skip
    forged = AuditEvent(pk=10_000, actor=alice, action="household.view", changes={})
    from accounts.chain import row_content

    digest = content_digest(row_content(forged))
    hash_ = link_hash("accounts.auditevent", at, trail[1].chain_hash, digest)
    raw_sql(
        AuditEvent,
        "INSERT INTO {table} (id, created_at, actor_id, action, object_type, object_id,"
        " object_repr, unit_id, changes, ip, chain_seq, chain_digest, chain_hash)"
        " VALUES (%s, %s, %s, %s, '', '', '', NULL, '{{}}', NULL, %s, %s, %s)",
        [10_000, forged.created_at, alice.pk, "household.view", at, digest, hash_],
    )
    output = verify_fails_at(AuditEvent, at + 1, trail[2].pk)
    assert "链哈希不符" in output


def test_daily_digests_are_written_once_a_day_and_checked(trail):
    day = dt.date(2026, 12, 7)
    written = digests_record(day=day)
    assert {d.chain for d in written} >= {"accounts.auditevent", "funds.ledgerentry"}
    assert "accounts.chaindigest" not in {d.chain for d in written}
    assert digests_record(day=day) == []  # the same day again: nothing new
    digest = ChainDigest.objects.get(day=day, chain="accounts.auditevent")
    assert (digest.last_seq, digest.head_hash) == (trail[-1].chain_seq, trail[-1].chain_hash)
    assert verify()[0]

    # A digest changed in place breaks the digest chain.
    raw_sql(ChainDigest, "UPDATE {table} SET head_hash = %s WHERE id = %s", ["0" * 64, digest.pk])
    verify_fails_at(ChainDigest, digest.chain_seq, digest.pk)


def test_the_head_and_the_digest_catch_a_rewritten_tail(trail, alice):
    """Someone deletes the last rows and winds the head back: the chain
    alone is consistent again, but the day's digest names the lost row."""
    digests_record(day=dt.date(2026, 12, 7))
    raw_sql(AuditEvent, "DELETE FROM {table} WHERE id = %s", [trail[4].pk])
    ChainHead.objects.filter(chain="accounts.auditevent").update(
        seq=trail[3].chain_seq, hash=trail[3].chain_hash
    )
    output = verify_fails_at(AuditEvent, trail[4].chain_seq, "-")
    assert "2026-12-07 的每日摘要所指的行缺失" in output


def test_conflicts_cannot_be_skipped_in_a_chain(alice):
    with pytest.raises(ValueError):
        AuditEvent.objects.bulk_create([AuditEvent(action="x")], ignore_conflicts=True)


def test_a_ledger_entry_keeps_its_money_digest(dave, fund):  # noqa: F811
    entry = LedgerEntry.objects.filter(fund=fund).first()
    assert entry is not None
    stored = LedgerEntry.objects.get(pk=entry.pk)
    assert stored.amount == entry.amount and stored.amount.as_tuple().exponent == -2
    assert stored.chain_digest == entry.chain_digest
    assert D(str(stored.amount)) > 0


def test_the_digest_command_runs_once_a_day(trail):
    out = io.StringIO()
    call_command("audit_digest", stdout=out)
    assert f"#{trail[-1].chain_seq} {trail[-1].chain_hash}" in out.getvalue()
    again = io.StringIO()
    call_command("audit_digest", stdout=again)
    assert "已记录 0 条每日摘要" in again.getvalue()
    assert verify()[0]
