"""Records nobody can edit, on PostgreSQL: the audit trail, a household's and
an application's status history, approval decisions, committee votes and
the ledger refuse UPDATE and DELETE in the database itself, whoever sends
them (raw SQL, the ORM, the admin). The triggers are pgtrigger's, declared
on the models (accounts/append_only.py)."""

from decimal import Decimal as D

import pgtrigger
import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Model

from accounts.audit import audit_record
from accounts.models import AuditEvent, ChainDigest, Redaction
from cases import clock
from cases.models import StatusChange
from funds.models import LedgerEntry
from programs.models import ApplicationStatusChange, ClaimVote, ComplaintChange, Decision
from programs.services import applications, complaints, mutual
from tests.programs.conftest import cathy, festival, filed, fund, tier  # noqa: F401
from tests.programs.test_mutual import (  # noqa: F401
    coop,
    fang,
    member,
    mutual_fund,
    paid_member,
    submit,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db,
]

PROTECTED = [
    AuditEvent,
    StatusChange,
    ApplicationStatusChange,
    Decision,
    ClaimVote,
    LedgerEntry,
    ComplaintChange,
]


@pytest.fixture
def rows(alice, carol, dave, units, festival, fund, paid_member):  # noqa: F811
    """One row of each protected table, written the ordinary way."""
    household = filed(units["a"], name="钱多多")
    app = applications.application_draft(actor=alice, household=household, program=festival)
    applications.application_decide(actor=carol, application=app, approve=True)
    claim = submit(alice, paid_member)
    mutual.claim_vote(actor=carol, claim=claim, approve=True)
    change = StatusChange.objects.create(
        household=household,
        from_status="evaluated",
        to_status="noticed",
        actor=carol,
        at=clock.now(),
        reason="公示",
    )
    complaint = complaints.complaint_record(
        actor=alice, target=household, category="amount", channel="phone", content="补助少发"
    )
    return {
        AuditEvent: audit_record(actor=alice, action="household.view", obj=household),
        ComplaintChange: complaint.changes.get(),
        StatusChange: change,
        ApplicationStatusChange: app.status_changes.last(),
        Decision: app.decisions.get(),
        ClaimVote: claim.votes.get(),
        LedgerEntry: LedgerEntry.objects.filter(fund=fund).first(),
    }


def _column(model: type[Model]) -> str:
    """A plain text or number column to try to overwrite."""
    return {
        AuditEvent: "action",
        StatusChange: "reason",
        ApplicationStatusChange: "reason",
        Decision: "note",
        ClaimVote: "note",
        LedgerEntry: "memo",
        ComplaintChange: "reason",
    }[model]


def _refused(call) -> str:
    with pytest.raises(DatabaseError) as err, transaction.atomic():
        call()
    return str(err.value)


@pytest.mark.parametrize("model", PROTECTED, ids=lambda m: m.__name__)
def test_raw_sql_cannot_change_or_remove_a_row(rows, model):
    row = rows[model]
    table = model._meta.db_table
    column = model._meta.get_field(_column(model)).column
    before = model.objects.filter(pk=row.pk).values().get()

    def run(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])

    # Table and column names come from the models, not from input.
    update = _refused(lambda: run(f"UPDATE {table} SET {column} = 'x' WHERE id = %s"))  # noqa: S608
    delete = _refused(lambda: run(f"DELETE FROM {table} WHERE id = %s"))  # noqa: S608

    assert f"{table} is append-only: UPDATE refused" in update
    assert f"{table} is append-only: DELETE refused" in delete
    assert model.objects.filter(pk=row.pk).values().get() == before


@pytest.mark.parametrize("model", PROTECTED, ids=lambda m: m.__name__)
def test_the_orm_cannot_change_or_remove_a_row(rows, model):
    row = rows[model]
    before = model.objects.filter(pk=row.pk).values().get()

    _refused(lambda: model.objects.filter(pk=row.pk).update(**{_column(model): "x"}))
    setattr(row, _column(model), "x")
    _refused(lambda: row.save())
    _refused(lambda: model.objects.filter(pk=row.pk).delete())

    assert model.objects.filter(pk=row.pk).values().get() == before


def test_new_rows_are_still_written(alice, units):
    """Append-only, not read-only: the services go on adding rows."""
    household = filed(units["a"], name="孙小美")
    audit_record(actor=alice, action="household.view", obj=household)
    audit_record(actor=alice, action="household.view", obj=household)
    events = AuditEvent.objects.filter(object_type="cases.household", object_id=str(household.pk))
    assert events.count() == 2


def test_every_protecting_trigger_is_installed_and_enabled():
    registered = [
        (model, trigger)
        for model, trigger in pgtrigger.registered()
        if isinstance(trigger, pgtrigger.Protect)
    ]
    # The hash chains' own digests and redactions are append-only too.
    assert {model for model, _trigger in registered} == {*PROTECTED, ChainDigest, Redaction}
    for model, trigger in registered:
        assert trigger.get_installation_status(model) == ("INSTALLED", True), trigger.name
    # Nothing left over from an earlier trigger (funds 0002's hand-written one).
    assert pgtrigger.prunable() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'funds_ledger_no_%%'"
            " UNION SELECT proname FROM pg_proc WHERE proname = 'funds_ledger_append_only'"
        )
        assert cursor.fetchall() == []


def test_a_sanctioned_job_may_rewrite_a_row_when_it_says_so(rows):
    """How a retention sweep blanks personal data in the audit trail: only
    inside pgtrigger.ignore for the one trigger, never by default."""
    event = rows[AuditEvent]
    with pgtrigger.ignore("accounts.AuditEvent:audit_append_only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(object_repr="（已匿名）")
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "（已匿名）"
    _refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(object_repr="again"))


def test_amounts_are_unchanged_after_the_refusals(rows, fund):  # noqa: F811
    entry = rows[LedgerEntry]
    _refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1")))
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount
