"""Big exports run as background jobs: the request queues the job and sends
the person to its progress page, the worker makes the file (asking again
whether the person may have it), and the file downloads."""

from decimal import Decimal as D

import pytest
from django.db.models import Sum
from django.urls import reverse

from accounts.models import AuditEvent, Membership
from funds.models import LedgerEntry
from reports.models import Job, JobStatus
from tests.reports.documents_world import build_world, bulk_payments, sheet_rows
from tests.reports.test_jobs import _worker

BIG = 3500


@pytest.fixture
def world(units, alice, carol, dave):
    return build_world(units, alice, carol, dave)


def _queue(client, url, query, capture):
    with capture(execute=True):
        response = client.get(url, query)
    assert response.status_code == 302, response.content[:1000]
    job = Job.objects.get()
    assert response["Location"] == reverse("reports:job_detail", args=[job.pk])
    return job


@pytest.mark.django_db
def test_a_big_ledger_is_made_in_the_background_and_downloads(
    world, dave, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    bulk_payments(world.fund, world.program, world.households[0], BIG)
    client = as_user(dave)
    url = reverse("reports:fund_disbursements", args=[world.fund.pk])
    job = _queue(client, url, {"format": "xlsx"}, django_capture_on_commit_callbacks)
    page = client.get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert "排队中" in page and "后台生成" in page
    assert not AuditEvent.objects.filter(action="export.fund_disbursements").exists()

    _worker(monkeypatch)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert (job.done, job.total) == (BIG + 4, BIG + 4)
    response = client.get(reverse("reports:job_download", args=[job.pk]))
    assert response.status_code == 200
    assert job.filename.endswith(".xlsx")
    _ws, rows = sheet_rows(b"".join(response.streaming_content))
    header = list(rows[2])
    net = header.index("实发金额")
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    assert len(data) == BIG + 4
    totals = next(r for r in rows if r[0] == "合计")
    ledger_net = (
        LedgerEntry.objects.filter(fund=world.fund, aid_payment__isnull=False).aggregate(
            s=Sum("amount")
        )["s"]
        - LedgerEntry.objects.filter(fund=world.fund, reversed_aid_payment__isnull=False).aggregate(
            s=Sum("amount")
        )["s"]
    )
    assert D(str(totals[net])) == sum(D(str(r[net])) for r in data) == ledger_net
    assert ledger_net == D("3000.00") + BIG * D("10.00")
    event = AuditEvent.objects.get(action="export.fund_disbursements")
    assert event.actor == dave and event.changes["rows"] == [None, BIG + 4]


@pytest.mark.django_db
def test_a_long_pdf_is_made_in_the_background_too(
    world, dave, as_user, django_capture_on_commit_callbacks
):
    bulk_payments(world.fund, world.program, world.households[0], 600)
    client = as_user(dave)
    url = reverse("reports:fund_disbursements", args=[world.fund.pk])
    job = _queue(client, url, {"archive": "1"}, django_capture_on_commit_callbacks)
    assert job.kind == "document"
    assert job.params == {
        "report": "fund_disbursements",
        "pk": world.fund.pk,
        "query": {},
        "format": "pdf",
        "archive": True,
    }


@pytest.mark.django_db
def test_the_worker_asks_again_whether_the_person_may_have_it(
    world, dave, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    bulk_payments(world.fund, world.program, world.households[0], BIG)
    client = as_user(dave)
    url = reverse("reports:fund_disbursements", args=[world.fund.pk])
    job = _queue(client, url, {"format": "xlsx"}, django_capture_on_commit_callbacks)
    Membership.objects.filter(user=dave).delete()  # dave left the finance office

    _worker(monkeypatch)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert not job.file
    assert not AuditEvent.objects.filter(action="export.fund_disbursements").exists()
