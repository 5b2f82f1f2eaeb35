"""Verifiers at the same moment, on PostgreSQL with real threads (SQLite
ignores row locks): one line is taken and recorded by one verifier only,
the others are told who has it; a month is drawn once however many press
the button."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from programs.models import (
    AidPayment,
    SampleKind,
    VerificationCase,
    VerificationLine,
    VerificationSample,
)
from programs.services import payments, verification
from tests.builders import make_user
from tests.programs.verification_world import approved_many, paid_batch
from tests.race import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _seeded(seeded_lists):
    """Every thread commits, so the tables are truncated after each test."""


@pytest.fixture
def verifiers(units):
    return [make_user(f"v{i}", units["a"], "caseworker", full_name=f"核实员{i}") for i in range(8)]


@pytest.fixture
def line(alice, dave, festival, fund, units):
    paid_batch(dave, fund, approved_many(festival, units["a"], 1, alice))
    return VerificationLine.objects.get()


def test_two_verifiers_recording_one_line_one_wins(line, verifiers):
    pair = verifiers[:2]
    refused = race(
        2,
        lambda i: verification.verification_record(
            actor=pair[i], line=line, outcome="none", channel="phone", note=f"第{i}人：未收到"
        ),
    )
    assert len(refused) == 1
    line.refresh_from_db()
    loser = pair[1] if line.verifier == pair[0] else pair[0]
    assert line.verifier in pair and line.outcome == "none"
    message = " ".join(refused[0].messages)
    assert f"该户已由 {line.verifier.full_name} 核实" in message
    assert loser.full_name not in message
    assert VerificationSample.objects.get().done == 1
    assert VerificationCase.objects.count() == 1
    assert AuditEvent.objects.filter(action="verification.record").count() == 1


def test_eight_verifiers_taking_one_line_leave_one_holder(line, verifiers):
    refused = race(8, lambda i: verification.verification_line_take(actor=verifiers[i], line=line))
    assert len(refused) == 7
    line.refresh_from_db()
    assert line.verifier in verifiers
    assert all(f"该户已由 {line.verifier.full_name} 于" in " ".join(r.messages) for r in refused)
    assert AuditEvent.objects.filter(action="verification.take").count() == 1


def test_a_month_drawn_from_many_clicks_at_once_is_drawn_once(
    alice, carol, dave, festival, fund, units
):
    apps = approved_many(festival, units["a"], 6, alice)
    paid = [payments.aid_pay(actor=dave, application=a, fund=fund, method="bank") for a in apps]
    month = verification.previous_month()
    recorded = timezone.make_aware(datetime.datetime.combine(month, datetime.time(9)))
    AidPayment.objects.filter(pk__in=[p.pk for p in paid]).update(created_at=recorded)
    results = []
    refused = race(
        6,
        lambda i: results.append(
            verification.sample_draw_month(actor=carol, unit=units["a"], month=month)
        ),
    )
    assert not refused
    samples = {sample.pk for sample, _drawn in results}
    assert len(samples) == 1 and sum(drawn for _s, drawn in results) == 1
    assert VerificationSample.objects.filter(kind=SampleKind.MONTH).count() == 1
    assert VerificationLine.objects.count() == 1
