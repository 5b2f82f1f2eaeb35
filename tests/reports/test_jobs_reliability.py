"""Jobs tell the truth: a failure is a failure in the job and in the queue,
a job whose worker died is marked failed and can be started again, and no
way of starting or running a job twice leaves two files behind."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from reports.jobs import (
    KINDS,
    JobOutput,
    job_kind,
    job_retry,
    job_run_now,
    job_start,
    run_job,
)
from reports.models import Job, JobStatus
from tests.race import on_postgres, race

CALLS: list[int] = []


@pytest.fixture
def export_kind():
    """A job that writes a small file, or fails as its parameters say."""
    CALLS.clear()

    @job_kind("test_export")
    def export(job, progress):
        CALLS.append(job.pk)
        progress(1, 2)
        if job.params.get("fail") == "bad_row":
            raise ValueError("文件第 3 行金额格式不正确")
        if job.params.get("fail") == "bug":
            raise KeyError(None)
        progress(2, 2)
        return JobOutput(filename="导出.csv", content=b"a,b\n1,2\n", content_type="text/csv")

    yield export
    KINDS.pop("test_export")


def _worker(monkeypatch):
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def _stored() -> set[Path]:
    return {p for p in (Path(settings.PRIVATE_STORAGE_ROOT) / "jobs").rglob("*") if p.is_file()}


@pytest.fixture
def new_files():
    """The result files this test stored (the private storage is shared)."""
    before = _stored()
    return lambda: sorted(_stored() - before)


def _queue_row(job: Job) -> DBTaskResult:
    job.refresh_from_db()
    return DBTaskResult.objects.get(id=job.task_id)


# -- a failure is recorded as one, in the job and in the queue --------------


@pytest.mark.django_db
def test_a_job_that_fails_in_the_worker_is_failed_in_the_job_and_in_the_queue(
    new_files, export_kind, alice, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(actor=alice, kind="test_export", title="导出", params={"fail": "bad_row"})
    _worker(monkeypatch)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "处理失败：文件第 3 行金额格式不正确"
    assert _queue_row(job).status == TaskResultStatus.FAILED
    assert "ValueError" in _queue_row(job).exception_class_path
    page = as_user(alice).get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert "失败" in page and "文件第 3 行金额格式不正确" in page and "重新开始" in page
    assert not new_files()


@pytest.mark.django_db
def test_an_unexpected_error_tells_what_to_do_and_shows_no_traceback(
    export_kind, alice, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(actor=alice, kind="test_export", title="导出", params={"fail": "bug"})
    _worker(monkeypatch)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message.startswith("生成失败：")
    assert f"任务编号 {job.pk}" in job.message and "联系管理员" in job.message
    page = as_user(alice).get(reverse("reports:job_detail", args=[job.pk])).content.decode()
    assert "KeyError" not in page and "Traceback" not in page
    assert _queue_row(job).status == TaskResultStatus.FAILED


@pytest.mark.django_db
def test_a_job_that_succeeds_is_successful_in_the_queue(
    new_files, export_kind, alice, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(actor=alice, kind="test_export", title="导出", params={})
    _worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert _queue_row(job).status == TaskResultStatus.SUCCESSFUL
    assert len(new_files()) == 1


@pytest.mark.django_db
def test_a_job_run_in_the_request_records_its_failure_without_a_500(export_kind, alice):
    job = job_run_now(actor=alice, kind="test_export", title="导入", params={"fail": "bad_row"})
    assert (job.status, job.message) == (JobStatus.FAILED, "处理失败：文件第 3 行金额格式不正确")


# -- a worker that died ------------------------------------------------------


def _running(user, *, quiet_for: datetime.timedelta, title="导出") -> Job:
    """A job some worker took and then stopped reporting on."""
    job = Job.objects.create(
        kind="test_export",
        title=title,
        created_by=user,
        status=JobStatus.RUNNING,
        attempt=1,
        done=1,
        total=2,
    )
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - quiet_for)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_failed_when_its_page_is_opened(
    export_kind, alice, as_user, settings
):
    settings.JOB_STALE_AFTER_MINUTES = 15
    dead = _running(alice, quiet_for=datetime.timedelta(minutes=16), title="死掉的导出")
    alive = _running(alice, quiet_for=datetime.timedelta(minutes=2), title="还在跑的导出")
    client = as_user(alice)

    page = client.get(reverse("reports:job_detail", args=[dead.pk])).content.decode()
    assert "失败" in page and "超过 15 分钟没有进展" in page and "重新开始" in page
    assert 'hx-trigger="every 1s"' not in page  # the page stops polling a dead job

    page = client.get(reverse("reports:job_detail", args=[alive.pk])).content.decode()
    assert "处理中" in page and "重新开始" not in page
    alive.refresh_from_db()
    assert alive.status == JobStatus.RUNNING


@pytest.mark.django_db
def test_the_job_list_and_the_sweep_command_mark_dead_jobs(export_kind, alice, as_user):
    listed = _running(alice, quiet_for=datetime.timedelta(hours=1), title="列表里的导出")
    page = as_user(alice).get(reverse("reports:job_list")).content.decode()
    assert "失败" in page and "查看原因并重新开始" in page
    listed.refresh_from_db()
    assert listed.status == JobStatus.FAILED

    swept = _running(alice, quiet_for=datetime.timedelta(hours=1), title="夜里的导出")
    fresh = _running(alice, quiet_for=datetime.timedelta(seconds=5), title="刚开始的导出")
    call_command("jobs_sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
    swept.refresh_from_db()
    fresh.refresh_from_db()
    assert swept.status == JobStatus.FAILED
    assert fresh.status == JobStatus.RUNNING


@pytest.mark.django_db
def test_the_queue_row_of_a_dead_job_fails_too(
    export_kind, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(actor=alice, kind="test_export", title="导出", params={})
    row = _queue_row(job)
    DBTaskResult.objects.filter(pk=row.pk).update(status=TaskResultStatus.RUNNING)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempt=1, heartbeat_at=timezone.now() - datetime.timedelta(1)
    )
    call_command("jobs_sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _queue_row(job).status == TaskResultStatus.FAILED


@pytest.mark.django_db
def test_a_dead_job_is_started_again_with_the_button_and_finishes(
    new_files, export_kind, alice, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    job = _running(alice, quiet_for=datetime.timedelta(hours=1))
    client = as_user(alice)
    client.get(reverse("reports:job_detail", args=[job.pk]))  # marks it failed

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:job_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.message == ""
    _worker(monkeypatch)

    job.refresh_from_db()
    assert (job.status, job.attempt) == (JobStatus.DONE, 2)
    assert len(new_files()) == 1
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert b"".join(download.streaming_content) == b"a,b\n1,2\n"


@pytest.mark.django_db
def test_only_a_failed_job_can_be_started_again_and_only_by_its_owner(
    export_kind, alice, bob, as_user
):
    done = job_run_now(actor=alice, kind="test_export", title="导出", params={})
    client = as_user(alice)
    response = client.post(reverse("reports:job_retry", args=[done.pk]), follow=True)
    assert "只有失败的任务可以重新开始" in response.content.decode()
    done.refresh_from_db()
    assert done.status == JobStatus.DONE and done.attempt == 1

    failed = job_run_now(actor=alice, kind="test_export", title="导出", params={"fail": "bug"})
    assert as_user(bob).post(reverse("reports:job_retry", args=[failed.pk])).status_code == 404
    assert as_user(alice).get(reverse("reports:job_retry", args=[failed.pk])).status_code == 405
    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED


# -- twice never makes two files --------------------------------------------


@pytest.mark.django_db
def test_a_task_delivered_twice_runs_the_job_once(
    new_files, export_kind, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = job_start(actor=alice, kind="test_export", title="导出", params={})
    assert run_job.call(job.pk) == JobStatus.DONE
    assert run_job.call(job.pk) == "skipped"
    assert [job.pk] == CALLS
    assert len(new_files()) == 1


@pytest.mark.django_db
def test_a_worker_presumed_dead_that_wakes_up_after_a_retry_adds_no_file(
    new_files, export_kind, alice, django_capture_on_commit_callbacks
):
    """The first run stalls past the timeout; the job is marked failed and
    started again; the retry finishes; then the first run finishes too."""
    woken: list = []

    @job_kind("test_slow")
    def slow(job, progress):
        if job.attempt == 1:
            # While this run "sleeps", the sweep gives up on it and the
            # person starts the job again, which finishes first.
            Job.objects.filter(pk=job.pk).update(
                heartbeat_at=timezone.now() - datetime.timedelta(hours=1)
            )
            call_command("jobs_sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115
            with django_capture_on_commit_callbacks(execute=False):
                job_retry(actor=alice, job=job)
            woken.append(run_job.call(job.pk))
        return JobOutput(filename=f"第{job.attempt}次.csv", content=b"x", content_type="text/csv")

    try:
        with django_capture_on_commit_callbacks(execute=False):
            job = job_start(actor=alice, kind="test_slow", title="慢导出", params={})
        run_job.call(job.pk)
    finally:
        KINDS.pop("test_slow")

    job.refresh_from_db()
    assert woken == [JobStatus.DONE]
    assert (job.status, job.attempt, job.filename) == (JobStatus.DONE, 2, "第2次.csv")
    assert len(new_files()) == 1


@pytest.mark.django_db
def test_a_double_click_starts_one_job(export_kind, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        first = job_start(actor=alice, kind="test_export", title="导出", params={"n": 1})
        second = job_start(actor=alice, kind="test_export", title="导出", params={"n": 1})
        other = job_start(actor=alice, kind="test_export", title="导出", params={"n": 2})
    assert first.pk == second.pk != other.pk
    assert len(queued) == 2
    assert DBTaskResult.objects.count() == 2
    # Once the first has finished, the same request is a new job.
    run_job.call(first.pk)
    again = job_start(actor=alice, kind="test_export", title="导出", params={"n": 1})
    assert again.pk != first.pk


@pytest.mark.django_db
def test_retry_while_the_same_request_is_running_does_not_start_a_second(
    export_kind, alice, django_capture_on_commit_callbacks
):
    failed = job_run_now(actor=alice, kind="test_export", title="导出", params={"fail": "bug"})
    with django_capture_on_commit_callbacks(execute=False):
        running = job_start(actor=alice, kind="test_export", title="导出", params={"fail": "bug"})
    assert running.pk != failed.pk
    with django_capture_on_commit_callbacks(execute=False) as queued:
        shown = job_retry(actor=alice, job=failed)
    assert shown.pk == running.pk and not queued
    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_workers_running_one_job_at_once_write_one_file(new_files, export_kind, alice):
    job = Job.objects.create(kind="test_export", title="导出", created_by=alice, key="k")
    outcomes: list = []
    race(6, lambda i: outcomes.append(run_job.call(job.pk)))
    job.refresh_from_db()
    assert sorted(outcomes) == [JobStatus.DONE] + ["skipped"] * 5
    assert [job.pk] == CALLS
    assert job.status == JobStatus.DONE and len(new_files()) == 1


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_tabs_starting_one_request_at_once_make_one_job(export_kind, alice):
    started: list = []
    race(
        6,
        lambda i: started.append(
            job_start(actor=alice, kind="test_export", title="导出", params={"n": 1}).pk
        ),
    )
    assert len(started) == 6 and len(set(started)) == 1
    assert Job.objects.filter(created_by=alice).count() == 1
    assert DBTaskResult.objects.count() == 1


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_retry_clicked_in_many_tabs_at_once_queues_the_job_once(export_kind, alice):
    job = Job.objects.create(
        kind="test_export", title="导出", created_by=alice, status=JobStatus.FAILED, key="k"
    )
    race(6, lambda i: job_retry(actor=alice, job=job))
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert DBTaskResult.objects.count() == 1
