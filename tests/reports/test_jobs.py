"""Background jobs: queued in the request, run by the worker, followed on the
page, downloaded by the person who started them and by nobody else."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from reports.jobs import KINDS, JobOutput, job_kind, job_run_now, job_start
from reports.models import Job, JobStatus


@pytest.fixture
def counting_kind():
    @job_kind("test_count")
    def count(job, progress):
        total = job.params["n"]
        for i in range(total):
            progress(i + 1, total)
        if job.params.get("fail"):
            raise ValueError("第 3 行金额格式不正确")
        return JobOutput(
            filename="计数.csv",
            content=("\n".join(str(i) for i in range(total))).encode(),
            content_type="text/csv",
            message=f"共 {total} 行",
        )

    yield count
    KINDS.pop("test_count")


def _worker(monkeypatch):
    """The real worker command, once through the queue. Inside a test the
    connection is the test's transaction, which the worker must not close."""
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


@pytest.mark.django_db
def test_a_queued_job_runs_in_the_worker_and_its_file_downloads(
    counting_kind, alice, bob, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(actor=alice, kind="test_count", title="导出测试", params={"n": 5})
    client = as_user(alice)
    page = client.get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert "排队中" in page
    assert "下载" not in page

    _worker(monkeypatch)

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.message) == (JobStatus.DONE, 5, 5, "共 5 行")
    fragment = client.get(reverse("reports:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "已完成" in fragment.content.decode()
    assert "hx-trigger" not in fragment.content.decode()  # polling stops
    response = client.get(reverse("reports:job_download", args=[job.pk]))
    assert b"".join(response.streaming_content) == b"0\n1\n2\n3\n4"
    assert "attachment" in response["Content-Disposition"]

    other = as_user(bob)
    assert other.get(reverse("reports:job_detail", args=[job.pk])).status_code == 404
    assert other.get(reverse("reports:job_download", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_a_failing_job_says_why(counting_kind, alice, as_user):
    job = job_run_now(actor=alice, kind="test_count", title="导入测试", params={"n": 3, "fail": 1})
    assert job.status == JobStatus.FAILED
    page = as_user(alice).get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert "失败" in page and "第 3 行金额格式不正确" in page
    assert as_user(alice).get(reverse("reports:job_download", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_the_job_list_shows_only_my_jobs(counting_kind, alice, bob, as_user):
    job_run_now(actor=alice, kind="test_count", title="张丽的导出", params={"n": 1})
    job_run_now(actor=bob, kind="test_count", title="刘波的导出", params={"n": 1})
    page = as_user(alice).get(reverse("reports:job_list")).content.decode()
    assert "张丽的导出" in page and "刘波的导出" not in page
    assert Job.objects.count() == 2
