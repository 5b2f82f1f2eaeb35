"""The import under concurrency, on PostgreSQL (SQLite ignores row locks):
one file confirmed from several tabs at once is imported once; two files
holding the same person, imported at the same moment, leave one file for
that person and the other import wholly refused."""

import io

import pytest
from django.core.files.base import ContentFile

from accounts.models import AuditEvent
from cases.import_sheet import read_sheet
from cases.models import Cause, Household, Tier
from cases.models.household import private_storage
from cases.services.imports import households_import
from reports.imports import import_check_start, import_confirm
from reports.models import Job
from tests.race import on_postgres
from tests.race import race as _race
from tests.reports.import_files import good_row, upload, xlsx


@pytest.fixture(autouse=True)
def lists(db):
    """A transactional test empties every table afterwards, the seeded
    tiers and causes included; put back the ones the rows name."""
    Tier.objects.get_or_create(name="困难", defaults={"national_category": "relative"})
    for name in ("因病", "因残", "收入低"):
        Cause.objects.get_or_create(name=name)


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_confirmations_of_one_file_import_it_once(alice, units):
    check = import_check_start(actor=alice, upload=upload(xlsx([good_row(户主姓名="只导一次")])))
    assert check.result["ok"]
    refused = _race(5, lambda i: import_confirm(actor=alice, check=check))
    assert len(refused) == 4
    assert all("已经确认导入过" in str(e) for e in refused)
    assert Household.objects.filter(name="只导一次").count() == 1
    assert AuditEvent.objects.filter(action="household.import").count() == 1
    assert Job.objects.filter(kind="household_import").count() == 1


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_files_with_the_same_person_at_once_leave_one_file(alice, carol, units):
    shared = good_row(户主姓名="两边都有")
    files = [
        xlsx([good_row(户主姓名="甲文件"), shared]),
        xlsx([shared, good_row(户主姓名="乙文件")]),
    ]
    stored = [private_storage().save("imports/race.xlsx", ContentFile(f)) for f in files]
    people = [alice, carol]

    def work(i):
        with private_storage().open(stored[i], "rb") as source:
            sheet = read_sheet(io.BytesIO(source.read()))
        households_import(actor=people[i], rows=sheet)

    refused = _race(2, work)
    assert len(refused) == 1
    assert Household.objects.filter(name="两边都有").count() == 1
    # The refused file left nothing behind: neither its other row nor an event.
    assert Household.objects.filter(name__in=["甲文件", "乙文件"]).count() == 1
    assert AuditEvent.objects.filter(action="household.import").count() == 1
