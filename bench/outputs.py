"""Benchmark: the outputs (documents now; imports are added the same way).

    .venv/bin/python bench/outputs.py [--only NAME ...] [--rows N]

Builds its own throw-away database (SQLite in a temporary directory, or the
PostgreSQL database `hardship_bench` when DATABASE_URL is set, as
bench/list_households.py does), fills it with a union tree, households, a
fund and aid payments written in bulk, and times the documents through their
generators and renderers, the code the views and the background jobs run.
Each figure is printed as `name: value`.

Figures and targets:
    notice_1page_s            a one-page public notice PDF            < 0.5 s
    ledger_pdf_1000_s         a 1,000-row disbursement ledger PDF
    ledger_pdf_1000_ratio     ... / WeasyPrint rendering the same HTML < 1.3
    ledger_pdf_4page_first_s  the first 4-page ledger PDF of a freshly
                              started web worker (config.wsgi, which warms
                              the PDF fonts up in the background)      < 1.5 s
    ledger_pdf_4page_cold_s   ... in a fresh process with no warm-up
                              (WeasyPrint import and fonts included)
    ledger_pdf_4page_warm_s   ... the next one, in the same process
    pdf_warm_up_s             that worker's warm-up (background, at start)
    ledger_xlsx_100k_s        the 100,000-row ledger workbook
    ledger_xlsx_100k_ratio    ... / openpyxl write-only writing the same
                              rows alone                               < 1.3
    ledger_xlsx_100k_peak_mb  Python memory peak while making it       < 200
    import_100k_rows_per_s    the 100,000-row household import, file to
                              committed rows (bench/outputs_import.py)
    import_speedup_vs_plain   ... against a plain ModelResource        >= 5
    login_p50_ms              median sign-in: the login POST through the
                              test client and every middleware, with the
                              production password hasher (login_hasher) < 300

A figure is a function taking the shared `Bench` and returning its
`(name, value)` pairs; FIGURES lists them in the order they run.
"""

import argparse
import datetime
import gc
import io
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from list_households import configure  # the same throw-away database

PAID_ON = datetime.date(2026, 1, 20)
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ("堃", "喆", "燊", "㛃", "秀英", "建国", "丽娟", "志强", "桂兰", "海涛")


@dataclass
class Bench:
    """What the figures share: the people, the fund per ledger size, and
    numbers other figures may want to reuse."""

    rows: int
    repeat: int
    data: dict[str, Any] = field(default_factory=dict)


Figure = Callable[[Bench], list[tuple[str, object]]]


def best(samples: list[float]) -> float:
    """The least disturbed run: the machine is shared, noise only adds time."""
    return min(samples)


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - started)
    return best(samples), result


def timed_pair(
    ours: Callable[[], Any], plain: Callable[[], Any], repeat: int
) -> tuple[float, float, Any]:
    """Both timed in turns, so a busy spell on the machine hits both alike;
    the best run of each is kept."""
    mine: list[float] = []
    theirs: list[float] = []
    result = None
    for _ in range(repeat):
        for samples, function in ((theirs, plain), (mine, ours)):
            gc.collect()
            started = time.perf_counter()
            value = function()
            samples.append(time.perf_counter() - started)
            if function is ours:
                result = value
    return best(mine), best(theirs), result


# -- data ------------------------------------------------------------------------------------


def build_people(bench: Bench) -> None:
    from accounts.models import Membership, Role, User
    from accounts.services import unit_create
    from cases.idnumber import make as make_id
    from cases.models import Cause, Household, HouseholdStatus, IntakeNotice, NoticeEntry, Tier
    from programs.models import Program

    city = unit_create(actor=None, code="410100", name="郑州市总工会", kind="city")
    county = unit_create(actor=None, code="410105", name="金水区总工会", kind="county", parent=city)
    units = [county] + [
        unit_create(
            actor=None,
            code=f"41010500{g}",
            name=f"金水区第{g}基层工会",
            kind="grassroots",
            parent=county,
        )
        for g in range(1, 4)
    ]
    finance = User.objects.create_user(username="bench_finance", full_name="压测财务")
    Membership.objects.create(user=finance, unit=county, role=Role.FINANCE)
    caseworker = User.objects.create_user(username="bench_caseworker", full_name="压测干部")
    Membership.objects.create(user=caseworker, unit=county, role=Role.CASEWORKER)
    tier = Tier.objects.order_by("sort_order").first()
    cause = Cause.objects.order_by("sort_order").first()
    households = Household.objects.bulk_create(
        Household(
            unit=units[n % len(units)],
            status=HouseholdStatus.FILED,
            file_number=f"410105-2026-{n + 1:05d}",
            name=SURNAMES[n // len(GIVEN) % len(SURNAMES)] + GIVEN[n % len(GIVEN)],
            id_number=make_id("410105", datetime.date(1960, 1, 1) + datetime.timedelta(n), n),
            sex="M",
            birth_date=datetime.date(1960, 1, 1) + datetime.timedelta(n),
            phone=f"1380371{n:04d}",
            address="河南省郑州市金水区文化路街道黄河社区3号楼",
            employment_status="laid_off",
            housing_type="owned",
            hukou_type="urban",
            marital_status="married",
            tier=tier,
            main_cause=cause,
            bank_name="中国工商银行",
            bank_account=f"62220202001{n:08d}",
        )
        for n in range(200)
    )
    notice = IntakeNotice.objects.create(
        unit=county,
        title="2026年第一批困难职工建档公示",
        starts_on=PAID_ON,
        working_days=5,
        ends_on=PAID_ON + datetime.timedelta(days=7),
        posted_at="金水区总工会公示栏",
        created_by=caseworker,
    )
    NoticeEntry.objects.bulk_create(
        NoticeEntry(notice=notice, household=h) for h in households[:15]
    )
    program = Program.objects.create(
        unit=city, name="2026年春节送温暖", category="festival", kind="cash"
    )
    bench.data.update(
        county=county,
        finance=finance,
        caseworker=caseworker,
        households=households,
        notice=notice,
        program=program,
    )


def fund_with_payments(bench: Bench, count: int) -> Any:
    """A fund holding `count` aid payments (one in twenty reversed), the rows
    written in bulk as the payment service writes them one by one."""
    from funds.models import EntryKind, Fund, LedgerEntry
    from funds.services import income_source
    from funds.summary import paying_for
    from programs.models import AidPayment, Application, ApplicationStatus

    finance, program = bench.data["finance"], bench.data["program"]
    households = bench.data["households"]
    # One fund a year, as a union keeps them: each ledger size its own year.
    year = 2026 - len([k for k in bench.data if k.startswith("fund_")])
    fund = Fund.objects.create(
        unit=bench.data["county"],
        name="送温暖专项",
        year=year,
        created_by=finance,
    )
    bench.data[f"fund_{count}"] = fund
    LedgerEntry.objects.create(
        fund=fund, kind=EntryKind.RECEIPT, direction=1, amount=Decimal(count) * 1000,
        occurred_on=PAID_ON, memo="区财政拨款", actor=finance,
        source=income_source("admin_allocation"), payer_kind="unit", payer="金水区财政局",
    )  # fmt: skip
    step = 5000
    for start in range(0, count, step):
        chunk = range(start, min(count, start + step))
        amount = [Decimal(500 + (n % 7) * 100) for n in chunk]
        people = [households[n % len(households)] for n in chunk]
        applications = Application.objects.bulk_create(
            Application(
                program=program, household=h, year=2026, status=ApplicationStatus.PAID,
                amount=a, drafted_by=finance,
            )
            for h, a in zip(people, amount, strict=True)
        )  # fmt: skip
        entries = LedgerEntry.objects.bulk_create(
            paying_for(LedgerEntry(
                fund=fund, kind=EntryKind.PAYMENT, direction=-1, amount=a, occurred_on=PAID_ON,
                memo=f"{program.name} {h.name}", household=h, actor=finance,
            ), program.pk)
            for h, a in zip(people, amount, strict=True)
        )  # fmt: skip
        reversals = {
            n: LedgerEntry(
                fund=fund, kind=EntryKind.REVERSAL, direction=1, amount=amount[i],
                occurred_on=PAID_ON, memo="冲正：账号填错", reverses=entries[i],
                household=people[i], actor=finance,
            )
            for i, n in enumerate(chunk)
            if n % 20 == 19
        }  # fmt: skip
        LedgerEntry.objects.bulk_create(reversals.values())
        AidPayment.objects.bulk_create(
            AidPayment(
                application=app, fund=fund, entry=entry, method="bank", amount=a,
                paid_on=PAID_ON, paid_by=finance, account_name=h.name, bank_name=h.bank_name,
                bank_account=h.bank_account, reversal=reversals.get(n),
            )
            for n, app, entry, a, h in zip(
                chunk, applications, entries, amount, people, strict=True
            )
        )  # fmt: skip
    return fund


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# -- figures ---------------------------------------------------------------------------------


def notice_1page(bench: Bench) -> list[tuple[str, object]]:
    from reports.generators import REGISTRY
    from reports.render import render

    user, notice = bench.data["caseworker"], bench.data["notice"]
    generator = REGISTRY["intake_notice"]

    def make() -> bytes:
        document = generator.build(user, generator.target(user, notice.pk), {})
        return render(document, "pdf")

    make()  # warm-up: fonts, templates
    seconds, pdf = timed(make, bench.repeat)
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages == 1, pages
    return [("notice_1page_s", round(seconds, 3))]


def _ledger_document(bench: Bench, fund: Any) -> Any:
    from reports.generators import REGISTRY

    user = bench.data["finance"]
    generator = REGISTRY["fund_disbursements"]
    return generator.build(user, generator.target(user, fund.pk), {})


def ledger_pdf_1000(bench: Bench) -> list[tuple[str, object]]:
    from reports.pdf import html_to_pdf, render_html
    from reports.render.pdf import pdf_table, render_document_pdf

    fund = fund_with_payments(bench, 1000)
    _analyze()

    def ours() -> bytes:
        return render_document_pdf(_ledger_document(bench, fund))

    # WeasyPrint alone: the same HTML, already written, laid out and saved.
    document = _ledger_document(bench, fund)
    context = {
        **document.context,
        "doc": document,
        "title": document.title,
        "doc_number": document.number,
        "table": pdf_table(document.table),
    }
    html = render_html(document.template, context)

    def weasyprint_alone() -> bytes:
        return html_to_pdf(html)

    seconds, plain, pdf = timed_pair(ours, weasyprint_alone, max(2, bench.repeat // 2))
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    return [
        ("ledger_pdf_1000_pages", pages),
        ("ledger_pdf_1000_s", round(seconds, 2)),
        ("ledger_pdf_1000_weasyprint_s", round(plain, 2)),
        ("ledger_pdf_1000_ratio", round(seconds / plain, 2)),
    ]


def _openpyxl_alone(columns: list[Any], rows: list[tuple], title: str) -> bytes:
    """openpyxl's write-only mode writing the given rows with the same number
    formats and nothing else: the floor any exporter of these rows pays."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from reports.render.xlsx import FORMATS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title)
    styled = []
    for column in columns:
        number_format = FORMATS.get(column.kind)
        cell = None
        if number_format:
            cell = WriteOnlyCell(ws)
            cell.number_format = number_format
        styled.append(cell)
    ws.append([c.label for c in columns])
    for row in rows:
        out = []
        for cell, value in zip(styled, row, strict=True):
            if cell is None or value is None or value == "":
                out.append(value)
            else:
                cell.value = value
                out.append(cell)
        ws.append(out)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def ledger_xlsx_100k(bench: Bench) -> list[tuple[str, object]]:
    from reports.render.xlsx import render_xlsx

    started = time.perf_counter()
    fund = fund_with_payments(bench, bench.rows)
    _analyze()
    build_s = time.perf_counter() - started

    def ours() -> bytes:
        return render_xlsx(_ledger_document(bench, fund))

    document = _ledger_document(bench, fund)
    rows = list(document.table.rows())
    assert len(rows) == bench.rows

    def openpyxl_alone() -> bytes:
        return _openpyxl_alone(document.table.columns, rows, document.table.sheet)

    seconds, plain, content = timed_pair(ours, openpyxl_alone, max(2, bench.repeat // 2))
    rows.clear()  # only openpyxl_alone needed them

    gc.collect()
    tracemalloc.start()
    ours()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [
        (f"ledger_rows_build_{bench.rows // 1000}k_s", round(build_s, 1)),
        ("ledger_xlsx_100k_s", round(seconds, 2)),
        ("ledger_xlsx_100k_openpyxl_s", round(plain, 2)),
        ("ledger_xlsx_100k_ratio", round(seconds / plain, 2)),
        ("ledger_xlsx_100k_mb", round(len(content) / 2**20, 1)),
        ("ledger_xlsx_100k_peak_mb", round(peak / 2**20, 1)),
    ]


def import_100k(bench: Bench) -> list[tuple[str, object]]:
    """The household import (bench/outputs_import.py) into the county's units,
    as its caseworker: import_100k_rows_per_s, import_speedup_vs_plain."""
    from outputs_import import import_figures

    from accounts.models import Unit

    county = bench.data["county"]
    codes = list(Unit.objects.filter(path__startswith=county.path).values_list("code", flat=True))
    return import_figures(rows=bench.rows, actor=bench.data["caseworker"], unit_codes=codes)


LEDGER_4PAGE_ROWS = 56  # 4 landscape pages of the ledger (with Noto CJK)


def ledger_pdf_4page(bench: Bench) -> list[tuple[str, object]]:
    """The first PDF after a worker starts, timed in fresh processes (a
    subprocess each: nothing of this process's WeasyPrint or fonts)."""
    import json
    import subprocess

    fund = fund_with_payments(bench, LEDGER_4PAGE_ROWS)
    _analyze()
    figures: dict[str, Any] = {}
    for mode in ("cold", "worker"):
        out = subprocess.run(  # noqa: S603 - this very script, with our own arguments
            [sys.executable, __file__, "--first-pdf", mode, str(fund.pk)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        figures[mode] = json.loads(out.strip().splitlines()[-1])
    return [
        ("ledger_pdf_4page_pages", figures["cold"]["pages"]),
        ("ledger_pdf_4page_cold_s", figures["cold"]["first"]),
        ("pdf_warm_up_s", figures["worker"]["warm_up"]),
        ("ledger_pdf_4page_first_s", figures["worker"]["first"]),
        ("ledger_pdf_4page_warm_s", figures["worker"]["next"]),
    ]


def first_pdf_child(mode: str, fund_pk: int) -> None:
    """In the fresh process: "cold" makes the ledger straight away; "worker"
    starts as a web worker does (config.wsgi starts the warm-up), lets the
    warm-up finish, then serves the ledger. Prints the timings as JSON."""
    import json
    import threading

    import django

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    started = time.perf_counter()
    if mode == "worker":
        from config.wsgi import application  # noqa: F401 - starts the warm-up

        warming = [t for t in threading.enumerate() if t.name == "pdf-warm-up"]
        assert warming, "config.wsgi did not start the PDF warm-up"
        warming[0].join()
    else:
        django.setup()
    warm_up = time.perf_counter() - started
    from funds.models import Fund
    from reports.render.pdf import render_document_pdf

    bench = Bench(rows=0, repeat=1)
    bench.data["finance"] = Fund.objects.get(pk=fund_pk).created_by

    def make() -> bytes:
        return render_document_pdf(_ledger_document(bench, Fund.objects.get(pk=fund_pk)))

    first, pdf = timed(make, 1)
    again, _pdf = timed(make, 1)
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(
        json.dumps(
            {
                "pages": pages,
                "warm_up": round(warm_up, 2),
                "first": round(first, 2),
                "next": round(again, 2),
            }
        )
    )


def login(bench: Bench) -> list[tuple[str, object]]:
    """The login POST as a browser sends it, through the whole middleware
    stack (axes, sessions, the audit trail), with the password hasher the
    settings name first: login_hasher, login_p50_ms."""
    import statistics

    from django.contrib.auth.hashers import get_hasher
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User

    password = "Bangfu-bench-2026"
    User.objects.create_user(username="bench_login", password=password)
    url = reverse("accounts:login")
    client = Client()
    samples = []
    for _ in range(max(10, bench.repeat * 3)):
        client.logout()
        started = time.perf_counter()
        response = client.post(url, {"username": "bench_login", "password": password})
        samples.append(time.perf_counter() - started)
        assert response.status_code == 302, response.status_code
    return [
        ("login_hasher", get_hasher("default").algorithm),
        ("login_p50_ms", round(statistics.median(samples) * 1000)),
    ]


# The figures, in the order they run.
FIGURES: list[Figure] = [
    notice_1page,
    ledger_pdf_1000,
    ledger_pdf_4page,
    ledger_xlsx_100k,
    import_100k,
    login,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the big ledger")
    parser.add_argument("--repeat", type=int, default=4, help="runs per timing (best is kept)")
    parser.add_argument("--only", nargs="*", default=None, help="figure functions to run, by name")
    parser.add_argument("--first-pdf", nargs=2, help=argparse.SUPPRESS)  # the fresh process
    args = parser.parse_args()
    if args.first_pdf:
        first_pdf_child(args.first_pdf[0], int(args.first_pdf[1]))
        return

    with tempfile.TemporaryDirectory(prefix="hardship-bench-") as tmp:
        engine = configure(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        bench = Bench(rows=args.rows, repeat=args.repeat)
        build_people(bench)
        print(f"database: {engine}")
        samples: list[float] = []
        for figure in FIGURES:
            if args.only and figure.__name__ not in args.only:
                continue
            started = time.perf_counter()
            for name, value in figure(bench):
                print(f"{name}: {value}", flush=True)
            samples.append(time.perf_counter() - started)
        print(f"bench_total_s: {round(sum(samples), 1)}")
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
