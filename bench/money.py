"""Benchmark: the money side at 100,000 filed households.

    .venv/bin/python bench/money.py [--count N] [--applications N] [--requests N]

Builds its own throw-away database (SQLite in a temporary directory, or the
PostgreSQL database `hardship_bench_money` next to the one DATABASE_URL names)
with generate_households' code, then in bulk: a city fund, a 送温暖 program
and 100,000 applications spread over the statuses, with the decisions,
payments and ledger rows the services would have written (the fund's balance
never dips below zero, in date order or in id order). It times, in-process
with django.test.Client, the chair's 待我审批, the payment queue, the fund
list, a fund's ledger and a household's money fragment, counting queries;
then pays through the real services: a batch of 200 and single payments,
beside a bare ledger insert measured in the same run. Each figure is
printed as `name: value`.
"""

import argparse
import contextlib
import datetime
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import list_households
from list_households import build_data, configure, measure, percentile

list_households.BENCH_DB = "hardship_bench_money"

FILED_SHARE = 0.82  # generate_households files about 82 households in 100
OPEN_DAYS = 180  # applications still open (pending, approved) are recent
AMOUNTS = [Decimal(a) for a in (500, 800, 1000, 1000, 1000, 1200, 1500, 2000, 2500, 3000)]
RECEIPT = Decimal("1000000.00")  # one 行政划拨 whenever the balance runs low
STAR_APPLICATIONS = 12  # the household whose money fragment is timed
BATCH = 200
SINGLE_PAYMENTS = 50


@contextlib.contextmanager
def stamped_by_hand(*fields: tuple[Any, str]) -> Iterator[None]:
    """Let bulk_create keep the timestamps we give instead of "now": real
    applications were drafted over three years, not in one second."""
    saved = []
    for model, name in fields:
        field = model._meta.get_field(name)
        saved.append((field, field.auto_now_add))
        field.auto_now_add = False
    try:
        yield
    finally:
        for field, value in saved:
            field.auto_now_add = value


def people() -> dict[str, Any]:
    """A chair for every union (the approvers), a city finance officer (the
    payer) and a city caseworker (the drafter): three different people."""
    from accounts.models import Membership, Role, Unit, User

    chairs: dict[int, Any] = {}
    for unit in Unit.objects.order_by("path"):
        user = User.objects.create_user(username=f"chair_{unit.code}", full_name=f"主席{unit.code}")
        Membership.objects.create(user=user, unit=unit, role=Role.CHAIR)
        chairs[unit.pk] = user
    finance = User.objects.create_user(username="bench_finance", full_name="压测财务")
    city = Unit.objects.get(parent__isnull=True)
    Membership.objects.create(user=finance, unit=city, role=Role.FINANCE)
    county = Unit.objects.filter(kind="county").order_by("path").first()
    return {
        "chairs": chairs,
        "city": city,
        "county": county,
        "city_chair": chairs[city.pk],
        "county_chair": chairs[county.pk] if county else None,
        "finance": finance,
    }


def _status(rng: random.Random, age_days: int) -> str:
    """Recent applications wait or are approved; older ones are mostly paid."""
    roll = rng.random()
    if age_days < OPEN_DAYS:
        for status, upto in (("pending", 0.50), ("pending_parent", 0.60), ("approved", 0.90)):
            if roll < upto:
                return status
        return "rejected" if roll < 0.95 else "withdrawn"
    for status, upto in (("paid", 0.72), ("approved", 0.74), ("rejected", 0.94)):
        if roll < upto:
            return status
    return "withdrawn"


def fund_and_program(city: Any, finance: Any, year: int) -> tuple[Any, Any]:
    """The city's aid fund and a festival program paying from it, with a
    standard amount per tier and approval thresholds: what the money benches
    pay from (bench/money.py, bench/scale.py)."""
    from cases.models import Tier
    from funds.models import Fund
    from programs.models import ApprovalThreshold, Program, StandardAmount

    fund = Fund.objects.create(unit=city, name="困难职工帮扶资金", year=year, created_by=finance)
    program = Program.objects.create(unit=city, name="春节送温暖", category="festival", kind="cash")
    program.funds.add(fund)
    StandardAmount.objects.bulk_create(
        StandardAmount(program=program, tier=tier, amount=Decimal("1000"))
        for tier in Tier.objects.all()
    )
    ApprovalThreshold.objects.bulk_create(
        [
            ApprovalThreshold(program=program, unit_kind="county", amount=Decimal("2000")),
            ApprovalThreshold(program=program, unit_kind="grassroots", amount=Decimal("1000")),
        ]
    )
    return fund, program


def build_money(count: int, applications: int, seed: int, who: dict[str, Any]) -> dict[str, Any]:
    """The fund, the program and `applications` applications with their
    decisions, payments and ledger rows, written in bulk in date order."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Unit
    from cases import clock
    from cases.models import Household, HouseholdStatus
    from funds.models import EntryKind, Fund, LedgerEntry
    from funds.services import income_source
    from funds.summary import paying_for
    from programs.models import (
        AidPayment,
        Application,
        Decision,
    )

    rng = random.Random(seed)
    started = time.perf_counter()
    finance, drafter = who["finance"], who["drafter"]
    city = who["city"]
    today = clock.today()
    allocation = income_source("admin_allocation")  # every receipt names its source
    fund, program = fund_and_program(city, finance, today.year)
    units = {u.pk: u for u in Unit.objects.all()}
    households = list(
        Household.objects.filter(status=HouseholdStatus.FILED)
        .order_by("pk")
        .values_list("pk", "unit_id", "name", "bank_name", "bank_account")[:count]
    )
    star = households[len(households) // 3]

    # Every application as a plain tuple first, sorted by drafting time.
    now = timezone.now()
    span = 3 * 365 * 24 * 3600
    plans = []
    for n in range(applications):
        household = star if n < STAR_APPLICATIONS else rng.choice(households)
        drafted = now - datetime.timedelta(seconds=rng.randrange(span))
        plans.append((drafted, household, rng.choice(AMOUNTS)))
    plans.sort(key=lambda p: p[0])

    made = {"applications": 0, "decisions": 0, "payments": 0, "entries": 0, "reversed": 0}
    paid: list[tuple[Any, tuple[Any, ...], datetime.datetime]] = []
    step = 5000
    with stamped_by_hand(
        (Application, "drafted_at"),
        (Decision, "decided_at"),
        (AidPayment, "created_at"),
        (LedgerEntry, "created_at"),
    ):
        for start in range(0, len(plans), step):
            chunk = plans[start : start + step]
            rows = []
            for drafted, (hh_id, unit_id, *_rest), amount in chunk:
                unit = units[unit_id]
                status = _status(rng, (now - drafted).days)
                limit = {"county": 2000, "grassroots": 1000}.get(unit.kind)
                above = limit is not None and amount > limit
                if status == "pending_parent" and not above:
                    status = "pending"
                rows.append(
                    Application(
                        program=program, household_id=hh_id, year=drafted.year, status=status,
                        standard_amount=Decimal("1000"), amount=amount, reason="春节慰问",
                        needs_parent=above, drafted_by=drafter, drafted_at=drafted,
                    )
                )  # fmt: skip
            with transaction.atomic():
                created = Application.objects.bulk_create(rows)
                decisions = []
                for app, (drafted, household, _amount) in zip(created, chunk, strict=True):
                    if app.status in ("pending", "withdrawn"):
                        continue
                    unit = units[household[1]]
                    at = min(drafted + datetime.timedelta(days=rng.randint(1, 10)), now)
                    decisions.append(
                        Decision(
                            application=app, level="unit", approved=app.status != "rejected",
                            actor=who["chairs"][unit.pk], decided_at=at,
                        )
                    )  # fmt: skip
                    if app.needs_parent and app.status in ("approved", "paid"):
                        decisions.append(
                            Decision(
                                application=app, level="parent", approved=True,
                                actor=who["chairs"][unit.parent_id],
                                decided_at=at + datetime.timedelta(days=2),
                            )
                        )  # fmt: skip
                    if app.status == "paid":
                        paid.append((app, household, at + datetime.timedelta(days=5)))
                Decision.objects.bulk_create(decisions)
            made["applications"] += len(created)
            made["decisions"] += len(decisions)

        # The ledger in time order: a receipt before any payment that would
        # take the balance below zero, so it never dips, by date or by id;
        # 1 payment in 50 reversed (its application approved again, back in
        # the queue: the payment service's own reference counts the attempt).
        paid.sort(key=lambda p: (p[2], p[0].pk))
        balance = Decimal("0")
        for start in range(0, len(paid), step):
            entries, owners = [], []
            for app, (hh_id, _unit, name, bank_name, account), at in paid[start : start + step]:
                if balance < app.amount:
                    entries.append(
                        LedgerEntry(
                            fund=fund, kind=EntryKind.RECEIPT, direction=1, amount=RECEIPT,
                            occurred_on=at.date(), memo="市财政拨付帮扶资金", actor=finance,
                            source=allocation, payer_kind="unit", payer="郑州市财政局",
                            created_at=at,
                        )
                    )  # fmt: skip
                    owners.append(None)
                    balance += RECEIPT
                entries.append(
                    paying_for(LedgerEntry(
                        fund=fund, kind=EntryKind.PAYMENT, direction=-1, amount=app.amount,
                        occurred_on=at.date(), memo=f"{program.name} {name}",
                        household_id=hh_id, reference=f"aid:{app.pk}:1", actor=finance,
                        created_at=at,
                    ), program.pk)
                )  # fmt: skip
                owners.append((app, name, bank_name, account))
                balance -= app.amount
            with transaction.atomic():
                written = LedgerEntry.objects.bulk_create(entries)
                payments, reversals = [], {}
                for entry, owner in zip(written, owners, strict=True):
                    if owner is None:
                        continue
                    app, name, bank_name, account = owner
                    payments.append(
                        AidPayment(
                            application=app, fund=fund, entry=entry, method="bank",
                            amount=app.amount, paid_on=entry.occurred_on, account_name=name,
                            bank_name=bank_name, bank_account=account, paid_by=finance,
                            created_at=entry.created_at,
                        )
                    )  # fmt: skip
                    if rng.random() < 0.02:
                        # Money back into the fund (the balance only grows), a
                        # few days after the payment, but never in the future.
                        back = min(entry.created_at + datetime.timedelta(days=3), now)
                        reversals[app.pk] = LedgerEntry(
                            fund=fund, kind=EntryKind.REVERSAL, direction=1, amount=app.amount,
                            occurred_on=back.date(), memo="冲正：账号有误",
                            reverses=entry, household_id=entry.household_id, actor=finance,
                            created_at=back,
                        )  # fmt: skip
                LedgerEntry.objects.bulk_create(reversals.values())
                for payment in payments:
                    reversal = reversals.get(payment.application_id)
                    if reversal is not None:
                        payment.reversal = reversal
                        payment.reversal_reason = "账号有误"
                        balance += reversal.amount
                AidPayment.objects.bulk_create(payments)
                Application.objects.filter(pk__in=list(reversals)).update(status="approved")
            made["payments"] += len(payments)
            made["entries"] += len(written) + len(reversals)
            made["reversed"] += len(reversals)
    # This month's allocation: what the payments timed below draw on.
    LedgerEntry.objects.create(
        fund=fund, kind=EntryKind.RECEIPT, direction=1, amount=RECEIPT, occurred_on=today,
        memo="市财政拨付帮扶资金", actor=finance,
        source=allocation, payer_kind="unit", payer="郑州市财政局",
    )  # fmt: skip
    balance += RECEIPT
    # A few small funds beside the big one, as a city union has.
    for n, unit in enumerate(u for u in units.values() if u.kind == "county"):
        small = Fund.objects.create(
            unit=unit, name=f"{unit.name}送温暖捐款", year=today.year,
            created_by=finance,
        )  # fmt: skip
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                fund=small, kind=EntryKind.DONATION, direction=1, amount=Decimal(1000 + d),
                occurred_on=today, memo="爱心捐款", donor=f"爱心企业{d}",
                campaign="春节送温暖", actor=finance, source=income_source("donation"),
                payer_kind="unit", payer=f"爱心企业{d}",
            )
            for d in range(20 * (n + 1))
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    made["filed"] = len(households)
    made["ledger_rows"] = LedgerEntry.objects.filter(fund=fund).count()
    made["balance"] = balance
    made["seconds"] = time.perf_counter() - started
    return {"fund": fund, "program": program, "star": star[0], "made": made}


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def deep(total: int, size: int) -> int:
    """A page four fifths of the way down the list."""
    return max(1, _pages(total, size) * 4 // 5)


def timed_ms(function: Any, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def pay_figures(who: dict[str, Any], money: dict[str, Any]) -> dict[str, Any]:
    """Pay through the real services, beside a bare ledger insert."""
    from django.db import transaction

    from cases import clock
    from funds.models import EntryKind, LedgerEntry
    from funds.services import income_source
    from programs.models import Application, ApplicationStatus
    from programs.services import payments

    finance, fund = who["finance"], money["fund"]
    queue = list(
        Application.objects.filter(status=ApplicationStatus.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)[: 3 * BATCH + SINGLE_PAYMENTS + 5]
    )
    # A small trial run (--count 2000) has fewer approved applications.
    size = min(BATCH, (len(queue) - SINGLE_PAYMENTS - 5) // 3)
    assert size > 0, len(queue)

    def load(ids: list[int]) -> list[Any]:
        return list(Application.objects.filter(pk__in=ids).select_related("household__unit"))

    batch_seconds = []
    for run in range(3):
        chosen = load(queue[run * size : (run + 1) * size])
        started = time.perf_counter()
        batch = payments.payment_batch_create(
            actor=finance, fund=fund, method="bank", applications=chosen, title=f"压测批次{run}"
        )
        batch_seconds.append(time.perf_counter() - started)
        assert batch.payments.count() == size
    singles = iter(load(queue[3 * size + 5 :]))
    # Warm-up: the first payment pays for caches the others find warm.
    for app in load(queue[3 * size : 3 * size + 5]):
        payments.aid_pay(actor=finance, application=app, fund=fund, method="bank")
    pay_ms = timed_ms(
        lambda: payments.aid_pay(
            actor=finance, application=next(singles), fund=fund, method="bank"
        ),
        SINGLE_PAYMENTS,
    )
    today = clock.today()
    allocation = income_source("admin_allocation")

    def insert() -> None:
        with transaction.atomic():
            LedgerEntry.objects.create(
                fund=fund, kind=EntryKind.RECEIPT, direction=1, amount=Decimal("1.00"),
                occurred_on=today, memo="基准", actor=finance, source=allocation,
                payer_kind="unit", payer="郑州市财政局",
            )  # fmt: skip

    for _ in range(5):
        insert()
    insert_ms = timed_ms(insert, SINGLE_PAYMENTS)
    return {
        "batch_size": size,
        "batch_s": statistics.median(batch_seconds),
        "batch_min_s": min(batch_seconds),
        "pay_p50": statistics.median(pay_ms),
        "pay_p95": percentile(pay_ms, 95),
        "insert_p50": statistics.median(insert_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="filed households")
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--show-sql", action="store_true", help="print the pages' queries")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hardship-bench-") as tmp:
        engine = configure(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from funds.models import Fund
        from programs.selectors import applications as app_selectors
        from programs.selectors import payments as pay_selectors
        from programs.views.applications import PAGE_SIZE
        from programs.views.payments import QUEUE_PAGE_SIZE

        call_command("migrate", verbosity=0)
        # Enough households that `count` of them are filed.
        data = build_data(int(args.count / FILED_SHARE * 1.03))
        who = people()
        who["drafter"] = data["caseworker"]
        money = build_money(args.count, args.applications, seed=1, who=who)
        made, fund = money["made"], money["fund"]
        n = args.requests

        def client(user: Any, **headers: str) -> Client:
            c = Client(headers=headers)
            c.force_login(user)
            return c

        chair = client(who["city_chair"])
        county_chair = client(who["county_chair"])
        finance = client(who["finance"])
        htmx = client(data["caseworker"], **{"HX-Request": "true"})

        from programs.models import Application

        awaiting = Application.objects.filter(app_selectors.awaiting_q(who["city_chair"])).count()
        county_awaiting = Application.objects.filter(
            app_selectors.awaiting_q(who["county_chair"])
        ).count()
        queued = pay_selectors.payable(who["finance"]).count()
        ledger_size = 50  # funds.views.LEDGER_PAGE_SIZE
        apps = "/aid/applications/"
        queue = "/aid/payments/"
        fund_url = f"/funds/{fund.pk}/"
        results = {
            "application_list_page1": measure(chair, apps, n),
            "application_list_deep": measure(chair, f"{apps}?page={deep(awaiting, PAGE_SIZE)}", n),
            "application_list_county": measure(county_chair, apps, n),
            "application_list_county_deep": measure(
                county_chair, f"{apps}?page={deep(county_awaiting, PAGE_SIZE)}", n
            ),
            "payment_queue_page1": measure(finance, queue, n),
            "payment_queue_deep": measure(
                finance, f"{queue}?page={deep(queued, QUEUE_PAGE_SIZE)}", n
            ),
            "fund_list": measure(finance, "/funds/", n),
            "fund_detail": measure(finance, fund_url, n),
            "fund_detail_deep": measure(
                finance, f"{fund_url}?page={deep(made['ledger_rows'], ledger_size)}", n
            ),
            "household_money": measure(htmx, f"/aid/households/{money['star']}/money/", n),
        }
        paid = pay_figures(who, money)
        from funds.services import balance_of

        fund_balance = balance_of(Fund.objects.get(pk=fund.pk))
        assert fund_balance >= 0, fund_balance

        def p95(name: str) -> float:
            return results[name]["p95"]

        figures: list[tuple[str, object]] = [
            ("database", engine),
            ("filed_households", made["filed"]),
            ("applications", made["applications"]),
            ("decisions", made["decisions"]),
            ("aid_payments", made["payments"]),
            ("fund_ledger_rows", made["ledger_rows"]),
            ("awaiting_city_chair", awaiting),
            ("awaiting_county_chair", county_awaiting),
            ("payment_queue_rows", queued),
            ("requests_per_figure", n),
            ("fund_balance", fund_balance),
            ("generate_households_s", round(data["generate_seconds"], 1)),
            ("build_money_s", round(made["seconds"], 1)),
            # The two figures the task names, as the worse of page 1 and deep.
            ("application_list_p95_ms", round(max(p95("application_list_page1"),
                                                  p95("application_list_deep")), 1)),
            ("application_list_queries", results["application_list_page1"]["queries"]),
            ("application_list_deep_queries", results["application_list_deep"]["queries"]),
            ("payment_queue_p95_ms", round(max(p95("payment_queue_page1"),
                                               p95("payment_queue_deep")), 1)),
            ("payment_queue_queries", results["payment_queue_page1"]["queries"]),
            ("payment_queue_deep_queries", results["payment_queue_deep"]["queries"]),
            ("fund_list_queries", results["fund_list"]["queries"]),
            ("fund_detail_queries", results["fund_detail"]["queries"]),
            ("fund_detail_deep_queries", results["fund_detail_deep"]["queries"]),
            ("household_money_queries", results["household_money"]["queries"]),
            ("pay_batch_size", paid["batch_size"]),
            ("pay_batch_200_s", round(paid["batch_s"], 2)),
            ("pay_batch_200_min_s", round(paid["batch_min_s"], 2)),
            ("pay_one_p50_ms", round(paid["pay_p50"], 1)),
            ("pay_one_p95_ms", round(paid["pay_p95"], 1)),
            ("ledger_insert_one_p50_ms", round(paid["insert_p50"], 2)),
            ("pay_one_ratio_vs_insert", round(paid["pay_p50"] / paid["insert_p50"], 1)),
        ]  # fmt: skip
        for name, result in results.items():
            figures.append((f"{name}_p50_ms", round(result["p50"], 1)))
            figures.append((f"{name}_p95_ms", round(result["p95"], 1)))
            figures.append((f"{name}_count_query_ms", round(result["count_ms"], 1)))
        for name, value in figures:
            print(f"{name}: {value}")
        if args.show_sql:
            for name, result in results.items():
                print(f"\n-- {name}")
                for sql in result["sql"]:
                    print(sql)
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
