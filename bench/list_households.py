"""Benchmark: the household list at 100,000 files, against the Django admin.

    .venv/bin/python bench/list_households.py [--count N] [--requests N]

Builds its own throw-away database (SQLite in a temporary directory, or the
PostgreSQL database `hardship_bench` when DATABASE_URL is set), fills it with
generate_households' code, and times `/households/` as a caseworker who sees
the whole city, and `/admin/cases/household/` as a superuser, in-process with
django.test.Client. Each figure is printed as `name: value`.
"""

import argparse
import io
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DB = "hardship_bench"


def configure(workdir: Path) -> str:
    """Point the settings at a throw-away database; return the engine name.

    Must run before django.setup(): the settings read the environment once.
    """
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    # Server-like: no per-query debug logging, which would dominate timings.
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["STATIC_ROOT"] = str(workdir / "static")
    os.environ["PRIVATE_STORAGE_ROOT"] = str(workdir / "private")
    (workdir / "static").mkdir(exist_ok=True)
    os.environ["LOG_LEVEL"] = "WARNING"
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        os.environ["DATABASE_URL"] = ""  # keeps a developer's .env from supplying one
        os.environ["SQLITE_PATH"] = str(workdir / "bench.sqlite3")
        return "sqlite"
    os.environ["DATABASE_URL"] = _recreate_postgres(url)
    os.environ["DB_POOL"] = "False"
    return "postgresql"


def _recreate_postgres(url: str) -> str:
    """Drop and create `hardship_bench` next to the given database; never
    touch the database the URL names."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def build_data(count: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Membership, Role, User
    from accounts.services import unit_create
    from cases.models import Household

    city = unit_create(actor=None, code="410100", name="郑州市总工会", kind="city")
    for c in range(4):
        county = unit_create(
            actor=None, code=f"41010{c + 2}", name=f"第{c + 1}县区工会", kind="county", parent=city
        )
        for g in range(3):
            unit_create(
                actor=None,
                code=f"{county.code}00{g + 1}",
                name=f"{county.name}基层工会{g + 1}",
                kind="grassroots",
                parent=county,
            )
    caseworker = User.objects.create_user(username="bench_caseworker", full_name="压测干部")
    Membership.objects.create(user=caseworker, unit=city, role=Role.CASEWORKER)
    # A county caseworker sees a quarter of the files: the scoped query path.
    county_caseworker = User.objects.create_user(username="bench_county", full_name="县区干部")
    Membership.objects.create(user=county_caseworker, unit=county, role=Role.CASEWORKER)
    superuser = User.objects.create_superuser(username="bench_admin", email="", password=None)

    out = io.StringIO()
    started = time.perf_counter()
    call_command("generate_households", count=count, seed=1, force=True, stdout=out)
    generate_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # Autovacuum vacuums and analyzes a freshly filled table within a
        # minute or so; do it now so that every measurement sees the steady
        # state (statistics, and a visibility map for index-only counts).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    sample = Household.objects.order_by("id")[count // 2]
    return {
        "caseworker": caseworker,
        "county_caseworker": county_caseworker,
        "superuser": superuser,
        "generate_seconds": generate_seconds,
        "id_number": sample.id_number,
        "name": sample.name,
    }


def measure(client: Any, url: str, requests: int, expect: str = "") -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up: templates, statement caches, session
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    if expect:
        assert expect in response.content.decode(), (url, expect)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Read now: the next request clears the connection's query log.
    queries = [q["sql"] for q in captured.captured_queries]
    # The database's part of one request: p50 minus this is the time spent
    # in Python (middleware, view, template).
    sql_ms = sum(float(q["time"]) * 1000 for q in captured.captured_queries)
    # The pager's total: the one COUNT(*) a list page runs, timed by Django.
    count_ms = sum(
        float(q["time"]) * 1000 for q in captured.captured_queries if "COUNT(" in q["sql"].upper()
    )
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "queries": len(queries),
        "count_ms": count_ms,
        "sql_ms": sql_ms,
        "sql": queries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--show-sql", action="store_true", help="print the list page's queries")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hardship-bench-") as tmp:
        engine = configure(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        call_command("migrate", verbosity=0)
        data = build_data(args.count)
        surname = "王"  # the most common surname: the widest name search
        n = args.requests
        from django.conf import settings
        from django.contrib import admin as django_admin

        from cases.models import Household

        per_page = django_admin.site.get_model_admin(Household).list_per_page
        admin_page = 499 * settings.HOUSEHOLD_PAGE_SIZE // per_page + 1

        ours = Client()
        ours.force_login(data["caseworker"])
        county = Client()
        county.force_login(data["county_caseworker"])
        admin = Client()
        admin.force_login(data["superuser"])
        results = {
            "list": measure(ours, "/households/", n),
            "list_page500": measure(ours, "/households/?page=500", n),
            "search": measure(ours, f"/households/?q={surname}", n),
            "search_id": measure(ours, f"/households/?q={data['id_number']}", n, data["name"]),
            "county_list": measure(county, "/households/", n),
            "county_list_page100": measure(county, "/households/?page=100", n),
            "county_search": measure(county, f"/households/?q={surname}", n),
            "admin_list": measure(admin, "/admin/cases/household/", n),
            # The admin page that shows the same rows as our page 500.
            "admin_page500": measure(admin, f"/admin/cases/household/?p={admin_page}", n),
            "admin_search": measure(admin, f"/admin/cases/household/?q={surname}", n),
            "admin_search_id": measure(
                admin, f"/admin/cases/household/?q={data['id_number']}", n, data["name"]
            ),
        }

        figures: list[tuple[str, object]] = [
            ("database", engine),
            ("households", args.count),
            ("requests_per_figure", n),
            ("admin_page_for_page500", admin_page),
            (f"generate_{args.count // 1000}k_s", round(data["generate_seconds"], 1)),
        ]
        for name, result in results.items():
            figures.append((f"{name}_p50_ms", round(result["p50"], 1)))
            figures.append((f"{name}_p95_ms", round(result["p95"], 1)))
        figures += [
            ("list_queries_page1", results["list"]["queries"]),
            ("list_queries_page500", results["list_page500"]["queries"]),
            ("search_queries", results["search"]["queries"]),
            ("county_list_queries", results["county_list"]["queries"]),
            ("admin_list_queries", results["admin_list"]["queries"]),
            ("speedup_vs_admin", round(results["admin_list"]["p95"] / results["list"]["p95"], 2)),
            (
                "speedup_vs_admin_page500",
                round(results["admin_page500"]["p95"] / results["list_page500"]["p95"], 2),
            ),
            (
                "speedup_vs_admin_search",
                round(results["admin_search"]["p95"] / results["search"]["p95"], 2),
            ),
        ]
        for name, value in figures:
            print(f"{name}: {value}")
        if args.show_sql:
            for name in ("list", "list_page500", "search"):
                print(f"\n-- {name}")
                for sql in results[name]["sql"]:
                    print(sql)
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
