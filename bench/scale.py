"""Benchmark: the whole product at national scale on PostgreSQL.

    .venv/bin/python bench/scale.py [--households N] [--requests N] [--reuse]
        [--database NAME] [--pages NAME,NAME]

Builds N households (default 1,000,000) in its own PostgreSQL database
(`hardship_scale` on the server DATABASE_URL names, or on
postgres@127.0.0.1:5432): the schema by `migrate` on a fresh database, then
every row by COPY: the units, the households with their members and
secondary causes, a roster of helpers paired with every filed household, a
year of visits, applications for 30% of the households with their
decisions, payments and ledger entries in one city fund, and a few thousand
intake notices. Then it times the pages as the person who uses each one
(40 requests, server time through Django's test client, p50/p95 and the
query count), with the Django admin changelist and a bare psycopg query on
the same rows as baselines in the same run. `--reuse` skips the build and
times an already-built database (migrated first, for indexes added since).
The database gets the settings docs/operations.md recommends (JIT off,
`random_page_cost`, `work_mem`). Each figure is printed as `name: value`.
"""

import argparse
import contextlib
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# One way to time a page for every bench: warm-up, the query count, then
# `requests` timed requests (bench/list_households.py).
from list_households import measure, percentile
from money import fund_and_program

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
SEED = 1
POOL = 5000  # households drawn by DemoFaker; the rest vary these (see below)
FLUSH_ROWS = 20_000  # rows held in memory per table before they are sent
APPLICATION_SHARE = 0.30
OPEN_DAYS = 180  # applications still open (pending, approved) are recent
AMOUNTS = [Decimal(a) for a in (500, 800, 1000, 1000, 1000, 1200, 1500, 2000, 2500, 3000)]
RECEIPT = Decimal("1000000.00")
PAIRINGS_PER_HELPER = 10
STAR_PAIRINGS = 80  # the helper whose 我的帮扶户 is timed
COUNTIES = 8


def say(message: str) -> None:
    """Progress goes to stderr: stdout holds only the figures."""
    print(message, file=sys.stderr, flush=True)


# --- Settings and the database ---------------------------------------------------------


def configure(workdir: Path, database: str, *, fresh: bool) -> str:
    """Point the settings at `database` (dropped and created again when
    `fresh`); return its URL. Runs before django.setup()."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    # Server-like: no per-query debug logging, which would dominate timings.
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["STATIC_ROOT"] = str(workdir / "static")
    os.environ["PRIVATE_STORAGE_ROOT"] = str(workdir / "private")
    (workdir / "static").mkdir(exist_ok=True)
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DB_POOL"] = "False"
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench/scale.py runs on PostgreSQL only (it writes with COPY)")
    if fresh:
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
    url = urlunsplit(parts._replace(path=f"/{database}"))
    os.environ["DATABASE_URL"] = url
    return url


# --- COPY, with ids given here ----------------------------------------------------------


class Table:
    """Rows of one model, sent with COPY in chunks. Ids are handed out here
    (the database is fresh, or continues past its largest id) so that rows
    can name each other before any is written; `finish` moves the table's
    sequence past them. Columns not given get the field's default.

    A hash-chained table's rows are linked here, in the order they are sent
    (accounts.chain.ChainStream): each row's digest, seq and hash are
    computed as it is added, and the chain's head moves after each COPY, so
    `manage.py audit_verify` passes on what the bench builds."""

    def __init__(self, model: Any, *, after: tuple["Table", ...] = ()) -> None:
        from django.db import connection
        from django.db.models import JSONField, Max
        from django.utils import timezone
        from psycopg.types.json import Jsonb

        from accounts.chain import Chained, ChainStream

        self.model = model
        # Tables whose rows these rows name: sent first, for the foreign keys.
        self.after = after
        self.fields = list(model._meta.concrete_fields)
        self.position = {f.attname: i for i, f in enumerate(self.fields)}
        now = timezone.now()
        defaults: list[Any] = []
        for f in self.fields:
            if f.primary_key:
                value = None
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            if isinstance(f, JSONField):
                value = Jsonb(value)
            defaults.append(value)
        self.defaults = defaults
        self.json = [i for i, f in enumerate(self.fields) if isinstance(f, JSONField)]
        self.rows: list[list[Any]] = []
        self.written = 0
        self.next_id = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.connection = connection
        self.chain = ChainStream(model) if issubclass(model, Chained) else None

    def _link(self, row: list[Any]) -> None:
        """Give a chained row its seq, digest and hash, in sending order."""
        if self.chain is None:
            return
        from psycopg.types.json import Jsonb

        values = {
            f.attname: (v.obj if isinstance(v, Jsonb) else v)
            for f, v in zip(self.fields, row, strict=True)
        }
        seq, digest, hash_ = self.chain.link(values)
        position = self.position
        row[position["chain_seq"]] = seq
        row[position["chain_digest"]] = digest
        row[position["chain_hash"]] = hash_

    def add(self, **values: Any) -> int:
        row = self.defaults.copy()
        row[0] = pk = self.next_id
        self.next_id += 1
        position = self.position
        for name, value in values.items():
            row[position[name]] = value
        self._link(row)
        self.rows.append(row)
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()
        return pk

    def row_of(self, obj: Any) -> list[Any]:
        """An unsaved instance's values in column order (no id yet)."""
        from psycopg.types.json import Jsonb

        row = [getattr(obj, f.attname) for f in self.fields]
        for i in self.json:
            row[i] = Jsonb(row[i])
        for i, value in enumerate(row):
            if value is None and self.defaults[i] is not None and not self.fields[i].null:
                row[i] = self.defaults[i]  # auto_now columns of a built instance
        return row

    def add_row(self, row: list[Any]) -> int:
        row[0] = pk = self.next_id
        self.next_id += 1
        self._link(row)
        self.rows.append(row)
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()
        return pk

    def flush(self) -> None:
        if not self.rows:
            return
        for parent in self.after:
            parent.flush()
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        # Only the model's own quoted names go into the text; rows are data.
        sql = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in self.rows:
                copy.write_row(row)
        if self.chain is not None:
            self.chain.save()
        self.written += len(self.rows)
        self.rows = []

    def finish(self) -> int:
        self.flush()
        table = self.model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                [table, self.next_id],
            )
        return self.written


# --- Build phases ----------------------------------------------------------------------


def build_units(households: int) -> dict[str, Any]:
    """A city union, COUNTIES county unions and grassroots unions under them
    (about 2,500 households each), through the unit service."""
    from accounts.services import unit_create

    city = unit_create(actor=None, code="410100", name="郑州市总工会", kind="city")
    per_county = max(3, households // (COUNTIES * 2500))
    counties = []
    for c in range(COUNTIES):
        county = unit_create(
            actor=None,
            code=f"4101{c + 2:02d}",
            name=f"第{c + 1}县区工会",
            kind="county",
            parent=city,
        )
        counties.append(county)
        for g in range(per_county):
            unit_create(
                actor=None,
                code=f"{county.code}{g + 1:03d}",
                name=f"{county.name}基层工会{g + 1}",
                kind="grassroots",
                parent=county,
            )
    return {"city": city, "counties": counties}


def build_people(units: dict[str, Any]) -> None:
    """The people whose pages are timed, found again by username under
    --reuse: city and county caseworkers, a chair of every union, a city
    finance officer, a superuser for the admin."""
    from accounts.models import Membership, Role, Unit, User

    city, county = units["city"], units["counties"][0]
    for username, unit, role in (
        ("scale_caseworker", city, Role.CASEWORKER),
        ("scale_county", county, Role.CASEWORKER),
        ("scale_finance", city, Role.FINANCE),
    ):
        user = User.objects.create_user(username=username, full_name=username)
        Membership.objects.create(user=user, unit=unit, role=role)
    for unit in Unit.objects.order_by("path"):
        user = User.objects.create_user(username=f"scale_chair_{unit.code}", full_name="主席")
        Membership.objects.create(user=user, unit=unit, role=Role.CHAIR)
    User.objects.create_superuser(username="scale_admin", email="", password=None)


def build_households(count: int) -> dict[str, Any]:
    """`count` households with members and secondary causes, by COPY.

    DemoFaker draws the first POOL households in full (about 4,000 a second
    here, too slow alone for the 5,000-a-second target). Every later
    household copies one of them and gets its own head (ID number and birth
    date from its own running index, as DemoFaker numbers them), its own
    union, phone and file number, and its members their own ID numbers.
    """
    from accounts.models import Unit
    from cases.models import Cause, FileNumberCounter, Household, Member, Tier
    from demo.bulk import unit_weights
    from demo.households import DemoFaker
    from demo.people import head_id, head_slot, member_id

    units = list(Unit.objects.filter(is_active=True).order_by("path"))
    codes = {u.pk: u.code for u in units}
    pick_unit = unit_weights(units)
    faker = DemoFaker(
        SEED,
        tiers=list(Tier.objects.filter(is_active=True)),
        causes=list(Cause.objects.filter(is_active=True)),
    )
    rng = faker.rng
    households = Table(Household)
    members = Table(Member, after=(households,))
    links = Table(Household.secondary_causes.through, after=(households,))
    pool: list[tuple[list[Any], list[list[Any]], list[int]]] = []
    for index in range(min(POOL, count)):
        rows = faker.household(index, pick_unit.pick(rng))
        pool.append(
            (
                households.row_of(rows.household),
                [members.row_of(m) for m in rows.members],
                rows.secondary_cause_ids,
            )
        )
    h = households.position
    m = members.position
    counters: dict[tuple[int, int], int] = {}
    started = time.perf_counter()
    first_id = households.next_id
    for index in range(count):
        template, template_members, causes = pool[index % len(pool)]
        row = template.copy()
        unit = pick_unit.pick(rng) if index >= len(pool) else None
        if unit is not None:
            slot = head_slot(index)
            male = row[h["sex"]] == "M"
            row[h["unit_id"]] = unit.pk
            row[h["id_number"]] = head_id(slot, male)
            row[h["birth_date"]] = slot.birth
            row[h["phone"]] = f"{row[h['phone']][:3]}{rng.randrange(10**8):08d}"
        filed_on = row[h["filed_on"]]
        if row[h["file_number"]] and filed_on:
            key = (row[h["unit_id"]], filed_on.year)
            counters[key] = number = counters.get(key, 0) + 1
            row[h["file_number"]] = f"{codes[key[0]]}-{key[1]}-{number:04d}"
        household_id = households.add_row(row)
        for block, template_member in enumerate(template_members, start=1):
            member = template_member.copy()
            member[m["household_id"]] = household_id
            if unit is not None and member[m["id_number"]] and member[m["birth_date"]]:
                member[m["id_number"]] = member_id(
                    slot, block, member[m["sex"]] == "M", member[m["birth_date"]]
                )
            members.add_row(member)
        for cause_id in causes:
            links.add(household_id=household_id, cause_id=cause_id)
        if (index + 1) % 100_000 == 0:
            rate = (index + 1) / (time.perf_counter() - started)
            say(f"  households {index + 1:,}/{count:,} ({rate:,.0f}/s)")
    made = {
        "households_written": households.finish(),
        "members": members.finish(),
        "secondary_causes": links.finish(),
    }
    FileNumberCounter.objects.bulk_create(
        FileNumberCounter(unit_id=unit_id, year=year, last=last)
        for (unit_id, year), last in counters.items()
    )
    made["first_id"] = first_id
    return made


def _filed(columns: str) -> list[tuple[Any, ...]]:
    """Every filed household's `columns`, in id order, read by the cursor."""
    from django.db import connection

    # `columns` is this module's own constant text, never input.
    sql = f"SELECT {columns} FROM cases_household WHERE status = 'filed' ORDER BY id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def build_helpers_and_visits(units: dict[str, Any]) -> dict[str, int]:
    """A roster per county (and the city) with one person for about ten
    pairings, one to three helpers for every filed household, and a year of
    visits: the last on the household's last-visit date, one to three
    earlier ones. One roster person per county has a login; the first
    county's is paired with STAR_PAIRINGS households (我的帮扶户)."""
    from accounts.models import Membership, Role, Unit, User
    from cases import clock
    from cases.models import Helper, HelperPerson, Visit

    rng = random.Random(SEED + 1)
    today = clock.today()
    year_ago = today - datetime.timedelta(days=365)
    tops = [units["city"], *units["counties"]]
    top_of = {}
    for unit in Unit.objects.all():
        top_of[unit.pk] = next(
            (t.pk for t in units["counties"] if unit.path.startswith(t.path)), units["city"].pk
        )
    filed = _filed("id, unit_id, last_visited_on")
    per_top: dict[int, int] = {}
    for _pk, unit_id, _last in filed:
        per_top[top_of[unit_id]] = per_top.get(top_of[unit_id], 0) + 1
    people, helpers, visits = Table(HelperPerson), Table(Helper), Table(Visit)
    # Every person is sent before the first pairing.
    roster: dict[int, list[int]] = {}
    login: dict[int, int] = {}  # person id → user id, for the few with a login
    recorder: dict[int, int] = {}  # top unit → the caseworker who records visits
    for top in tops:
        size = max(3, per_top.get(top.pk, 0) * 2 // PAIRINGS_PER_HELPER)
        user = User.objects.create_user(username=f"scale_helper_{top.code}", full_name="帮扶人")
        Membership.objects.create(user=user, unit=top, role=Role.CASEWORKER)
        recorder[top.pk] = user.pk
        ids = [
            people.add(
                unit_id=top.pk, name=f"帮扶人{top.code[-2:]}-{i}", post="工会干部",
                user_id=user.pk if i == 0 else None,
            )
            for i in range(size)
        ]  # fmt: skip
        login[ids[0]] = user.pk
        roster[top.pk] = ids
    people.finish()
    star = roster[units["counties"][0].pk][0]
    star_left = STAR_PAIRINGS
    roles = ("unit_leader", "union_cadre", "grassroots_leader")
    for household_id, unit_id, last in filed:
        top = top_of[unit_id]
        chosen = rng.sample(roster[top], min(len(roster[top]), rng.choice((1, 2, 2, 3))))
        if star_left and top == units["counties"][0].pk and star not in chosen:
            chosen[0] = star
            star_left -= 1
        last = last or today - datetime.timedelta(days=rng.randint(5, 150))
        for n, person in enumerate(chosen):
            start = today - datetime.timedelta(days=rng.randint(200, 900))
            helpers.add(
                household_id=household_id, person_id=person, user_id=login.get(person),
                role=roles[n], is_first=n == 0, start_on=start,
                last_visited_on=last if n == 0 else None,
            )  # fmt: skip
        visitor = login.get(chosen[0], recorder[top])
        on_behalf = None if chosen[0] in login else chosen[0]
        days = sorted(rng.sample(range(max(1, (last - year_ago).days)), rng.randint(1, 3)))
        for day in [*(year_ago + datetime.timedelta(days=d) for d in days), last]:
            visits.add(
                household_id=household_id, visitor_id=visitor, on_behalf_of_id=on_behalf,
                visited_on=day, knows_name=True, knows_address=True, knows_phone=True,
                seen_housing="住房整洁，家具简陋。", needs="子女学费、医疗费用。",
                help_given="送去慰问金和米面油。",
            )  # fmt: skip
    return {
        "helper_people": people.written,
        "helpers": helpers.finish(),
        "visits": visits.finish(),
    }


def _application_status(rng: random.Random, age_days: int) -> str:
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


def build_money(count: int) -> dict[str, int]:
    """A city fund and a 春节送温暖 program; applications for `count`
    households drafted over three years (bench/money.py's mix), their
    decisions, and for each paid one its ledger entry and payment, in date
    order with a 1,000,000-yuan receipt whenever the balance would go below
    zero; one payment in 50 reversed."""
    from django.utils import timezone

    from accounts.models import Unit, User
    from cases import clock
    from funds.models import EntryKind, LedgerEntry
    from funds.services import income_source
    from programs.models import (
        AidPayment,
        Application,
        Decision,
    )

    rng = random.Random(SEED + 2)
    today = clock.today()
    now = timezone.now()
    finance = User.objects.get(username="scale_finance")
    drafter = User.objects.get(username="scale_caseworker")
    city = Unit.objects.get(parent__isnull=True)
    allocation = income_source("admin_allocation")
    fund, program = fund_and_program(city, finance, today.year)
    units = {u.pk: u for u in Unit.objects.all()}
    chair = dict(
        User.objects.filter(username__startswith="scale_chair_").values_list("username", "pk")
    )
    chair_of = {pk: chair[f"scale_chair_{u.code}"] for pk, u in units.items()}
    filed = _filed("id, unit_id, name, bank_name, bank_account")
    span = 3 * 365 * 24 * 3600
    plans = []
    for _ in range(count):
        drafted = now - datetime.timedelta(seconds=rng.randrange(span))
        plans.append((drafted, rng.choice(filed), rng.choice(AMOUNTS)))
    plans.sort(key=lambda plan: plan[0])
    applications = Table(Application)
    decisions = Table(Decision, after=(applications,))
    entries = Table(LedgerEntry)
    payments = Table(AidPayment, after=(applications, entries))
    paid: list[tuple[datetime.datetime, int, Decimal, tuple[Any, ...]]] = []
    for drafted, household, amount in plans:
        unit = units[household[1]]
        status = _application_status(rng, (now - drafted).days)
        limit = {"county": 2000, "grassroots": 1000}.get(unit.kind)
        above = limit is not None and amount > limit
        if status == "pending_parent" and not above:
            status = "pending"
        app = applications.add(
            program_id=program.pk, household_id=household[0], year=drafted.year, status=status,
            standard_amount=Decimal("1000"), amount=amount, reason="春节慰问",
            needs_parent=above, drafted_by_id=drafter.pk, drafted_at=drafted,
        )  # fmt: skip
        if status in ("pending", "withdrawn"):
            continue
        at = min(drafted + datetime.timedelta(days=rng.randint(1, 10)), now)
        decisions.add(
            application_id=app, level="unit", approved=status != "rejected",
            actor_id=chair_of[unit.pk], decided_at=at,
        )  # fmt: skip
        if above and status in ("approved", "paid"):
            decisions.add(
                application_id=app, level="parent", approved=True,
                actor_id=chair_of[unit.parent_id], decided_at=at + datetime.timedelta(days=2),
            )  # fmt: skip
        if status == "paid":
            paid.append((min(at + datetime.timedelta(days=5), now), app, amount, household))
    paid.sort(key=lambda p: (p[0], p[1]))
    reopened: list[int] = []
    balance = Decimal(0)
    for at, app, amount, (household_id, _unit, name, bank_name, account) in paid:
        if balance < amount:
            entries.add(
                fund_id=fund.pk, kind=EntryKind.RECEIPT, direction=1, amount=RECEIPT,
                occurred_on=at.date(), memo="市财政拨付帮扶资金", actor_id=finance.pk,
                source_id=allocation.pk, payer_kind="unit", payer="郑州市财政局", created_at=at,
            )  # fmt: skip
            balance += RECEIPT
        entry = entries.add(
            fund_id=fund.pk, kind=EntryKind.PAYMENT, direction=-1, amount=amount,
            occurred_on=at.date(), memo=f"{program.name} {name}", household_id=household_id,
            reference=f"aid:{app}:1", actor_id=finance.pk, created_at=at,
        )  # fmt: skip
        balance -= amount
        reversal = None
        if rng.random() < 0.02:
            back = min(at + datetime.timedelta(days=3), now)
            reversal = entries.add(
                fund_id=fund.pk, kind=EntryKind.REVERSAL, direction=1, amount=amount,
                occurred_on=back.date(), memo="冲正：账号有误", reverses_id=entry,
                household_id=household_id, actor_id=finance.pk, created_at=back,
            )  # fmt: skip
            balance += amount
            reopened.append(app)
        payments.add(
            application_id=app, fund_id=fund.pk, entry_id=entry, method="bank", amount=amount,
            paid_on=at.date(), account_name=name, bank_name=bank_name, bank_account=account,
            paid_by_id=finance.pk, reversal_id=reversal,
            reversal_reason="账号有误" if reversal else "", created_at=at,
        )  # fmt: skip
    made = {
        "applications": applications.finish(),
        "decisions": decisions.finish(),
        "ledger_entries": entries.finish(),
        "aid_payments": payments.finish(),
    }
    # A reversed payment's application is back in the payment queue.
    Application.objects.filter(pk__in=reopened).update(status="approved")
    LedgerEntry.objects.create(
        fund=fund, kind=EntryKind.RECEIPT, direction=1, amount=RECEIPT, occurred_on=today,
        memo="市财政拨付帮扶资金", actor=finance, source=allocation, payer_kind="unit",
        payer="郑州市财政局",
    )  # fmt: skip
    # COPY went around the ORM: count the funds' day totals from the rows.
    from funds.summary import rebuild

    made["ledger_days"] = rebuild()
    return made


def build_notices(count: int) -> dict[str, int]:
    """`count` intake notices (公示), each listing 5 to 20 filed households
    of its union, over the past three years."""
    from accounts.models import User
    from cases import clock
    from cases.models import IntakeNotice, NoticeEntry

    rng = random.Random(SEED + 3)
    today = clock.today()
    author = User.objects.get(username="scale_caseworker")
    by_unit: dict[int, list[int]] = {}
    for pk, unit_id in _filed("id, unit_id"):
        by_unit.setdefault(unit_id, []).append(pk)
    unit_ids = sorted(by_unit)
    notices = Table(IntakeNotice)
    entries = Table(NoticeEntry, after=(notices,))
    for n in range(count):
        unit_id = unit_ids[n % len(unit_ids)]
        starts = today - datetime.timedelta(days=rng.randint(7, 3 * 365))
        notice = notices.add(
            unit_id=unit_id, title=f"困难职工建档公示（第{n + 1}批）", starts_on=starts,
            working_days=5, ends_on=starts + datetime.timedelta(days=7),
            posted_at="工会公告栏", created_by_id=author.pk,
        )  # fmt: skip
        listed = by_unit[unit_id]
        for household_id in rng.sample(listed, min(len(listed), rng.randint(5, 20))):
            entries.add(notice_id=notice, household_id=household_id)
    return {"notices": notices.finish(), "notice_entries": entries.finish()}


# The tables COPY fills: their secondary indexes are built once after the
# rows are in (a bulk load's usual order) rather than entry by entry.
BULK_TABLES = (
    "cases_household",
    "cases_member",
    "cases_household_secondary_causes",
    "cases_helper",
    "cases_helperperson",
    "cases_visit",
    "programs_application",
    "programs_decision",
    "programs_aidpayment",
    "funds_ledgerentry",
    "cases_noticeentry",
)


@contextlib.contextmanager
def indexes_after(figures: list[tuple[str, object]]) -> Iterator[None]:
    """Drop the secondary indexes of BULK_TABLES, and create them again
    (the same definitions, read from pg_indexes) when the rows are in.
    Indexes that back a constraint (primary keys, UNIQUE) stay."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " JOIN pg_class c ON c.relname = i.indexname"
            " WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)",
            [list(BULK_TABLES)],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    say(f"create {len(indexes)} indexes")
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)  # the database's own text, read above
    figures.append(("build_indexes_s", round(time.perf_counter() - began, 1)))
    figures.append(("indexes_built_after", len(indexes)))


def build(households: int) -> list[tuple[str, object]]:
    """Every build phase, timed; returns the figures."""
    from django.core.management import call_command
    from django.db import connection

    from accounts.bulk import collector_paused

    figures: list[tuple[str, object]] = [("insert_method", "COPY")]
    started = time.perf_counter()
    say("migrate")
    call_command("migrate", verbosity=0)
    figures.append(("migrate_s", round(time.perf_counter() - started, 1)))

    def phase(name: str, run: Callable[[], dict[str, Any] | None]) -> Any:
        say(name)
        began = time.perf_counter()
        with collector_paused():
            made = run()
        seconds = time.perf_counter() - began
        figures.append((f"build_{name}_s", round(seconds, 1)))
        for key, value in (made or {}).items():
            if key != "first_id" and isinstance(value, int):
                figures.append((key, value))
        return made, seconds

    build_started = time.perf_counter()
    units, _s = phase("units", lambda: build_units(households))
    phase("people", lambda: build_people(units))
    with indexes_after(figures):
        _made, seconds = phase("households", lambda: build_households(households))
        figures.append(("build_households_per_s", round(households / seconds)))
        phase("helpers_visits", lambda: build_helpers_and_visits(units))
        phase("money", lambda: build_money(round(households * APPLICATION_SHARE)))
        phase("notices", lambda: build_notices(max(10, households // 300)))
    say("vacuum analyze")
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    figures.append(("vacuum_analyze_s", round(time.perf_counter() - began, 1)))
    total = time.perf_counter() - build_started
    figures.append(("build_total_s", round(total, 1)))
    figures.append(("build_all_rows_households_per_s", round(households / total)))
    figures.extend(verify_chains())
    return figures


def verify_chains() -> list[tuple[str, object]]:
    """`manage.py audit_verify` on what was built: every chain whole."""
    from accounts.chain import chain_verify, chained_models

    say("audit_verify")
    began = time.perf_counter()
    rows, bad = 0, []
    for model in chained_models():
        report = chain_verify(model)
        rows += report.rows
        if report.finding is not None:
            bad.append(str(report.finding))
    if bad:
        raise SystemExit("audit_verify failed: " + "; ".join(bad))
    seconds = time.perf_counter() - began
    return [("audit_verify_rows", rows), ("audit_verify_rows_per_s", round(rows / seconds))]


def tune(database: str) -> list[tuple[str, object]]:
    """The database settings docs/operations.md recommends (and `manage.py
    check_database` checks), set on the bench database so that every new
    connection has them: JIT off, `random_page_cost` for SSD, `work_mem`
    for the statistics' sorts. Printed, so a figure says what it ran on."""
    from django.db import connection

    from accounts.dbcheck import RANDOM_PAGE_COST_RECOMMENDED, WORK_MEM_RECOMMENDED

    settings = {
        "jit": "off",
        "random_page_cost": RANDOM_PAGE_COST_RECOMMENDED,
        "work_mem": WORK_MEM_RECOMMENDED,
    }
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute(f"ALTER DATABASE \"{database}\" SET {name} = '{value}'")
    connection.close()  # the next connection starts with them
    return [(f"db_{name}", value) for name, value in settings.items()]


def sizes() -> list[tuple[str, object]]:
    """The database on disk (tables with their indexes and TOAST), for the
    extrapolation to more households in docs/benchmarks.md."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (total,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname = 'public'"
            " ORDER BY 2 DESC LIMIT 8"
        )
        biggest = cursor.fetchall()
    mb = 1024 * 1024
    figures: list[tuple[str, object]] = [("database_mb", round(total / mb))]
    figures += [(f"table_mb_{name}", round(size / mb)) for name, size in biggest]
    return figures


# --- Timing ---------------------------------------------------------------------------


def time_sql(url: str, sql: str, params: list[Any], requests: int) -> dict[str, float]:
    """A bare psycopg query, fetched in full, on its own connection."""
    import psycopg

    samples = []
    with psycopg.connect(url) as conn:
        for n in range(requests + 3):
            began = time.perf_counter()
            conn.execute(sql, params).fetchall()
            if n >= 3:
                samples.append((time.perf_counter() - began) * 1000)
    return {"p50": statistics.median(samples), "p95": percentile(samples, 95)}


def _deep(total: int, size: int) -> int:
    """A page four fifths of the way down a list."""
    return max(1, -(-total // size) * 4 // 5)


def pages(url: str, requests: int, only: set[str]) -> list[tuple[str, object]]:
    """Time every page as its user, the admin and the bare queries."""
    from django.conf import settings
    from django.contrib import admin as django_admin
    from django.db import connection
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Unit, User
    from accounts.otp import otp_required
    from accounts.paging import deep_link
    from cases.models import Household
    from funds import selectors as fund_selectors
    from funds.models import Fund, LedgerEntry
    from funds.views import LEDGER_PAGE_SIZE
    from programs.models import Application
    from programs.selectors import applications as app_selectors
    from programs.selectors import payments as pay_selectors
    from programs.views.applications import PAGE_SIZE
    from programs.views.payments import QUEUE_PAGE_SIZE

    def client(username: str) -> Client:
        """Signed in as `username`, the second factor passed for the roles
        that need one (a confirmed TOTP device in django-otp's session key)."""
        user = User.objects.get(username=username)
        c = Client()
        c.force_login(user)
        if otp_required(user):
            device, _new = TOTPDevice.objects.get_or_create(
                user=user, name="scale", defaults={"confirmed": True}
            )
            session = c.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return c

    city = Unit.objects.get(parent__isnull=True)
    county = Unit.objects.filter(kind="county").order_by("path").first()
    assert county is not None
    caseworker = client("scale_caseworker")
    county_worker = client("scale_county")
    helper = client(f"scale_helper_{county.code}")
    city_chair_user = User.objects.get(username=f"scale_chair_{city.code}")
    chair = client(city_chair_user.username)
    finance_user = User.objects.get(username="scale_finance")
    finance = client(finance_user.username)
    admin = client("scale_admin")

    total = Household.objects.count()
    size = settings.HOUSEHOLD_PAGE_SIZE
    deep = _deep(total, size)
    admin_size = django_admin.site.get_model_admin(Household).list_per_page
    admin_deep = (deep - 1) * size // admin_size + 1  # the admin page with the same rows
    sample = Household.objects.filter(status="filed").order_by("id")[total // 2]
    surname = "王"  # the most common surname: the widest name search
    awaiting = Application.objects.filter(app_selectors.awaiting_q(city_chair_user)).count()
    queued = pay_selectors.payable(finance_user).count()
    fund = Fund.objects.order_by("id").first()
    assert fund is not None
    ledger_rows = LedgerEntry.objects.filter(fund=fund).count()
    ledger_deep = _deep(ledger_rows, LEDGER_PAGE_SIZE)
    hh = "/households/"
    # A deep page as a user reaches it: by the 下一页 link of the page before,
    # which carries that page's last sort key (accounts.paging, keyset).
    list_deep = deep_link(Household.objects.order_by("-id"), deep, size)
    approval_deep = deep_link(
        app_selectors.application_list(city_chair_user, app_selectors.ApplicationFilter(mine=True)),
        _deep(awaiting, PAGE_SIZE),
        PAGE_SIZE,
    )
    payment_deep = deep_link(
        pay_selectors.payment_queue(finance_user, pay_selectors.QueueFilter()),
        _deep(queued, QUEUE_PAGE_SIZE),
        QUEUE_PAGE_SIZE,
    )
    ledger_deep_link = deep_link(
        fund_selectors.ledger_entries(fund, fund_selectors.EntryFilter()),
        ledger_deep,
        LEDGER_PAGE_SIZE,
    )
    ours: dict[str, tuple[Any, str, str]] = {
        "list_p1": (caseworker, hh, ""),
        "list_deep": (caseworker, f"{hh}?{list_deep}", ""),
        "search_surname": (caseworker, f"{hh}?q={surname}", ""),
        "search_name": (caseworker, f"{hh}?q={sample.name}", ""),
        "search_id": (caseworker, f"{hh}?q={sample.id_number}", sample.name),
        "search_phone": (caseworker, f"{hh}?q={sample.phone}", sample.name),
        "county_list": (county_worker, hh, ""),
        "my_households": (helper, "/my-households/", ""),
        "overdue": (caseworker, "/visits/overdue/", ""),
        "approval_p1": (chair, "/aid/applications/", ""),
        "approval_deep": (chair, f"/aid/applications/?{approval_deep}", ""),
        "payment_p1": (finance, "/aid/payments/", ""),
        "payment_deep": (finance, f"/aid/payments/?{payment_deep}", ""),
        "household_detail": (caseworker, f"{hh}{sample.pk}/", sample.name),
        "ledger_p1": (finance, f"/funds/{fund.pk}/", ""),
        "ledger_deep": (finance, f"/funds/{fund.pk}/?{ledger_deep_link}", ""),
        "statistics": (chair, "/reports/statistics/", "数据截至"),
        "statistics_xlsx": (chair, "/reports/statistics/xlsx/", ""),
        "statistics_pdf": (chair, "/reports/statistics/pdf/", ""),
    }
    cl = "/admin/cases/household/"
    baselines: dict[str, tuple[Any, str, str]] = {
        "admin_list_p1": (admin, cl, ""),
        "admin_list_deep": (admin, f"{cl}?p={admin_deep}", ""),
        "admin_search_surname": (admin, f"{cl}?q={surname}", ""),
        "admin_search_name": (admin, f"{cl}?q={sample.name}", ""),
        "admin_search_id": (admin, f"{cl}?q={sample.id_number}", sample.name),
    }
    figures: list[tuple[str, object]] = [
        ("households", total),
        ("requests_per_figure", requests),
        ("list_deep_page", deep),
        ("admin_deep_page", admin_deep),
        ("approval_queue_rows", awaiting),
        ("payment_queue_rows", queued),
        ("fund_ledger_rows", ledger_rows),
    ]
    if not only or only & {"statistics", "statistics_xlsx", "statistics_pdf"}:
        # The whole city's figures come from its snapshot (数据截至), which
        # the nightly statistics_refresh builds: built here, and timed.
        from reports.stats import Scope, default_period
        from reports.stats_snapshot import build_snapshot

        say("statistics snapshot of the city")
        began = time.perf_counter()
        build_snapshot(Scope(city, *default_period()), lang=settings.LANGUAGE_CODE)
        figures.append(("statistics_snapshot_build_s", round(time.perf_counter() - began, 1)))
    results: dict[str, dict[str, float]] = {}
    for name, (who, page_url, expect) in {**ours, **baselines}.items():
        if only and name not in only:
            continue
        say(f"timing {name}: {page_url}")
        results[name] = result = measure(who, page_url, requests, expect)
        figures += [
            (f"{name}_p50_ms", round(result["p50"], 1)),
            (f"{name}_p95_ms", round(result["p95"], 1)),
            (f"{name}_queries", result["queries"]),
            (f"{name}_sql_ms", round(result["sql_ms"], 1)),
        ]
    # The same rows as list page 1 / the deep page / the surname search, as
    # one plain query: the household, its union, tier and main cause.
    bare = (
        "SELECT h.*, u.name, t.name, c.name FROM cases_household h"
        " JOIN accounts_unit u ON u.id = h.unit_id"
        " LEFT JOIN cases_tier t ON t.id = h.tier_id"
        " LEFT JOIN cases_cause c ON c.id = h.main_cause_id"
    )
    connection.close()  # the bare queries get the server to themselves
    newest = f"{bare} ORDER BY h.id DESC LIMIT %s"
    surname_sql = f"{bare} WHERE h.name LIKE %s ORDER BY h.id DESC LIMIT %s"
    for name, sql, params in (
        ("bare_list_p1", newest, [size]),
        ("bare_list_deep", f"{newest} OFFSET %s", [size, (deep - 1) * size]),
        ("bare_search_surname", surname_sql, [f"{surname}%", size]),
    ):
        if only and name not in only:
            continue
        results[name] = result = time_sql(url, sql, params, requests)
        figures += [
            (f"{name}_p50_ms", round(result["p50"], 2)),
            (f"{name}_p95_ms", round(result["p95"], 2)),
        ]
    for ours_name, base, label in (
        ("list_p1", "admin_list_p1", "list_vs_admin"),
        ("list_deep", "admin_list_deep", "list_deep_vs_admin"),
        ("search_surname", "admin_search_surname", "search_surname_vs_admin"),
        ("search_name", "admin_search_name", "search_name_vs_admin"),
        ("search_id", "admin_search_id", "search_id_vs_admin"),
    ):
        if ours_name in results and base in results:
            # The admin's p95 over ours: above 1, ours is the faster.
            ratio = results[base]["p95"] / results[ours_name]["p95"]
            figures.append((f"{label}_p95_ratio", round(ratio, 2)))
    for ours_name, base in (
        ("list_p1", "bare_list_p1"),
        ("list_deep", "bare_list_deep"),
        ("search_surname", "bare_search_surname"),
    ):
        if ours_name in results and base in results:
            # Ours over the bare query: how many times the floor a page costs.
            ratio = results[ours_name]["p95"] / results[base]["p95"]
            figures.append((f"{ours_name}_over_bare_p95", round(ratio, 1)))
    return figures


def print_figures(figures: Iterable[tuple[str, object]]) -> None:
    for name, value in figures:
        print(f"{name}: {value}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database", default="hardship_scale")
    parser.add_argument(
        "--reuse", action="store_true", help="time an already-built database (no build)"
    )
    parser.add_argument("--build-only", action="store_true", help="build, time nothing")
    parser.add_argument("--pages", default="", help="time only these figures (comma-separated)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hardship-scale-") as tmp:
        url = configure(Path(tmp), args.database, fresh=not args.reuse)
        import django

        django.setup()
        print_figures([("database", f"postgresql {args.database}")])
        if args.reuse:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)  # indexes added since the build
        else:
            print_figures(build(args.households))
        print_figures(tune(args.database))
        print_figures(sizes())
        if not args.build_only:
            only = {p.strip() for p in args.pages.split(",") if p.strip()}
            print_figures(pages(url, args.requests, only))
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
