"""Permission-walk entries for background jobs (see tests/test_permissions.py).

A job belongs to the person who started it; the builder makes one for the
caseworker of the household's county, so the other county's caseworker (and
the same person reaching into the other county) gets 404."""

from typing import Any

from django.core.files.base import ContentFile

from accounts.models import Membership
from cases.models import Household
from reports.models import Job, JobStatus
from tests.permission_routes import Page, Route


def _job(household: Household) -> Job:
    owner = next(
        m.user
        for m in Membership.objects.filter(role="caseworker").select_related("user", "unit")
        if m.unit.covers(household.unit)
    )
    job = Job(kind="export", title="导出", created_by=owner, status=JobStatus.DONE)
    job.file.save("x.csv", ContentFile(b"a,b\n"), save=False)
    job.filename = "x.csv"
    job.content_type = "text/csv"
    job.save()
    return job


def _failed_job(household: Household) -> Job:
    job = _job(household)
    job.kind = "document"
    job.status = JobStatus.FAILED
    job.message = "生成失败"
    job.file = ""
    job.save()
    return job


def _restarted(response: Any, _h: Household, job: Job) -> None:
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def _shown(response: Any, _h: Household, job: Job) -> None:
    assert response.status_code == 200
    assert job.title in response.content.decode()


def _downloaded(response: Any, _h: Household, _job: Job) -> None:
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n"


ROUTES: dict[str, Route] = {
    "reports:job_detail": Route(_job, ("GET",), (), allowed=_shown),
    "reports:job_download": Route(_job, ("GET",), (), allowed=_downloaded),
    "reports:job_retry": Route(
        _failed_job, ("POST",), (), payload=lambda h: {}, allowed=_restarted
    ),
}

PAGES: dict[str, Page] = {
    "reports:job_list": Page(("GET",), ("alice", "frank"), ()),
}
