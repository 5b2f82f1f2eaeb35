"""统计快照: a big union's statistics read from a snapshot built in the
background, shown with its time (数据截至), equal to the figures counted
from the rows, before and after the rows change.

The data set is the statistics tests' `world` (tests/reports/test_statistics.py):
two counties, a grassroots union, files, exits, a relapse, grants, goods,
loans, claims, receipts, reversals and visits. "Big" is the setting
STATISTICS_LIVE_MAX_HOUSEHOLDS, set to 0 here so the small test tree takes
the snapshot path."""

import datetime as dt
import io
from decimal import Decimal as D
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import Membership
from cases.models import Helper, Household, HouseholdStatus, Visit
from reports.models import Job, JobStatus, StatisticsSnapshot
from reports.stats import Scope, Statistics, statistics
from reports.stats_snapshot import build_snapshot, restore
from tests.builders import make_user, roster_person
from tests.reports import test_statistics as stats_tests
from tests.reports.test_statistics import TODAY, _cells, filed, pay

# The statistics tests' data set, as a fixture of this module too.
world = stats_tests.world

YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
PAGE = reverse("reports:statistics")
PROGRESS = reverse("reports:statistics_progress")
REBUILD = reverse("reports:statistics_rebuild")


def figures(stats: Statistics) -> list[Any]:
    """Every figure of the statistics, with its type (repr: 5700.50 is not
    5700.5 nor 5700), its table, column, row and total."""
    return [
        (
            section.key,
            section.title,
            [
                (
                    t.key,
                    t.title,
                    t.note,
                    t.table.sheet,
                    t.table.total_label,
                    t.columns,
                    [tuple(repr(v) for v in row) for row in t.data],
                    {key: repr(v) for key, v in t.table.totals.items()},
                    t.page_total,
                )
                for t in section.tables
            ],
        )
        for section in stats.sections
    ]


def stored(scope: Scope, lang: str = "zh-hans") -> Statistics:
    """The scope's snapshot as the page reads it: from the database."""
    snapshot = StatisticsSnapshot.objects.get(
        unit=scope.unit, date_from=scope.date_from, date_to=scope.date_to, language=lang
    )
    restored = restore(snapshot)
    assert restored is not None
    return restored


def live(scope: Scope, lang: str = "zh-hans") -> Statistics:
    with translation.override(lang):
        return statistics(scope)


def assert_same(scope: Scope, lang: str = "zh-hans") -> None:
    with translation.override(lang):
        restored, counted = stored(scope, lang), statistics(scope)
        assert figures(restored) == figures(counted)
        assert [c.svg for c in restored.charts] == [c.svg for c in counted.charts]


def _worker(monkeypatch: Any) -> None:
    """The real worker command, once through the queue (as tests/reports/test_jobs.py)."""
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def _query(unit: Any) -> str:
    return f"?unit={unit.pk}&date_from=2026-01-01&date_to=2026-12-31"


# -- (a) the snapshot against the rows ---------------------------------------------------


def test_a_snapshot_equals_the_figures_counted_from_the_rows_before_and_after_changes(
    units, alice, world
):
    h = world["h"]
    scopes = [
        Scope(units["a"], *YEAR),
        Scope(units["city"], *YEAR),
        Scope(units["a1"], *YEAR),
        # Two years: a column group per year and one for the period.
        Scope(units["a"], dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
        # A long period: year tables only.
        Scope(units["a"], dt.date(2019, 1, 1), dt.date(2026, 12, 31)),
    ]
    for scope in scopes:
        build_snapshot(scope, lang="zh-hans")
        assert_same(scope)
    county = scopes[0]
    build_snapshot(county, lang="en")
    assert_same(county, "en")
    # The money comes back as Decimals, to the cent, the counts as ints.
    grants = stored(county).get("grants").table.totals
    assert grants["y2026_amount"] == D("5700.50") and isinstance(grants["y2026_amount"], D)
    assert stored(county).get("tiers").table.totals["households"] == 6
    snapshot_before = figures(stored(county))

    # File a household, pay aid, log a visit, exit one: the rows move on.
    newcomer = filed(units["a1"], dt.date(2026, 6, 1), tier=world["t1"], main_cause=world["c1"])
    pay(newcomer, world["festival"], world["fund_a"], "321.09", dt.date(2026, 6, 2))
    Visit.objects.create(household=h["a1_1"], visitor=alice, visited_on=dt.date(2026, 6, 3))
    Household.objects.filter(pk=h["a_2"].pk).update(status=HouseholdStatus.EXITED, exited_on=TODAY)

    counted = live(county)
    assert figures(stored(county)) == snapshot_before  # the snapshot stays as it was read
    assert figures(stored(county)) != figures(counted)  # and now differs from the rows
    assert counted.get("tiers").table.totals["households"] == 6 + 1 - 1
    assert counted.get("movements").table.totals["exits"] == 3
    assert counted.get("grants").table.totals["y2026_amount"] == D("6021.59")
    assert counted.get("visits").table.totals["done"] == 2

    first = StatisticsSnapshot.objects.get(unit=units["a"], date_from=YEAR[0], language="zh-hans")
    for scope in scopes:
        rebuilt = build_snapshot(scope, lang="zh-hans")
        assert_same(scope)
    build_snapshot(county, lang="en")
    assert_same(county, "en")
    # Rebuilt in place: one snapshot per union, period and language.
    again = StatisticsSnapshot.objects.get(unit=units["a"], date_from=YEAR[0], language="zh-hans")
    assert again.pk == first.pk and again.built_at > first.built_at
    assert rebuilt.seconds >= 0
    assert StatisticsSnapshot.objects.count() == len(scopes) + 1


# -- (b) a big union's page ------------------------------------------------------------


@pytest.fixture
def big(settings):
    """Every union counts as big: the page reads snapshots."""
    settings.STATISTICS_LIVE_MAX_HOUSEHOLDS = 0
    settings.STATISTICS_SNAPSHOT_MAX_AGE_MINUTES = 60


def test_a_big_unions_page_starts_a_rebuild_shows_progress_then_the_figures(
    big, units, alice, carol, world, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=True):
        html = client.get(PAGE).content.decode()
    assert 'id="statistics-progress"' in html and "统计数据正在后台计算" in html
    assert 'id="stat-tiers"' not in html
    job = Job.objects.get(kind="statistics")
    assert (job.status, job.created_by, job.params["unit"]) == (
        JobStatus.QUEUED,
        alice,
        units["a"].pk,
    )
    # The page polls the progress; a second reader of the union joins the
    # same rebuild instead of starting another.
    fragment = client.get(PROGRESS + _query(units["a"]) + "&wait=1", HTTP_HX_REQUEST="true")
    assert "hx-trigger" in fragment.content.decode() and "HX-Refresh" not in fragment
    with django_capture_on_commit_callbacks(execute=True):
        assert "统计数据正在后台计算" in as_user(carol).get(PAGE).content.decode()
    assert Job.objects.filter(kind="statistics").count() == 1

    _worker(monkeypatch)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert "数据截至" in job.message
    client = as_user(alice)
    fragment = client.get(PROGRESS + _query(units["a"]) + "&wait=1", HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true"  # the waiting page reloads itself
    html = client.get(PAGE).content.decode()
    snapshot = StatisticsSnapshot.objects.get(unit=units["a"])
    shown = timezone.localtime(snapshot.built_at).strftime("%Y-%m-%d %H:%M")
    assert f"数据截至 {shown}" in html
    assert 'id="statistics-progress"' not in html and 'id="statistics-old"' not in html
    assert "重新计算" in html
    # The figures are the rows' figures.
    assert _cells(html, "tiers", "合计")["households"] == "6"
    assert _cells(html, "grants", "小计")["y2026_amount"] == "5,700.50"
    assert "在档户数（按困难类别）" in html  # the charts, from the stored tables
    assert Job.objects.filter(kind="statistics").count() == 1  # fresh: no rebuild

    # The documents draw the same snapshot and say when it was read.
    wb = load_workbook(io.BytesIO(client.get(reverse("reports:statistics_xlsx")).content))
    facts = wb["在档困难职工家庭（按工会和困难类别）"].cell(row=2, column=1).value
    assert f"数据截至：{shown}" in facts
    pdf = client.get(reverse("reports:statistics_pdf"))
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert "数据截至：" + shown.replace(" ", "") in text and "5,700.50" in text


def test_an_old_snapshot_is_shown_marked_and_rebuilt_and_rebuild_restarts_it(
    big, units, alice, world, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    scope = Scope(units["a"], *YEAR)
    snapshot = build_snapshot(scope, lang="zh-hans")
    StatisticsSnapshot.objects.filter(pk=snapshot.pk).update(
        built_at=snapshot.built_at - dt.timedelta(hours=3)
    )
    newcomer = filed(units["a1"], dt.date(2026, 6, 1), tier=world["t1"])
    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=True):
        html = client.get(PAGE).content.decode()
    # Still shown, marked as old, while the rebuild runs.
    assert 'id="statistics-old"' in html and "已超过 60 分钟" in html
    assert _cells(html, "tiers", "合计")["households"] == "6"  # as read three hours ago
    assert 'id="statistics-progress"' in html and "下面仍是上次的统计数据" in html
    assert Job.objects.filter(kind="statistics", status=JobStatus.QUEUED).count() == 1
    _worker(monkeypatch)
    html = client.get(PAGE).content.decode()
    assert 'id="statistics-old"' not in html
    assert _cells(html, "tiers", "合计")["households"] == "7"

    # 重新计算: a fresh snapshot is built again on request.
    newcomer.status = HouseholdStatus.EXITED
    newcomer.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            REBUILD, {"unit": units["a"].pk, "date_from": "2026-01-01", "date_to": "2026-12-31"}
        )
    assert response.status_code == 302 and response["Location"] == PAGE + _query(units["a"])
    assert Job.objects.filter(kind="statistics", status=JobStatus.QUEUED).count() == 1
    html = client.get(PAGE).content.decode()
    assert "正在重新计算统计数据" in html
    _worker(monkeypatch)
    html = client.get(PAGE).content.decode()
    assert _cells(html, "tiers", "合计")["households"] == "6"
    assert_same(scope)


def test_a_rebuild_that_fails_says_so_and_is_not_restarted_by_itself(
    big, units, alice, world, as_user, django_capture_on_commit_callbacks, monkeypatch
):
    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(PAGE)
    # Her role ends before the worker runs: the job asks for it again.
    Membership.objects.filter(user=alice).delete()
    _worker(monkeypatch)
    job = Job.objects.get(kind="statistics")
    assert job.status == JobStatus.FAILED and not StatisticsSnapshot.objects.exists()
    carol = make_user("carol2", units["a"], "chair")
    with django_capture_on_commit_callbacks(execute=True):
        html = as_user(carol).get(PAGE).content.decode()
    assert "重新计算统计数据失败" in html and "重新计算" in html
    assert Job.objects.filter(kind="statistics").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        as_user(carol).post(REBUILD, {"unit": units["a"].pk})
    assert Job.objects.filter(kind="statistics", status=JobStatus.QUEUED).count() == 1


# -- (c) a small union is counted live ----------------------------------------------


def test_a_small_unions_page_is_counted_live_as_before(units, alice, world, as_user):
    html = as_user(alice).get(PAGE).content.decode()
    assert _cells(html, "tiers", "合计")["households"] == "6"
    assert "数据截至" not in html and 'id="statistics-progress"' not in html
    assert not Job.objects.exists() and not StatisticsSnapshot.objects.exists()
    # Counted now: a new file shows at once.
    filed(units["a1"], dt.date(2026, 6, 1), tier=world["t1"])
    html = as_user(alice).get(PAGE).content.decode()
    assert _cells(html, "tiers", "合计")["households"] == "7"
    # 重新计算 of a small union has nothing to do but show the page.
    response = as_user(alice).post(REBUILD, {"unit": units["a"].pk})
    assert response.status_code == 302 and not Job.objects.exists()


# -- (d) scope and roles -----------------------------------------------------------------


def test_another_unions_snapshot_is_never_shown_nor_rebuilt(
    big, units, alice, bob, frank, world, as_user, django_capture_on_commit_callbacks
):
    build_snapshot(Scope(units["a"], *YEAR), lang="zh-hans")
    client = as_user(bob)
    other = _query(units["a"])
    for url in (PAGE + other, PROGRESS + other):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "请选择您所在的工会或其下属工会" in html
        assert "数据截至" not in html and 'id="stat-tiers"' not in html
        assert "金水区总工会" not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            REBUILD, {"unit": units["a"].pk, "date_from": "2026-01-01", "date_to": "2026-12-31"}
        )
    assert "请选择您所在的工会或其下属工会" in response.content.decode()
    assert not Job.objects.exists()
    # Bob's own county: its own rebuild, never county A's figures.
    with django_capture_on_commit_callbacks(execute=True):
        html = client.get(PAGE).content.decode()
    assert "金水区总工会" not in html and "数据截至" not in html
    assert Job.objects.get().params["unit"] == units["b"].pk
    # No file-reading role: refused, whatever the union.
    client = as_user(frank)
    assert client.get(PAGE + other).status_code == 403
    assert client.get(PROGRESS + other).status_code == 403
    assert client.post(REBUILD, {"unit": units["a"].pk}).status_code == 403
    assert Job.objects.count() == 1


# -- (e) the snapshot page's queries ------------------------------------------------


def _page_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PAGE)
    assert response.status_code == 200 and "数据截至" in response.content.decode()
    return len(ctx.captured_queries)


def test_the_snapshot_page_reads_a_fixed_number_of_queries(
    big, units, alice, world, as_user, django_assert_max_num_queries
):
    scope = Scope(units["a"], *YEAR)
    build_snapshot(scope, lang="zh-hans")
    client = as_user(alice)
    with django_assert_max_num_queries(12):
        few = _page_queries(client)
    cadre = make_user("cadre", units["a1"], "caseworker")
    for i in range(30):
        h = filed(units["a1"], dt.date(2026, 1 + i % 6, 1 + i % 27), tier=world["t1"])
        Helper.objects.create(
            household=h, user=cadre, role="union_cadre", is_first=True,
            start_on=dt.date(2026, 1, 2), person=roster_person(h.unit, cadre),
        )  # fmt: skip
        Visit.objects.create(household=h, visitor=cadre, visited_on=dt.date(2026, 3, 1 + i % 27))
        pay(h, world["school"], world["fund_a"], "100", TODAY)
    build_snapshot(scope, lang="zh-hans")
    assert _page_queries(client) == few


# -- (f) the nightly command --------------------------------------------------------------


def test_the_refresh_command_builds_the_big_unions_snapshots(big, units, world, settings):
    out = io.StringIO()
    call_command("statistics_refresh", stdout=out)
    # The root and the unions one level down, this year, in Chinese.
    built = set(StatisticsSnapshot.objects.values_list("unit__code", "language"))
    assert built == {("410100", "zh-hans"), ("410105", "zh-hans"), ("410103", "zh-hans")}
    assert "3 snapshot(s) built" in out.getvalue() and "[3/3]" in out.getvalue()
    assert_same(Scope(units["city"], *YEAR))
    assert_same(Scope(units["b"], *YEAR))

    call_command(
        "statistics_refresh", "--unit", "410105", "--depth", "1", "--language", "en", stdout=out
    )
    assert_same(Scope(units["a1"], *YEAR), "en")
    assert StatisticsSnapshot.objects.filter(language="en").count() == 2

    # Unions small enough to count on every request get none.
    settings.STATISTICS_LIVE_MAX_HOUSEHOLDS = 20000
    StatisticsSnapshot.objects.all().delete()
    out = io.StringIO()
    call_command("statistics_refresh", "--depth", "2", stdout=out)
    assert not StatisticsSnapshot.objects.exists()
    assert "0 snapshot(s) built, 4 union(s) small enough" in out.getvalue()
