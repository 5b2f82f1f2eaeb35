"""审计核验包: the city auditor downloads a period's chains with their
digests and a script, and the script (standard library only, run as the
auditor would) passes on what the product wrote and names a changed row."""

import datetime as dt
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.audit import audit_record
from accounts.chain import digests_record
from accounts.models import AuditEvent
from reports.audit_export import build
from reports.models import Job, JobStatus
from tests.builders import make_user
from tests.reports.test_jobs import _worker

pytestmark = pytest.mark.django_db

DAY1, DAY2, DAY3 = dt.date(2026, 12, 1), dt.date(2026, 12, 2), dt.date(2026, 12, 3)


@pytest.fixture
def ivy(units):
    """The city union's auditor: covers every union."""
    return make_user("ivy", units["city"], "auditor", full_name="尹悦")


@pytest.fixture
def days(alice, units):
    """Three days of trail, each closed by its digest."""
    for day in (DAY1, DAY2, DAY3):
        for i in range(3):
            audit_record(actor=alice, action="household.view", unit=units["a"],
                         changes={"day": [None, day.isoformat()], "i": [None, i]})  # fmt: skip
        digests_record(day=day)


def _run_script(tmp_path: Path, content: bytes) -> subprocess.CompletedProcess:
    path = tmp_path / "export.zip"
    path.write_bytes(content)
    with zipfile.ZipFile(path) as archive:
        (tmp_path / "verify.py").write_bytes(archive.read("verify.py"))
    # A bare interpreter: no Django, no project on the path.
    return subprocess.run(
        [sys.executable, "-I", str(tmp_path / "verify.py"), str(path)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip


def _rewrite(content: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            target.writestr(item, change(data) if item == name else data)
    return out.getvalue()


def test_the_script_passes_on_a_period_and_holds_only_its_rows(days, tmp_path):
    content = build(DAY2, DAY3)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        lines = archive.read("chains/accounts.auditevent.jsonl").decode().splitlines()
    assert manifest["chains"][0]["chain"] == "accounts.chaindigest"
    days_seen = {json.loads(line)["content"]["changes"]["day"][1] for line in lines}
    assert days_seen == {"2026-12-02", "2026-12-03"}  # day 1 is before the period
    result = _run_script(tmp_path, content)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("OK ")


def test_the_script_names_a_row_changed_in_the_export(days, tmp_path):
    content = build(DAY1, DAY3)
    target = "chains/accounts.auditevent.jsonl"

    def change(data: bytes) -> bytes:
        rows = [json.loads(line) for line in data.decode().splitlines()]
        rows[2]["content"]["action"] = "auth.login"
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()

    result = _run_script(tmp_path, _rewrite(content, target, change))
    assert result.returncode == 1
    rows = [json.loads(x) for x in zipfile.ZipFile(io.BytesIO(content)).read(target).splitlines()]
    assert f"accounts.auditevent seq={rows[2]['seq']} id={rows[2]['id']}" in result.stdout
    assert "content changed" in result.stdout


def test_the_script_names_a_row_removed_from_the_export(days, tmp_path):
    content = build(DAY1, DAY3)
    target = "chains/accounts.auditevent.jsonl"

    def drop(data: bytes) -> bytes:
        rows = data.decode().splitlines()
        return "\n".join(rows[:3] + rows[4:]).encode()

    result = _run_script(tmp_path, _rewrite(content, target, drop))
    assert result.returncode == 1 and "expected seq" in result.stdout


def test_the_city_auditor_downloads_it_through_a_job(
    days, ivy, erin, as_user, django_capture_on_commit_callbacks, monkeypatch, tmp_path
):
    client = as_user(ivy)
    page = client.get(reverse("reports:audit_export"))
    assert page.status_code == 200
    assert AuditEvent.objects.filter(action="household.view").count() == 9
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:audit_export"), {"start": "2026-12-01", "end": "2026-12-03"}
        )
    job = Job.objects.get(kind="audit_export")
    assert response["Location"] == reverse("reports:job_detail", args=[job.pk])
    _worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    content = b"".join(download.streaming_content)
    assert _run_script(tmp_path, content).returncode == 0
    assert AuditEvent.objects.filter(action="audit.export", actor=ivy).exists()
    assert AuditEvent.objects.filter(action="job.download", actor=ivy).exists()
    # The county's auditor is refused: the export holds every union's rows.
    assert as_user(erin).get(reverse("reports:audit_export")).status_code == 403


def test_a_bad_period_is_named_and_starts_nothing(days, ivy, as_user):
    client = as_user(ivy)
    page = client.post(
        reverse("reports:audit_export"), {"start": "2026-12-03", "end": "2026-12-01"}
    )
    assert page.status_code == 200 and "结束日期不能早于开始日期" in page.content.decode()
    page = client.post(
        reverse("reports:audit_export"), {"start": "2025-01-01", "end": "2025-01-02"}
    )
    assert "还没有每日摘要" in page.content.decode()
    assert not Job.objects.filter(kind="audit_export").exists()
