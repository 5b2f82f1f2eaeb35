"""Benchmark: 我的帮扶户 and 走访逾期 at 100,000 households.

    .venv/bin/python bench/followup_lists.py [--count N] [--requests N]

Builds the same throw-away database as bench/list_households.py (SQLite in a
temporary directory, or the PostgreSQL database `hardship_bench` when
DATABASE_URL is set) with generate_households' code, pairs every filed
household with one to three helpers (bulk), last visits spread over the past
eight months so that about half of the pairings are overdue, and times the
two lists in-process with django.test.Client. Each figure is printed as
`name: value`.
"""

import argparse
import datetime
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from list_households import build_data, configure, measure

PAIRINGS_PER_HELPER = 10


def add_helpers(seed: int) -> dict[str, Any]:
    """Pair filed households with helpers from their own county."""
    from django.db import connection

    from accounts.models import Membership, Role, Unit, User
    from cases import clock
    from cases.models import Helper, HelperPerson, Household, HouseholdStatus

    rng = random.Random(seed)
    today = clock.today()
    counties = list(Unit.objects.filter(kind="county").order_by("path"))
    # Households filed at the city union itself get city-level helpers.
    city = Unit.objects.get(parent__isnull=True)
    pools: dict[str, list[int]] = {}
    # Every pairing names a roster person; these helpers all have logins.
    person_of: dict[int, int] = {}
    for county in [*counties, city]:
        below = Household.objects.filter(
            unit__path__startswith=county.path, status=HouseholdStatus.FILED
        )
        if county == city:
            below = below.filter(unit=city)
        # About ten pairings per person, as in a real union.
        size = max(10, below.count() * 2 // PAIRINGS_PER_HELPER)
        users = User.objects.bulk_create(
            (
                User(username=f"helper_{county.code}_{i}", full_name=f"帮扶人{county.code[-1]}-{i}")
                for i in range(size)
            ),
            batch_size=2000,
        )
        Membership.objects.bulk_create(
            (Membership(user=u, unit=county, role=Role.CASEWORKER) for u in users),
            batch_size=2000,
        )
        people = HelperPerson.objects.bulk_create(
            (HelperPerson(unit=county, name=u.full_name, user=u) for u in users),
            batch_size=2000,
        )
        person_of.update((p.user_id, p.pk) for p in people)
        pools[county.path] = [u.pk for u in users]
    # The helper whose 我的帮扶户 is timed: a first helper of 80 households, a
    # heavy load for one person (most have a handful).
    star = User.objects.get(username=f"helper_{counties[0].code}_0")

    started = time.perf_counter()
    rows: list[Helper] = []
    star_left = 80
    filed = (
        Household.objects.filter(status=HouseholdStatus.FILED)
        .values_list("pk", "unit__path")
        .order_by("pk")
        .iterator(chunk_size=5000)
    )
    for household_id, unit_path in filed:
        pool = next(pool for path, pool in pools.items() if unit_path.startswith(path))
        people = rng.sample(pool, rng.choice((1, 2, 2, 3)))
        if star_left and star.pk in pool and star.pk not in people:
            people[0] = star.pk
            star_left -= 1
        for index, user_id in enumerate(people):
            start = today - datetime.timedelta(days=rng.randint(30, 900))
            last = today - datetime.timedelta(days=rng.randint(0, 240))
            rows.append(
                Helper(
                    household_id=household_id,
                    person_id=person_of[user_id],
                    user_id=user_id,
                    role=("unit_leader", "union_cadre", "grassroots_leader")[index],
                    is_first=index == 0,
                    start_on=start,
                    last_visited_on=last if last > start and rng.random() < 0.9 else None,
                )
            )
        if len(rows) >= 5000:
            Helper.objects.bulk_create(rows)
            rows = []
    Helper.objects.bulk_create(rows)
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE cases_helper")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"star": star, "helpers": Helper.objects.count(), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--show-sql", action="store_true", help="print the lists' queries")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hardship-bench-") as tmp:
        engine = configure(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from accounts.models import Unit

        call_command("migrate", verbosity=0)
        data = build_data(args.count)
        helpers = add_helpers(seed=1)
        n = args.requests

        star = Client()
        star.force_login(helpers["star"])
        city = Client()
        city.force_login(data["caseworker"])
        county = Client()
        county.force_login(data["county_caseworker"])
        grassroots = Unit.objects.filter(kind="grassroots").order_by("path").first()
        assert grassroots is not None
        overdue = "/visits/overdue/"
        results = {
            "my_households": measure(star, "/my-households/", n),
            "my_households_page3": measure(star, "/my-households/?page=3", n),
            "overdue": measure(city, overdue, n),
            "overdue_page200": measure(city, overdue + "?page=200", n),
            "overdue_county": measure(county, overdue, n),
            "overdue_unit": measure(city, f"{overdue}?unit={grassroots.pk}", n),
        }
        figures: list[tuple[str, object]] = [
            ("database", engine),
            ("households", args.count),
            ("helpers", helpers["helpers"]),
            ("requests_per_figure", n),
            ("insert_helpers_s", round(helpers["seconds"], 1)),
            ("my_households_queries", results["my_households"]["queries"]),
            ("overdue_queries", results["overdue"]["queries"]),
            ("overdue_page200_queries", results["overdue_page200"]["queries"]),
            ("overdue_unit_queries", results["overdue_unit"]["queries"]),
            # How much of the city-wide page is the pager counting every
            # overdue helper, measured on one request.
            ("overdue_count_query_ms", round(results["overdue"]["count_ms"], 1)),
        ]
        for name, result in results.items():
            figures.append((f"{name}_p50_ms", round(result["p50"], 1)))
            figures.append((f"{name}_p95_ms", round(result["p95"], 1)))
        for name, value in figures:
            print(f"{name}: {value}")
        if args.show_sql:
            for name in ("my_households", "overdue"):
                print(f"\n-- {name}")
                for sql in results[name]["sql"]:
                    print(sql)
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
