"""Every stored file goes through the `private` storage of STORAGES, never
this server's own disk: with the storage swapped for one held in memory (as
an S3 bucket would be, a place no local path leads to), attachments, visit
photos, import uploads and job results are kept and served as before, after
the same permission check and audit record."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import InMemoryStorage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from cases.models import Attachment, Visit, VisitPhoto
from cases.models.household import private_storage
from reports.models import Job, JobStatus
from tests.builders import make_household
from tests.cases.test_followup import TODAY, filed, pair, png_bytes
from tests.reports.import_files import good_row, upload, xlsx
from tests.reports.migrate_files import register_row, register_xlsx
from tests.reports.test_jobs import _worker

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a scanned ID card\n%%EOF\n"


def _files_on_disk() -> set[Path]:
    root = Path(django_settings.PRIVATE_STORAGE_ROOT)
    return {p for p in root.rglob("*") if p.is_file()}


def _stored(memory: InMemoryStorage, folder: str) -> list[str]:
    """Every file kept under `folder` of the in-memory storage."""
    if not memory.exists(folder):
        return []
    dirs, files = memory.listdir(folder)
    found = [f"{folder}/{f}" for f in files]
    for d in dirs:
        found += _stored(memory, f"{folder}/{d}")
    return found


@pytest.fixture
def memory(settings):
    """The `private` storage held in memory; the local folder must not grow."""
    before = _files_on_disk()
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    store = storages["private"]
    assert isinstance(store, InMemoryStorage)
    # The model fields and the helpers follow the setting.
    assert Attachment._meta.get_field("file").storage.__class__ is InMemoryStorage
    assert private_storage().__class__ is InMemoryStorage
    yield store
    assert _files_on_disk() == before


def test_an_attachment_is_kept_and_served_from_the_storage(
    memory, as_user, alice, erin, units, django_capture_on_commit_callbacks
):
    household = make_household(units["a1"], name="王秀兰")
    client = as_user(alice)
    response = client.post(
        reverse("cases:attachment_upload", args=[household.pk]),
        {"kind": "id_card", "file": SimpleUploadedFile("身份证.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert _stored(memory, "households") == [attachment.file.name]
    with memory.open(attachment.file.name, "rb") as kept:
        assert kept.read() == PDF

    url = reverse("cases:attachment_download", args=[attachment.pk])
    assert as_user(erin).get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="household.reveal").exists()
    response = as_user(alice).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action="household.reveal")
    assert event.changes == {"field": [None, f"attachment:{attachment.pk}"]}

    delete = reverse("cases:attachment_delete", args=[attachment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(delete)
    assert _stored(memory, "households") == []


def test_a_visit_photo_is_kept_and_served_from_the_storage(memory, as_user, units, alice, erin):
    clock.advance(TODAY - clock.today())
    household = filed(units["a1"])
    pair(household, alice, first=True)
    client = as_user(alice)
    photo = png_bytes()
    response = client.post(
        reverse("cases:visit_log", args=[household.pk]),
        {
            "visited_on": clock.today().isoformat(),
            "kind": "home",
            **{f: "on" for f in Visit.SIX_KNOWNS},
            "photos": [SimpleUploadedFile("IMG_0001.png", photo, "image/png")],
        },
    )
    assert response.status_code == 302, response.content[:500]
    kept = VisitPhoto.objects.get()
    assert _stored(memory, "visits") == [kept.file.name]

    url = reverse("cases:visit_photo", args=[kept.pk])
    assert as_user(erin).get(url).status_code == 403
    shown = as_user(alice).get(url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == photo
    assert AuditEvent.objects.filter(action="visit.photo_view").count() == 1


def test_an_import_waits_in_the_storage_and_is_removed_once_imported(memory, as_user, alice, units):
    client = as_user(alice)
    rows = [good_row(户主姓名=f"导入户{i}") for i in range(3)]
    preview = client.post(reverse("reports:import_start"), {"file": upload(xlsx(rows))})
    check = Job.objects.get()
    assert _stored(memory, "imports") == [check.params["upload"]]
    assert "检查通过：可导入 3 户" in client.get(preview["Location"]).content.decode()

    client.post(reverse("reports:import_confirm", args=[check.pk]))
    assert Job.objects.filter(status=JobStatus.DONE).count() == 2
    assert _stored(memory, "imports") == []


def test_an_error_list_is_a_job_result_downloaded_from_the_storage(
    memory, as_user, alice, bob, units
):
    client = as_user(alice)
    bad = good_row(身份证号="110101199003077777")
    client.post(reverse("reports:import_start"), {"file": upload(xlsx([bad]))})
    job = Job.objects.get()
    assert job.file and _stored(memory, "jobs") == [job.file.name]
    url = reverse("reports:job_download", args=[job.pk])
    assert as_user(bob).get(url).status_code == 404
    response = as_user(alice).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"PK")
    assert AuditEvent.objects.filter(action="job.download", actor=alice).count() == 1


def test_a_migration_is_read_from_the_storage_through_a_passing_copy(
    memory, as_user, carol, units, monkeypatch
):
    """The workbook readers want a file: from object storage they get a
    temporary copy, gone as soon as the check is done."""
    import reports.imports_migrate as flow

    seen: list[Path] = []
    real = flow.register_import

    def spy(**kwargs):
        seen.append(Path(kwargs["path"]))
        return real(**kwargs)

    monkeypatch.setattr(flow, "register_import", spy)
    client = as_user(carol)
    response = client.post(
        reverse("reports:migrate_register_start"),
        {"file": upload(register_xlsx([register_row()], []), "原档案.xlsx")},
    )
    page = client.get(response["Location"]).content.decode()
    assert "检查通过" in page
    check = Job.objects.get()
    assert _stored(memory, "imports") == [check.params["upload"]]
    assert len(seen) == 1 and not seen[0].exists()


def test_a_document_made_by_the_worker_is_stored_and_downloaded(
    memory, as_user, alice, bob, units, monkeypatch, django_capture_on_commit_callbacks
):
    household = make_household(units["a1"], name="王秀兰")
    monkeypatch.setattr("reports.views.documents.in_background", lambda *a: True)
    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            reverse("reports:household_card", args=[household.pk]), {"format": "pdf"}
        )
    job = Job.objects.get()
    assert response["Location"] == reverse("reports:job_detail", args=[job.pk])
    _worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert _stored(memory, "jobs") == [job.file.name]

    url = reverse("reports:job_download", args=[job.pk])
    assert as_user(bob).get(url).status_code == 404
    response = as_user(alice).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert AuditEvent.objects.filter(action="job.download", actor=alice).count() == 1
