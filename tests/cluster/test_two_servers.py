"""Two app servers behind nginx, as `make cluster` runs them: a person signs
in through nginx, a photo uploaded on one server comes back from the other,
and an export job taken by either of two workers is downloaded from the
other server. PostgreSQL only: the servers are separate processes sharing
one database (`hardship_cluster_test`, made and dropped here, not the test
run's own; copied from a migrated `hardship_cluster_test_template` kept
between runs) and one private folder."""

import datetime
import hashlib
import io
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, urlsplit
from urllib.request import (
    HTTPCookieProcessor,
    HTTPRedirectHandler,
    OpenerDirector,
    Request,
    build_opener,
)
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from openpyxl import load_workbook
from PIL import Image
from psycopg import sql

from deploy import cluster as cluster_script

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the servers share one PostgreSQL database; SQLite has no server",
    ),
]

DATABASE = "hardship_cluster_test"
TEMPLATE = f"{DATABASE}_template"
WAIT_S = 60

# Run once in the cluster's database with the base settings (the demo app
# is left out of production): the demo city, fresh passwords for two
# caseworkers of different counties, a filed household the first may visit,
# and an intake notice long enough that its spreadsheet is made by a worker.
SETUP = r"""
import io, json, secrets
from django.core.management import call_command
from accounts.models import User
from cases.models import Household, HouseholdStatus, IntakeNotice, NoticeEntry
from cases.services.followup import may_log_visit
from reports.documents import BACKGROUND_ROWS
from cases import clock

call_command("seed_demo", stdout=io.StringIO())
passwords = {}
for name in ("demo_caseworker", "demo_caseworker2"):
    user = User.objects.get(username=name)
    passwords[name] = secrets.token_urlsafe(16)
    user.set_password(passwords[name])
    user.save(update_fields=["password"])
worker = User.objects.get(username="demo_caseworker")
household = next(
    h for h in Household.objects.filter(status=HouseholdStatus.FILED).order_by("id")
    if may_log_visit(worker, h)
)
# Exited copies: outside the one-file-per-ID rule, so they need no new ID number.
fields = {
    f.attname: getattr(household, f.attname)
    for f in Household._meta.concrete_fields if not f.primary_key
}
fields.update(status=HouseholdStatus.EXITED, file_number=None)
rows = BACKGROUND_ROWS + 1
copies = Household.objects.bulk_create(
    [Household(**fields) for _ in range(rows)], batch_size=1000
)
today = clock.today()
notice = IntakeNotice.objects.create(
    unit=household.unit, title="集群试运行公示", starts_on=today, working_days=5,
    ends_on=today, posted_at="工会公告栏", created_by=worker,
)
NoticeEntry.objects.bulk_create(NoticeEntry(notice=notice, household=h) for h in copies)
print(json.dumps({
    "passwords": passwords, "household": household.pk, "notice": notice.pk, "rows": rows,
}))
"""


class LocalSecureCookies(DefaultCookiePolicy):
    """The production cookies are Secure; like a browser on
    http://127.0.0.1, send them there anyway."""

    def return_ok_secure(self, cookie: Cookie, request: Any) -> bool:
        if urlsplit(request.get_full_url()).hostname == "127.0.0.1":
            return True
        return bool(super().return_ok_secure(cookie, request))


class NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """One person's cookies (one session, valid on every server)."""

    def __init__(self) -> None:
        self.jar = CookieJar(policy=LocalSecureCookies())
        self.opener: OpenerDirector = build_opener(HTTPCookieProcessor(self.jar), NoRedirects())

    def request(
        self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        request = Request(url, data=data, headers=headers or {})  # noqa: S310 (127.0.0.1)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Response(response.status, response.headers, response.read())
        except HTTPError as error:
            return Response(error.code, error.headers, error.read())

    def get(self, url: str) -> Response:
        return self.request(url)

    def post(
        self, url: str, fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]] = ()
    ) -> Response:
        """A form POST as a browser sends it: the CSRF token of the page,
        the page's Origin, multipart when there are files."""
        page = self.get(url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None, f"no form at {url}: {page.status}"
        fields = [("csrfmiddlewaretoken", token.group(1)), *fields]
        parts = urlsplit(url)
        headers = {"Origin": f"{parts.scheme}://{parts.netloc}", "Referer": url}
        boundary = secrets.token_hex(16)
        body = b""
        for name, value in fields:
            body += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
        for name, filename, content in files:
            body += (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}";'
                    f' filename="{quote(filename)}"\r\nContent-Type: image/png\r\n\r\n'
                ).encode()
                + content
                + b"\r\n"
            )
        body += f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return self.request(url, body, headers)

    def sign_in(self, base: str, username: str, password: str) -> None:
        response = self.post(
            f"{base}/accounts/login/", [("username", username), ("password", password)]
        )
        assert response.status == 302, response.text[:2000]
        assert any(c.name == "sessionid" for c in self.jar)


@dataclass
class Trial:
    cluster: Any
    data: dict[str, Any]
    caseworker: Browser
    outsider: Browser

    @property
    def nginx(self) -> str:
        return str(self.cluster.url)

    @property
    def server_a(self) -> str:
        return str(self.cluster.app_urls[0])

    @property
    def server_b(self) -> str:
        return str(self.cluster.app_urls[1])


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def _migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for app in apps.get_app_configs():
        for path in sorted((Path(app.path) / "migrations").glob("*.py")):
            digest.update(f"{app.label}/{path.name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _database_from_template(url: str) -> None:
    """The trial database as a copy of a migrated one: migrating from
    nothing takes half a minute, copying a second. The template
    (`hardship_cluster_test_template`) stays for the next run and is built
    again whenever a migration changes."""
    template_url = _database_url(TEMPLATE)
    server = _database_url("postgres")
    fingerprint = _migrations_fingerprint()
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [TEMPLATE],
        ).fetchone()
    if row is None or row[0] != fingerprint:
        cluster_script.database_ensure(template_url, fresh=True)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=cluster_script.BASE_DIR,
            env=dict(
                os.environ, DJANGO_SETTINGS_MODULE="config.settings.base", DATABASE_URL=template_url
            ),
            check=True,
            timeout=600,
        )
    cluster_script.database_drop(url)
    with psycopg.connect(server, autocommit=True) as conn:
        if row is None or row[0] != fingerprint:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(TEMPLATE), sql.Literal(fingerprint)
                )
            )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(DATABASE), sql.Identifier(TEMPLATE)
            )
        )


@pytest.fixture
def trial(tmp_path: Path) -> Iterator[Trial]:
    if cluster_script.nginx_binary() is None:
        pytest.skip("nginx is not installed (make test installs it: apt-get install nginx)")
    if not cluster_script.gunicorn_available():
        pytest.skip("gunicorn is not installed in this environment")
    url = _database_url(DATABASE)
    _database_from_template(url)
    data: dict[str, Any] = {}

    def fill(running: Any) -> None:
        out = running.manage("shell", "-c", SETUP, settings="config.settings.base")
        data.update(json.loads(out.stdout.strip().splitlines()[-1]))

    port, *app_ports = cluster_script.free_ports(3)
    running = cluster_script.start(
        url,
        port=port,
        app_ports=app_ports,
        workers=2,
        web_workers=1,
        workdir=tmp_path / "cluster",
        seed=False,
        timeout=WAIT_S,
        while_starting=fill,
    )
    try:
        caseworker, outsider = Browser(), Browser()
        caseworker.sign_in(running.url, "demo_caseworker", data["passwords"]["demo_caseworker"])
        outsider.sign_in(running.url, "demo_caseworker2", data["passwords"]["demo_caseworker2"])
        yield Trial(running, data, caseworker, outsider)
    finally:
        running.stop()
        cluster_script.database_drop(url)


def nginx_spreads_one_session_over_both_servers_and_serves_static_files_itself(
    trial: Trial,
) -> None:
    answered = []
    for _ in range(4):
        page = trial.caseworker.get(f"{trial.nginx}/households/")
        assert page.status == 200 and "家庭档案" in page.text
        answered.append(page.headers["X-Upstream"])
    ports = {urlsplit(u).port for u in (trial.server_a, trial.server_b)}
    assert {int(a.rsplit(":", 1)[1]) for a in answered} == ports

    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text)
    assert stylesheet is not None
    static = trial.caseworker.get(trial.nginx + stylesheet.group(1))
    assert static.status == 200 and "X-Upstream" not in static.headers
    assert static.headers["Server"] == "nginx"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.frombytes("RGB", (16, 16), secrets.token_bytes(16 * 16 * 3)).save(buf, format="PNG")
    return buf.getvalue()


def a_photo_uploaded_on_one_server_is_downloaded_from_the_other(trial: Trial) -> None:
    household = trial.data["household"]
    photo = _png()
    today = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    saved = trial.caseworker.post(
        f"{trial.server_a}/households/{household}/visits/new/",
        [("visited_on", today.isoformat()), ("kind", "home"), ("needs", "集群试运行")],
        files=[("photos", "IMG_0001.png", photo)],
    )
    assert saved.status == 302, saved.text[:2000]

    detail = trial.caseworker.get(f"{trial.server_b}/households/{household}/")
    links = [int(n) for n in re.findall(r'href="/visit-photos/(\d+)/"', detail.text)]
    assert links, "the other server shows no photo link"
    url = f"/visit-photos/{max(links)}/"
    shown = trial.caseworker.get(trial.server_b + url)
    assert shown.status == 200 and shown.headers["Content-Type"] == "image/png"
    assert shown.body == photo
    # Kept in the shared folder, not on either server's own disk.
    private = Path(trial.cluster.workdir) / "private"
    assert any(p.read_bytes() == photo for p in private.rglob("*") if p.is_file())
    # Still permission-checked: a caseworker of another county gets 404.
    assert trial.outsider.get(trial.nginx + url).status == 404


def _worker_of(trial: Trial, job: int) -> list[str]:
    with psycopg.connect(trial.cluster.database_url) as conn:
        row = conn.execute(
            "SELECT r.worker_ids FROM reports_job j"
            " JOIN django_tasks_database_dbtaskresult r ON r.id::text = j.task_id"
            " WHERE j.id = %s",
            [job],
        ).fetchone()
    assert row is not None
    return list(row[0])


def an_export_job_run_by_either_worker_is_downloaded_from_the_other_server(
    trial: Trial,
) -> None:
    notice = trial.data["notice"]
    started = trial.caseworker.get(
        f"{trial.server_a}/reports/documents/notices/{notice}/?format=xlsx"
    )
    assert started.status == 302, started.text[:2000]
    job_match = re.fullmatch(r"/reports/jobs/(\d+)/", started.headers["Location"])
    assert job_match is not None, started.headers["Location"]
    job = int(job_match.group(1))
    download = f"/reports/jobs/{job}/download/"

    deadline = time.monotonic() + WAIT_S
    while download not in (page := trial.caseworker.get(f"{trial.nginx}/reports/jobs/{job}/")).text:
        assert page.status == 200
        assert time.monotonic() < deadline, f"job {job} not done in {WAIT_S} s:\n" + "\n".join(
            trial.cluster.log_tail(w) for w in ("worker-1", "worker-2")
        )
        time.sleep(0.5)
    assert _worker_of(trial, job) in (["worker-1"], ["worker-2"])

    file = trial.caseworker.get(trial.server_b + download)
    assert file.status == 200
    assert "attachment" in file.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(file.body), read_only=True).active
    assert sheet is not None
    listed = [row for row in sheet.iter_rows(values_only=True) if row and row[0] is not None]
    assert len([r for r in listed if isinstance(r[0], int)]) == trial.data["rows"]
    # The job is its creator's alone, whichever server is asked.
    assert trial.outsider.get(trial.nginx + download).status == 404
    assert trial.outsider.get(trial.server_b + download).status == 404


def test_two_app_servers_behind_nginx_share_sessions_files_and_jobs(trial: Trial) -> None:
    """One test, one cluster: starting it is most of the time, and under
    pytest-xdist separate tests could land on two processes at once."""
    nginx_spreads_one_session_over_both_servers_and_serves_static_files_itself(trial)
    a_photo_uploaded_on_one_server_is_downloaded_from_the_other(trial)
    an_export_job_run_by_either_worker_is_downloaded_from_the_other_server(trial)
