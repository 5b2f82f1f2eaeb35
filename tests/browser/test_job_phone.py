"""A background job on a phone: the progress bar while it runs; when its
worker has died, the failure, what to do, and 重新开始, all within the
screen's width."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.jobs import KINDS, JobOutput, job_kind
from reports.models import Job, JobStatus
from tests.browser.helpers import assert_fits_phone
from tests.builders import make_unit, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def export_kind():
    @job_kind("test_phone_export")
    def export(job, progress):
        return JobOutput(filename="导出.csv", content=b"a\n", content_type="text/csv")

    yield export
    KINDS.pop("test_phone_export")


def test_a_dead_job_shows_why_and_starts_again_on_a_phone(page, login_as, export_kind):
    county = make_unit("410105", "金水区总工会")
    alice = make_user("alice", county, "caseworker", full_name="张丽")
    job = Job.objects.create(
        kind="test_phone_export", title="困难职工花名册导出（XLSX）", created_by=alice,
        status=JobStatus.RUNNING, attempt=1, done=400, total=1000,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=1),
    )  # fmt: skip
    login_as(alice)
    page.goto(f"/reports/jobs/{job.pk}/")
    expect(page.get_by_label("进度")).to_be_visible()
    expect(page.get_by_text("已处理 400 / 1000")).to_be_visible()
    assert_fits_phone(page)

    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("超过 15 分钟没有进展")
    retry = page.get_by_role("button", name="重新开始")
    expect(retry).to_be_visible()
    assert_fits_phone(page)
    retry.click()
    expect(page.get_by_text("已重新开始")).to_be_visible()
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
