"""Writers at the same moment cannot fork a chain (PostgreSQL, real
threads): each row gets its own seq, every link follows the one before, and
a transaction writing to two chains cannot deadlock with another writing to
them in the other order."""

import pytest
from django.db import transaction

from accounts.audit import audit_record
from accounts.chain import chain_verify
from accounts.models import AuditEvent
from cases import clock
from cases.models import StatusChange
from tests.builders import make_household
from tests.race import on_postgres, race

pytestmark = [pytest.mark.postgres, on_postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_writers_make_one_unbroken_chain(alice, units):
    before = AuditEvent.objects.count()

    def write(i):
        with transaction.atomic():
            audit_record(actor=alice, action="household.view", unit=units["a"],
                         changes={"thread": [None, i]})  # fmt: skip
            AuditEvent.objects.bulk_create(
                [AuditEvent(actor=alice, action="household.view") for _ in range(3)]
            )

    race(8, write)
    assert AuditEvent.objects.count() == before + 32
    seqs = list(AuditEvent.objects.order_by("chain_seq").values_list("chain_seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    report = chain_verify(AuditEvent)
    assert report.finding is None and report.rows == len(seqs)


def test_two_chains_written_in_either_order_do_not_deadlock(alice, units):
    household = make_household(units["a"], name="王秀兰")

    def write(i):
        with transaction.atomic():
            steps = [
                lambda: audit_record(actor=alice, action="household.view", obj=household),
                lambda: StatusChange.objects.create(
                    household=household, from_status="filed", to_status="filed",
                    actor=alice, at=clock.now(), reason=str(i),
                ),
            ]  # fmt: skip
            for step in steps if i % 2 else reversed(steps):
                step()

    race(8, write)
    assert chain_verify(AuditEvent).finding is None
    assert chain_verify(StatusChange).finding is None
