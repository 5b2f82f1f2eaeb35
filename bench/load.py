"""Benchmark: the real server under many people at once.

    .venv/bin/python bench/load.py [--users 50,100,200] [--seconds 60]
        [--worker-model sync|gthread] [--workers N] [--threads N]
        [--database NAME] [--spawn-rate N]

Serves the database bench/scale.py built (`hardship_scale`; build it first,
e.g. `bench/scale.py --households 20000 --build-only`) with gunicorn and the
production settings on 127.0.0.1, and drives it with locust, headless, for
`--seconds` at each number of users: caseworkers (household list, search,
detail, a visit recorded), chairs (approval queue, approve) and finance
officers (payment queue, pay), see bench/locustfile.py. Everyone signs in
through the login form; chairs and finance officers give the TOTP code of
their own device on the second-factor page.

Before the run it gives the database bench accounts (`load_<role>_<n>`, at
the city union) a fresh random password and a TOTP device each. Approvals,
payments and visits are real writes: a run uses up some of the approval and
payment queues. Per level it prints `u<N>_rps`, `u<N>_p50_ms`,
`u<N>_p95_ms`, `u<N>_requests`, `u<N>_errors` and `u<N>_locust_cpu_s` (the
load generator's own CPU seconds for the whole level) as `name: value`
lines, the timings with sign-ins excluded: users start `--spawn-rate` a second (3) and sign in as
they start, and locust resets its figures once the last one has started, so
each level is measured for `--seconds` with all of its users at work.

Plain HTTP on 127.0.0.1 only: DJANGO_SECURE_SSL_REDIRECT=False and
DJANGO_SECURE_HSTS_SECONDS=0 for the server; the cookies stay Secure and the
locust client sends them to 127.0.0.1 regardless.
"""

import argparse
import csv
import json
import math
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
SAMPLE_HOUSEHOLDS = 2000
ROLES = ("caseworker", "chair", "finance")
# Users started a second. Each signs in first, and an Argon2 check costs about
# 0.2 s of CPU: three a second keep the sign-ins to a third of the two cores,
# so the users already at work are not queued behind them.
DEFAULT_SPAWN_RATE = 3.0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def database_url(database: str) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench/load.py serves the PostgreSQL database bench/scale.py builds")
    return urlunsplit(parts._replace(path=f"/{database}"))


def server_env(url: str, workdir: Path) -> dict[str, str]:
    """The production settings, for plain HTTP on 127.0.0.1."""
    env = dict(os.environ)
    # The server keeps its connection pool, as in production; only this
    # script's own set-up (prepare) runs without one.
    env.pop("DB_POOL", None)
    env.update(
        # As deploy/systemd/hardship-web@.service runs the web processes.
        DB_PREPARED="true",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=url,
        DJANGO_SECURE_SSL_REDIRECT="False",
        DJANGO_SECURE_HSTS_SECONDS="0",
        STATIC_ROOT=str(workdir / "static"),
        PRIVATE_STORAGE_ROOT=str(workdir / "private"),
        LOG_LEVEL="WARNING",
    )
    return env


def prepare(url: str, accounts_per_role: int, workdir: Path) -> Path:
    """Bench accounts with a fresh password and a device each, and the rows
    the journeys use; written as the plan the locustfile reads."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ.update(server_env(url, workdir))
    os.environ["DB_POOL"] = "False"
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Membership, Role, Unit, User
    from cases.models import Household
    from cases.models.workflow import VisitKind
    from programs.models.aid import PaymentMethod
    from programs.selectors import applications as app_selectors
    from programs.selectors import payments as pay_selectors

    city = Unit.objects.filter(parent__isnull=True).order_by("id").first()
    if city is None or not Household.objects.exists():
        raise SystemExit("no data: build it first with bench/scale.py --build-only")
    password = secrets.token_urlsafe(16)
    hashed = make_password(password)  # once: every bench account shares it
    plan: dict[str, Any] = {"password": password, "accounts": {}}
    with transaction.atomic():
        for role in ROLES:
            names = [f"load_{role}_{n}" for n in range(accounts_per_role)]
            have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
            User.objects.bulk_create(
                User(username=name, full_name=name, password=hashed)
                for name in names
                if name not in have
            )
            users = list(User.objects.filter(username__in=names).order_by("id"))
            User.objects.filter(username__in=names).update(password=hashed)
            Membership.objects.bulk_create(
                (Membership(user=u, unit=city, role=role) for u in users),
                ignore_conflicts=True,
            )
            listed = []
            for user in users:
                key = None
                if role in (Role.CHAIR, Role.FINANCE):
                    device, _new = TOTPDevice.objects.get_or_create(
                        user=user, name="load", defaults={"confirmed": True}
                    )
                    key = device.key
                listed.append({"username": user.username, "key": key})
            plan["accounts"][role] = listed
    chair = User.objects.get(username="load_chair_0")
    finance = User.objects.get(username="load_finance_0")
    from programs.models import Application

    plan["awaiting"] = list(
        Application.objects.filter(app_selectors.awaiting_q(chair))
        # An earlier run's unit-level approval leaves an application awaiting
        # its parent level, where that chair may not decide again (403).
        .exclude(decisions__actor__username__startswith="load_chair_")
        .order_by("id")
        .values_list("id", flat=True)[:5000]
    )
    plan["payable"] = list(pay_selectors.payable(finance).values_list("id", flat=True)[:5000])
    _top_up(finance, plan["payable"])
    plan["households"] = list(
        Household.objects.filter(status="filed")
        .order_by("?")
        .values_list("id", flat=True)[:SAMPLE_HOUSEHOLDS]
    )
    plan["visit_kind"] = VisitKind.values[0]
    plan["pay_method"] = PaymentMethod.BANK
    path = workdir / "plan.json"
    path.write_text(json.dumps(plan))
    from django.db import connections

    connections.close_all()
    say(
        f"plan: {len(plan['households'])} households, {len(plan['awaiting'])} awaiting"
        f" approval, {len(plan['payable'])} payable"
    )
    return path


def _top_up(finance: Any, payable: list[int]) -> None:
    """Enough money in the finance officer's funds for every payment the run
    may make: each run spends some, and a pay form refused for want of money
    would count as an error of the server. Recorded as a receipt (上级拨款),
    through the same service as the fund page."""
    from django.db.models import Sum

    from funds import selectors as fund_selectors
    from funds.services import balance_of, receipt_post
    from programs.models import Application

    need = Application.objects.filter(pk__in=payable).aggregate(s=Sum("amount"))["s"] or 0
    for fund in fund_selectors.managed_funds(finance):
        short = need - balance_of(fund)
        if short > 0:
            receipt_post(
                actor=finance,
                fund=fund,
                amount=short,
                memo="bench/load.py: funds for the run's payments",
                source="higher_grant",
                payer_kind="unit",
                payer=fund.unit.name,
            )
            say(f"fund {fund.pk} topped up by {short}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    env: dict[str, str], args: argparse.Namespace, port: int
) -> subprocess.Popen[bytes]:
    # The commands are this script's own: no outside input reaches them.
    subprocess.run(  # noqa: S603
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR, env=env, check=True,
    )  # fmt: skip
    command = [
        str(BIN / "gunicorn"), "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--worker-class", args.worker_model,
        "--timeout", "120",
        "--log-level", "warning",
    ]  # fmt: skip
    if args.worker_model == "gthread":
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(command, cwd=BASE_DIR, env=env)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("gunicorn stopped before it answered") from None
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 seconds")


def run_level(
    users: int, args: argparse.Namespace, port: int, plan: Path, offset: int, workdir: Path
) -> dict[str, str]:
    """One locust run; the 'Aggregated' row of its stats CSV."""
    prefix = workdir / f"u{users}"
    env = dict(os.environ, LOAD_PLAN=str(plan), LOAD_OFFSET=str(offset))
    rate = args.spawn_rate
    # Everyone signs in while spawning (Argon2, the second factor): the
    # figures are reset once the last user has started, so they describe
    # the level itself, for `--seconds` after spawning.
    spawning = math.ceil(users / rate)
    # The load generator's own CPU: it shares the two cores with the server.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(  # noqa: S603
        [
            str(BIN / "locust"), "-f", str(BASE_DIR / "bench" / "locustfile.py"),
            "--headless", "-u", str(users), "-r", str(rate), "--reset-stats",
            "--run-time", f"{args.seconds + spawning}s", "--stop-timeout", "10",
            "--host", f"http://127.0.0.1:{port}",
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        ],
        cwd=BASE_DIR, env=env, check=False, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["Name"] == "Aggregated":
            if int(row["Request Count"]) == 0:
                raise SystemExit(f"{users} users made no request: see locust's messages above")
            # Sign-ins included (the whole locust run): an upper bound.
            row["locust_cpu_s"] = f"{cpu_s:.1f}"
            return row
    raise SystemExit(f"no aggregated row in {prefix}_stats.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="50,100,200", help="users per level, comma-separated")
    parser.add_argument("--seconds", type=int, default=60, help="seconds per level")
    parser.add_argument("--worker-model", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--threads", type=int, default=4, help="per worker, gthread only")
    parser.add_argument(
        "--spawn-rate", type=float, default=DEFAULT_SPAWN_RATE, help="users started a second"
    )
    parser.add_argument("--database", default="hardship_scale")
    args = parser.parse_args()
    levels = [int(u) for u in args.users.split(",") if u.strip()]
    if args.spawn_rate <= 0:
        raise SystemExit("--spawn-rate: give a number of users a second above 0")
    if not levels or min(levels) < 1:
        raise SystemExit("--users: give one or more whole numbers above 0, e.g. 50,100,200")

    url = database_url(args.database)
    with tempfile.TemporaryDirectory(prefix="hardship-load-") as tmp:
        workdir = Path(tmp)
        (workdir / "static").mkdir()
        # Every level signs in fresh accounts: one account, one sign-in.
        plan = prepare(url, sum(levels), workdir)
        port = free_port()
        server = start_server(server_env(url, workdir), args, port)
        figures: list[tuple[str, object]] = [
            ("database", f"postgresql {args.database}"),
            ("worker_model", args.worker_model),
            ("workers", args.workers),
            ("seconds_per_level", args.seconds),
        ]
        try:
            offset = 0
            for users in levels:
                say(f"{users} users for {args.seconds} s")
                row = run_level(users, args, port, plan, offset, workdir)
                offset += users
                figures += [
                    (f"u{users}_rps", round(float(row["Requests/s"]), 1)),
                    (f"u{users}_p50_ms", row["50%"]),
                    (f"u{users}_p95_ms", row["95%"]),
                    (f"u{users}_requests", row["Request Count"]),
                    (f"u{users}_errors", row["Failure Count"]),
                    (f"u{users}_locust_cpu_s", row["locust_cpu_s"]),
                ]
        finally:
            server.terminate()
            server.wait(timeout=30)
        for name, value in figures:
            print(f"{name}: {value}", flush=True)


if __name__ == "__main__":
    main()
