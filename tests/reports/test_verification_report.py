"""回访核实情况表: the PDF and the workbook carry the rows and totals of the
核实率 screen, for the period asked, and a big one is made in the
background."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from programs.models import VerificationLine
from programs.services import verification
from reports.models import Job, JobStatus
from tests.programs.conftest import festival, fund, tier  # noqa: F401 - fixtures
from tests.programs.verification_world import amy, approved_many, paid_batch
from tests.reports.documents_world import sheet_rows
from tests.reports.test_jobs import _worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(alice, dave, festival, fund, units):  # noqa: F811 - the fixtures above
    """County A: 1 of 10 drawn, verified in full; 郑州纺织厂: 2 of 20 drawn,
    one not received, one not yet verified."""
    paid_batch(dave, fund, approved_many(festival, units["a"], 10, alice))
    paid_batch(dave, fund, approved_many(festival, units["a1"], 20, alice, start=50), title="二")
    verifier = amy(units["a"])
    first, second, _third = VerificationLine.objects.order_by("pk")
    verification.verification_record(actor=verifier, line=first, outcome="full", channel="phone")
    verification.verification_record(
        actor=verifier, line=second, outcome="none", channel="visit", note="未收到"
    )


def _screen(client):
    response = client.get(reverse("programs:verification_rates"))
    rows = [
        (r.unit_name, r.sampled, r.verified, r.full, r.problems) for r in response.context["rows"]
    ]
    total = response.context["total"]
    return rows, (total.sampled, total.verified, total.full, total.problems)


def _sheet(content):
    _ws, rows = sheet_rows(content)
    header = list(rows[2])
    keep = [header.index(h) for h in ("工会", "抽查户数", "已核实", "全额收到", "问题户")]
    data = [tuple(r[i] for i in keep) for r in rows[3:] if r[0] and r[0] != "合计"]
    total = next(r for r in rows if r[0] == "合计")
    return header, data, tuple(total[i] for i in keep[1:]), total[header.index("核实率（%）")]


def test_the_workbook_has_the_screens_rows_and_totals(as_user, carol, verified):
    client = as_user(carol)
    screen_rows, screen_total = _screen(client)
    assert screen_rows == [("金水区总工会", 1, 1, 1, 0), ("郑州纺织厂工会", 2, 1, 0, 1)]
    response = client.get(reverse("reports:verification_report"), {"format": "xlsx"})
    assert response.status_code == 200
    _header, data, total, rate = _sheet(response.content)
    assert data == screen_rows and total == screen_total == (3, 2, 1, 1)
    assert float(rate) == 66.67
    # Counts per union only: no household's name leaves in this report.
    assert "户050" not in str(sheet_rows(response.content)[1])
    event = AuditEvent.objects.get(action="export.verification_report")
    assert event.actor == carol and event.changes["rows"] == [None, 2]


def test_the_pdf_is_made_and_a_period_narrows_both(as_user, erin, verified):
    client = as_user(erin)
    response = client.get(reverse("reports:verification_report"))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    empty = client.get(
        reverse("reports:verification_report"), {"date_from": "2099-01-01", "format": "xlsx"}
    )
    _header, data, total, _rate = _sheet(empty.content)
    assert data == [] and total == (0, 0, 0, 0)


def test_a_bad_period_shows_the_options_with_the_reason(as_user, carol, verified):
    response = as_user(carol).get(
        reverse("reports:verification_report"),
        {"date_from": "2026-12-01", "date_to": "2026-11-01"},
    )
    assert response.status_code == 200
    assert "截止日期不能早于起始日期" in response.content.decode()


def test_a_big_report_is_made_in_the_background(
    as_user, carol, verified, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("reports.documents.BACKGROUND_ROWS", 1)
    client = as_user(carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("reports:verification_report"), {"format": "xlsx"})
    job = Job.objects.get()
    assert response["Location"] == reverse("reports:job_detail", args=[job.pk])
    _worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    _header, data, total, _rate = _sheet(b"".join(download.streaming_content))
    assert data == _screen(client)[0] and total == (3, 2, 1, 1)
