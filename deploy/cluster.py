"""`make cluster`: the system as several servers, on this one machine.

    .venv/bin/python deploy/cluster.py [--port 8100] [--app-ports 8101,8102]
        [--workers 2] [--web-workers 2] [--workdir var/cluster] [--no-seed]

Starts what deploy/README.md installs on real machines, with the production
settings: nginx (the Debian package) on 127.0.0.1:8100 in front of two
gunicorn app servers (127.0.0.1:8101 and :8102) and two background workers
(`manage.py db_worker`), all sharing one PostgreSQL database and one private
folder (PRIVATE_STORAGE_ROOT, standing in for the NFS mount). nginx serves
the collected static files itself and says which app server answered in an
`X-Upstream` response header. Ctrl-C (or SIGTERM) stops everything.

The database is DATABASE_URL when set, else `hardship_cluster` on
127.0.0.1:5432; it is created and migrated when needed and given the demo
data (`seed_demo`, `seed_demo_money`) while it has no household. The nginx
configuration is generated from deploy/nginx/hardship.conf (plain HTTP on
127.0.0.1 instead of TLS), so the trial runs the site that is deployed.

Plain HTTP on 127.0.0.1 only: DJANGO_SECURE_SSL_REDIRECT=False and
DJANGO_SECURE_HSTS_SECONDS=0; the session and CSRF cookies stay Secure,
which browsers accept from http://localhost and http://127.0.0.1.

`start()` is what tests/cluster/ uses: it returns a `Cluster` whose `stop()`
ends every process it started.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
SITE_TEMPLATE = BASE_DIR / "deploy" / "nginx" / "hardship.conf"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hardship_cluster"
PYTHON = sys.executable
# Where Debian's nginx package keeps the file-extension → MIME type table.
MIME_TYPES = Path("/etc/nginx/mime.types")
READY_PATH = "/accounts/login/"


class ClusterError(Exception):
    """Something the cluster needs is missing or did not start; the message
    says what."""


class Stop(Exception):
    """SIGTERM, handled like Ctrl-C."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def gunicorn_available() -> bool:
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [PYTHON, "-c", "import gunicorn"], capture_output=True, check=False
    )
    return result.returncode == 0


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on now (for tests)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


# -- the database ------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def database_ensure(url: str, *, fresh: bool = False) -> None:
    """Create the database unless it exists; with `fresh`, drop it first
    (allowed only for a database whose name says it is a cluster trial)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ClusterError("the cluster shares one PostgreSQL database: DATABASE_URL must be one")
    name = database_name(url)
    server = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and fresh:
                database_drop(url)
                exists = None
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise ClusterError(f"PostgreSQL does not answer at {parts.hostname}: {exc}") from exc


def database_drop(url: str) -> None:
    name = database_name(url)
    if "cluster" not in name:
        raise ClusterError(f"refusing to drop {name!r}: only a cluster trial database")
    server = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_has_households(url: str) -> bool:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM cases_household)").fetchone() == (True,)


# -- settings ----------------------------------------------------------------------


def server_env(
    database_url: str, workdir: Path, *, public_port: int, secret_key: str | None = None
) -> dict[str, str]:
    """The production settings for plain HTTP on 127.0.0.1, behind one proxy,
    with the private folder every server shares."""
    env = dict(os.environ)
    # Nothing from the caller's environment may point a server elsewhere.
    for name in ("DATABASE_REPLICA_URL", "PRIVATE_S3_BUCKET", "AWS_STORAGE_BUCKET_NAME"):
        env.pop(name, None)
    origins = [f"http://{host}:{public_port}" for host in ("127.0.0.1", "localhost")]
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secret_key or secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # nginx passes Host without the port; the browser's Origin has it.
        DJANGO_CSRF_TRUSTED_ORIGINS=",".join(origins),
        DATABASE_URL=database_url,
        DJANGO_SECURE_SSL_REDIRECT="False",
        DJANGO_SECURE_HSTS_SECONDS="0",
        TRUSTED_PROXY_COUNT="1",
        STATIC_ROOT=str(workdir / "static"),
        PRIVATE_STORAGE_BACKEND="filesystem",
        PRIVATE_STORAGE_ROOT=str(workdir / "private"),
        DB_POOL_MAX="4",
        LOG_LEVEL="WARNING",
        XDG_CACHE_HOME=str(workdir / "cache"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _secret_key(workdir: Path) -> str:
    """Kept in the work folder: a restart does not sign everyone out."""
    path = workdir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


# -- nginx -------------------------------------------------------------------------


def _replace(
    pattern: str,
    replacement: str | Callable[[re.Match[str]], str],
    text: str,
    *,
    every: bool = False,
) -> str:
    """re.sub that fails loudly when deploy/nginx/hardship.conf no longer has
    what the trial configuration is made from."""
    result, count = re.subn(pattern, replacement, text, count=0 if every else 1, flags=re.M)
    if count == 0:
        raise ClusterError(f"deploy/nginx/hardship.conf has no line matching {pattern!r}")
    return result


def nginx_site(*, listen: int, app_ports: Sequence[int], static_root: Path) -> str:
    """deploy/nginx/hardship.conf for this machine: plain HTTP on
    127.0.0.1:`listen` instead of the TLS server, the app servers on
    `app_ports`, static files from `static_root`, and an X-Upstream header
    naming the app server that answered. Every other directive (upload size,
    timeouts, proxy headers, gzip, caching of static files) is the site's."""
    site = SITE_TEMPLATE.read_text(encoding="utf-8")
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in app_ports)
    site = _replace(r"^\s*server 127\.0\.0\.1:\d+;\n", "", site, every=True)
    site = _replace(r"^\s*least_conn;\n", lambda m: m.group(0) + servers, site)
    # The HTTP → HTTPS redirect server has no place on plain HTTP.
    site = _replace(r"^(?:#[^\n]*\n)*server \{[^{}]*return 301[^{}]*\}\n+", "", site)
    site = _replace(r"^\s*listen 443 ssl[^;]*;\n", f"    listen 127.0.0.1:{listen};\n", site)
    site = _replace(r"^\s*listen \[::\]:443[^;]*;\n", "", site)
    site = _replace(r"^(\s*)server_name [^;]+;", r"\1server_name 127.0.0.1 localhost;", site)
    site = _replace(r"^\s*ssl_\w+ [^;]*;[^\n]*\n", "", site, every=True)
    site = _replace(r"alias /srv/hardship/static/;", lambda m: f"alias {static_root}/;", site)
    site = _replace(
        r"^(\s*)proxy_pass http://hardship_app;\n",
        r"\g<0>\1add_header X-Upstream $upstream_addr always;\n",
        site,
    )
    return site


def nginx_conf(*, workdir: Path, listen: int, app_ports: Sequence[int]) -> str:
    """A whole nginx.conf of its own (pid, logs and temp files in `workdir`),
    so the trial needs neither root nor the system's nginx setup."""
    home = workdir / "nginx"
    logs = workdir / "logs"
    lines = [
        "# Generated by deploy/cluster.py from deploy/nginx/hardship.conf;",
        "# change that file, not this one.",
    ]
    if os.geteuid() == 0:
        # Run as root, nginx hands its workers to an unprivileged user; they
        # read only the static files and their own temp folders. A work
        # folder that user cannot reach (a private temp folder) keeps root.
        static = workdir / "static"
        user = f"nobody {_nobody_group()}" if _others_can_read(static) else "root"
        lines.append(f"user {user};")
    lines += [
        "worker_processes 1;",
        f"pid {home}/nginx.pid;",
        f"error_log {logs}/nginx-error.log warn;",
        "events { worker_connections 256; }",
        "http {",
    ]
    if MIME_TYPES.is_file():
        lines.append(f"    include {MIME_TYPES};")
    else:
        lines.append(
            "    types { text/html html; text/css css; application/javascript js;"
            " image/svg+xml svg; image/png png; font/woff2 woff2; application/json json; }"
        )
    lines += [
        "    default_type application/octet-stream;",
        "    sendfile on;",
        *(
            f"    {kind}_temp_path {home}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
        f"    access_log {logs}/nginx-access.log;",
        "",
        nginx_site(listen=listen, app_ports=app_ports, static_root=workdir / "static"),
        "}",
        "",
    ]
    return "\n".join(lines)


def _others_can_read(folder: Path) -> bool:
    """Whether any user may open files in `folder`: every folder above it
    lets others through, and the folder itself lets them read."""
    if folder.stat().st_mode & 0o005 != 0o005:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in folder.parents)


def _nobody_group() -> str:
    for name in ("nogroup", "nobody"):
        try:
            grp.getgrnam(name)
        except KeyError:
            continue
        return name
    return "nobody"


# -- processes ---------------------------------------------------------------------


@dataclass
class Cluster:
    """The running trial: nginx at `url`, the app servers at `app_urls`."""

    url: str
    app_urls: list[str]
    database_url: str
    workdir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def spawn(self, name: str, command: list[str], extra: dict[str, str] | None = None) -> None:
        log = open(self.workdir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        self._logs.append(log)
        # A session of its own: Ctrl-C reaches this script only, which then
        # stops the processes in order.
        self.processes[name] = subprocess.Popen(  # noqa: S603 (commands of our own)
            command,
            cwd=BASE_DIR,
            env={**self.env, **(extra or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def manage(
        self, *args: str, settings: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`manage.py <args>` against the cluster's database and folders."""
        env = dict(self.env)
        if settings:
            env["DJANGO_SETTINGS_MODULE"] = settings
        result = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
        return result

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for base in [*self.app_urls, self.url]:
            while True:
                if dead := self.dead():
                    name = dead[0]
                    raise ClusterError(f"{name} stopped:\n{self.log_tail(name)}")
                try:
                    # Our own http://127.0.0.1 addresses.
                    ready = urllib.request.urlopen(base + READY_PATH, timeout=5)  # noqa: S310
                    with ready as response:
                        if response.status == 200:
                            break
                except (OSError, urllib.error.HTTPError):
                    pass
                if time.monotonic() > deadline:
                    raise ClusterError(f"{base} did not answer within {timeout:.0f} s")
                time.sleep(0.3)

    def stop(self, timeout: float = 20) -> None:
        """nginx first, then the app servers, then the workers (a job cut
        off is marked failed later and may be started again)."""
        for name in sorted(self.processes, key=_stop_order):
            process = self.processes[name]
            if process.poll() is None:
                _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait(timeout=5)
            # Whatever the process left behind in its session (gunicorn's
            # workers after a killed master) goes as well.
            _signal(process, signal.SIGKILL)
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_order(name: str) -> int:
    return 0 if name == "nginx" else 1 if name.startswith("web") else 2


def _signal(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _run_parallel(commands: dict[str, list[str]], env: dict[str, str], timeout: float) -> None:
    """Run the commands side by side; fail with the output of the first that fails."""
    running = {
        name: subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for name, command in commands.items()
    }
    try:
        for name, process in running.items():
            output, _ = process.communicate(timeout=timeout)
            if process.returncode != 0:
                raise ClusterError(f"{name} failed:\n{output.decode(errors='replace')[-3000:]}")
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def prepare(env: dict[str, str], *, seed: bool, timeout: float = 600) -> bool:
    """Migrate and collect the static files side by side, then give an empty
    database the demo data. Returns whether it seeded."""
    manage = [PYTHON, "manage.py"]
    _run_parallel(
        {
            "migrate": [*manage, "migrate", "--noinput", "-v0"],
            "collectstatic": [*manage, "collectstatic", "--noinput", "-v0"],
        },
        env,
        timeout,
    )
    if not seed or database_has_households(env["DATABASE_URL"]):
        return False
    # The demo commands live in the demo app, which production leaves out:
    # they run with the base settings (DEBUG on) against the same database.
    seed_env = dict(env, DJANGO_SETTINGS_MODULE="config.settings.base", DJANGO_DEBUG="True")
    for command in ("seed_demo", "seed_demo_money"):
        say(f"{command} …")
        result = subprocess.run(  # noqa: S603
            [*manage, command], cwd=BASE_DIR, env=seed_env, check=False, timeout=timeout
        )
        if result.returncode != 0:
            raise ClusterError(f"{command} failed")
    return True


def start(
    database_url: str | None = None,
    *,
    port: int = 8100,
    app_ports: Sequence[int] = (8101, 8102),
    workers: int = 2,
    web_workers: int = 2,
    workdir: Path | None = None,
    seed: bool = True,
    fresh: bool = False,
    timeout: float = 90,
    while_starting: Callable[[Cluster], None] | None = None,
) -> Cluster:
    """Start nginx, the app servers and the workers; return when every one
    answers (or raise ClusterError, with nothing left running).
    `while_starting` is called once they are launched, before they answer:
    the database is migrated by then (tests fill it meanwhile)."""
    nginx = nginx_binary()
    if nginx is None:
        raise ClusterError("nginx is not installed (Debian: apt-get install nginx)")
    if not gunicorn_available():
        raise ClusterError("gunicorn is not installed in this Python environment")
    url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    workdir = Path(workdir or tempfile.mkdtemp(prefix="hardship-cluster-")).resolve()
    for sub in ("static", "private", "logs", "nginx", "cache"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    # nginx's workers (an unprivileged user when started as root) read the
    # static files; the private files stay the app servers' alone.
    workdir.chmod(0o755)
    (workdir / "static").chmod(0o755)
    (workdir / "private").chmod(0o700)

    began = time.monotonic()
    database_ensure(url, fresh=fresh)
    env = server_env(url, workdir, public_port=port, secret_key=_secret_key(workdir))
    prepare(env, seed=seed)
    say(f"database {database_name(url)} and static files ready in {time.monotonic() - began:.0f} s")

    conf = workdir / "nginx" / "nginx.conf"
    conf.write_text(nginx_conf(workdir=workdir, listen=port, app_ports=app_ports), "utf-8")
    cluster = Cluster(
        url=f"http://127.0.0.1:{port}",
        app_urls=[f"http://127.0.0.1:{p}" for p in app_ports],
        database_url=url,
        workdir=workdir,
        env=env,
    )
    try:
        for n, app_port in enumerate(app_ports, 1):
            cluster.spawn(
                f"web-{n}",
                [
                    PYTHON, "-m", "gunicorn", "config.wsgi",
                    "--name", f"hardship-web-{n}",
                    "--bind", f"127.0.0.1:{app_port}",
                    "--workers", str(web_workers),
                    "--timeout", "75",
                    "--graceful-timeout", "10",
                    "--access-logfile", str(workdir / "logs" / f"web-{n}-access.log"),
                ],
                # Prepared statements, as deploy/systemd/hardship-web@.service
                # runs the web processes (the workers keep the default).
                extra={"DB_PREPARED": "true"},
            )  # fmt: skip
        for n in range(1, workers + 1):
            cluster.spawn(
                f"worker-{n}",
                [
                    PYTHON, "manage.py", "db_worker",
                    "--worker-id", f"worker-{n}",
                    "--interval", "1",
                    "--no-startup-delay",
                    "-v", "1",
                ],
            )  # fmt: skip
        cluster.spawn(
            "nginx",
            [nginx, "-p", str(workdir / "nginx"), "-e", str(workdir / "logs" / "nginx-error.log"),
             "-c", str(conf), "-g", "daemon off;"],
        )  # fmt: skip
        if while_starting is not None:
            while_starting(cluster)
        cluster.wait_ready(timeout)
        say(f"every server answers, {time.monotonic() - began:.0f} s after the start")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _demo_password() -> str:
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    from accounts.passwords import DEMO_PASSWORD

    return DEMO_PASSWORD


def _raise_stop(signum: int, frame: Any) -> None:
    raise Stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8100, help="nginx's port on 127.0.0.1")
    parser.add_argument("--app-ports", default="8101,8102", help="one port per app server")
    parser.add_argument("--workers", type=int, default=2, help="background workers")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--workdir", type=Path, default=BASE_DIR / "var" / "cluster")
    parser.add_argument("--no-seed", action="store_true", help="no demo data in an empty database")
    args = parser.parse_args()
    app_ports = [int(p) for p in args.app_ports.split(",") if p.strip()]
    if not app_ports or args.workers < 1:
        raise SystemExit("give at least one app port and one worker")
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        cluster = start(
            port=args.port,
            app_ports=app_ports,
            workers=args.workers,
            web_workers=args.web_workers,
            workdir=args.workdir,
            seed=not args.no_seed,
        )
    except ClusterError as exc:
        raise SystemExit(f"cluster: {exc}") from None
    except (KeyboardInterrupt, Stop):
        raise SystemExit(1) from None
    servers = ", ".join(cluster.app_urls)
    say(
        f"\n  Open {cluster.url}/ in a browser (Ctrl-C stops everything).\n"
        f"  nginx → app servers {servers}; {args.workers} workers;"
        f" database {database_name(cluster.database_url)}.\n"
        f"  Private files: {cluster.workdir / 'private'}; logs: {cluster.workdir / 'logs'}.\n"
        f"  Sign in as demo_caseworker / {_demo_password()} (a caseworker needs no second"
        " factor); the X-Upstream response header names the app server that answered.\n"
    )
    try:
        while not (dead := cluster.dead()):
            time.sleep(1)
        say(f"{dead[0]} stopped:\n{cluster.log_tail(dead[0])}")
    except (KeyboardInterrupt, Stop):
        say("stopping …")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
