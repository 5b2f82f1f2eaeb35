"""File numbers under real concurrency: PostgreSQL only (SQLite has no row
locks; it serializes whole transactions instead)."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from cases import clock
from cases.models import HouseholdStatus as S
from cases.models import IntakeNotice, NoticeEntry
from cases.services import intake
from tests.builders import make_household, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real row locks"),
]

CASES = 50
THREADS = 10


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_confirmations_get_fifty_consecutive_numbers(units, alice, carol):
    second_chair = make_user("chair2", units["a"], "chair")
    today = clock.today()
    notice = IntakeNotice.objects.create(
        unit=units["a1"],
        title="建档公示",
        starts_on=today - dt.timedelta(days=20),
        working_days=5,
        ends_on=today - dt.timedelta(days=10),
        posted_at="厂区公告栏",
        created_by=alice,
    )
    households = [
        make_household(units["a1"], status=S.NOTICED, submitted_by=alice, created_by=alice)
        for _ in range(CASES)
    ]
    NoticeEntry.objects.bulk_create(NoticeEntry(notice=notice, household=h) for h in households)

    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def confirm(batch: list, chair) -> None:
        try:
            start.wait()
            for household in batch:
                intake.case_confirm(actor=chair, household=household)
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=confirm, args=(households[i::THREADS], carol if i % 2 else second_chair)
        )
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    numbers = sorted(
        type(households[0])
        .objects.filter(pk__in=[h.pk for h in households])
        .values_list("file_number", flat=True)
    )
    prefix = f"{units['a1'].code}-{today.year}-"
    assert numbers == [f"{prefix}{n:04d}" for n in range(1, CASES + 1)]
