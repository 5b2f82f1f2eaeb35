"""统计快照: the statistics of a big union, stored, with the time they were read.

Counting a city of a million households takes seconds; a page must not. So
a union whose subtree holds more households than
`settings.STATISTICS_LIVE_MAX_HOUSEHOLDS` reads its figures from a
`StatisticsSnapshot` (one per union, period and language), which a
background job builds from the rows with `reports.stats.statistics`, the
same calculation a small union gets live. The page says when the figures
were read (数据截至) and offers 重新计算; a snapshot older than
`settings.STATISTICS_SNAPSHOT_MAX_AGE_MINUTES` is still shown, marked as
old, while a rebuild runs (one at a time per scope, whoever asked). The PDF
and the workbook of a big union draw the same snapshot, so they agree with
the page and print the same 数据截至. `manage.py statistics_refresh` builds
the default period's snapshots at night.

The stored form keeps every figure exactly: a `Decimal` is written as its
string ("5700.50") and read back as a `Decimal` for the money and count
columns, so a restored `Statistics` equals the live one table by table,
cell by cell, total by total, and draws the same charts (they are drawn
from the tables).
"""

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.i18n import in_english
from accounts.models import Unit, User
from accounts.paging import capped_count
from accounts.scoping import units_for
from cases.models import Household

from .documents import one_snapshot
from .generators.base import INT, MONEY, Column, Row, Table
from .jobs import JobOutput, Progress, job_kind, job_start, jobs_mark_stale, request_key
from .models import Job, JobStatus, StatisticsSnapshot
from .stats import Scope, Section, Statistics, StatTable, statistics

log = logging.getLogger(__name__)

KIND = "statistics"
# Bumped when the shape of the stored tables changes: an older snapshot is
# then treated as missing and built again.
FORMAT = 1
VIEW = "household.view"


def live_max_households() -> int:
    return int(getattr(settings, "STATISTICS_LIVE_MAX_HOUSEHOLDS", 20000))


def max_age() -> datetime.timedelta:
    return datetime.timedelta(
        minutes=int(getattr(settings, "STATISTICS_SNAPSHOT_MAX_AGE_MINUTES", 60))
    )


def language() -> str:
    """The language the figures' labels are written in: a snapshot is kept
    per language."""
    return "en" if in_english() else str(settings.LANGUAGE_CODE)


def is_small(unit: Unit) -> bool:
    """Whether the union's subtree is small enough to count on every
    request. The count stops at the threshold: it reads at most that many
    index entries, whatever the size of the subtree."""
    limit = live_max_households()
    subtree = Household.objects.filter(unit__path__startswith=unit.path)
    return capped_count(subtree, limit) <= limit


# -- stored form --------------------------------------------------------------------


def _dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):  # pragma: no cover - no table holds a date
        raise TypeError("a statistics table holds no dates")
    return value


def _load(value: Any, kind: str) -> Any:
    if isinstance(value, str) and kind in (MONEY, INT):
        return Decimal(value)
    return value


def serialize(stats: Statistics) -> dict[str, Any]:
    """The tables as JSON: sections → tables → columns, rows, totals."""
    sections = []
    for section in stats.sections:
        tables = []
        for stat in section.tables:
            table = stat.table
            tables.append(
                {
                    "key": stat.key,
                    "title": stat.title,
                    "note": stat.note,
                    "sheet": table.sheet,
                    "total_label": table.total_label,
                    "columns": [[c.key, c.label, c.kind, c.width] for c in table.columns],
                    "rows": [[_dump(v) for v in row] for row in stat.data],
                    "totals": {key: _dump(v) for key, v in table.totals.items()},
                }
            )
        sections.append({"key": section.key, "title": section.title, "tables": tables})
    return {"format": FORMAT, "sections": sections}


def _stat_table(data: dict[str, Any]) -> StatTable:
    columns = [Column(key, label, kind, width) for key, label, kind, width in data["columns"]]
    kinds = {c.key: c.kind for c in columns}
    rows: list[Row] = [
        tuple(_load(v, c.kind) for c, v in zip(columns, row, strict=True)) for row in data["rows"]
    ]
    totals = {key: _load(v, kinds.get(key, MONEY)) for key, v in data["totals"].items()}
    table = Table(
        columns=columns,
        rows=lambda: iter(rows),
        count=len(rows),
        totals=totals,
        sheet=data["sheet"],
        total_label=data["total_label"],
    )
    return StatTable(
        key=data["key"], title=data["title"], table=table, data=rows, note=data["note"]
    )


def restore(snapshot: StatisticsSnapshot) -> Statistics | None:
    """The snapshot's `Statistics`, or None when it was stored in an older
    shape (it is then built again)."""
    data = snapshot.data
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    scope = Scope(snapshot.unit, snapshot.date_from, snapshot.date_to)
    sections = [
        Section(s["key"], s["title"], [_stat_table(t) for t in s["tables"]])
        for s in data["sections"]
    ]
    return Statistics(scope=scope, sections=sections, as_of=snapshot.built_at)


# -- building ----------------------------------------------------------------------


def _scope_filter(scope: Scope, lang: str) -> dict[str, Any]:
    return {
        "unit": scope.unit,
        "date_from": scope.date_from,
        "date_to": scope.date_to,
        "language": lang,
    }


def build_snapshot(
    scope: Scope,
    *,
    lang: str | None = None,
    user: User | None = None,
    job: Job | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StatisticsSnapshot:
    """Count the scope's figures from the rows and store them, replacing the
    scope's earlier snapshot. The figures are read in one snapshot of the
    database (REPEATABLE READ on PostgreSQL), and `built_at` is the moment
    that read began: everything recorded before it is in the figures."""
    lang = lang or language()
    started = time.monotonic()
    with translation.override(lang):
        with one_snapshot():
            built_at = timezone.now()
            stats = statistics(scope, progress)
        data = serialize(stats)
    values = {
        "built_at": built_at,
        "built_by": user,
        "job": job,
        "seconds": round(time.monotonic() - started, 3),
        "data": data,
    }
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                current = (
                    StatisticsSnapshot.objects.select_for_update(no_key=True)
                    .filter(**_scope_filter(scope, lang))
                    .first()
                )
                if current is None:
                    return StatisticsSnapshot.objects.create(**_scope_filter(scope, lang), **values)
                if current.built_at > built_at:
                    # Another build that read the rows later finished first.
                    return current
                for name, value in values.items():
                    setattr(current, name, value)
                current.save()
                return current
        except IntegrityError:
            # Two builds of a new scope at once: the other created it; the
            # second pass updates it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def latest_snapshot(scope: Scope, lang: str | None = None) -> StatisticsSnapshot | None:
    return (
        StatisticsSnapshot.objects.filter(**_scope_filter(scope, lang or language()))
        .select_related("unit")
        .first()
    )


def job_params(scope: Scope, lang: str) -> dict[str, Any]:
    return {
        "unit": scope.unit.pk,
        "date_from": scope.date_from.isoformat(),
        "date_to": scope.date_to.isoformat(),
        "language": lang,
    }


def _key(scope: Scope, lang: str) -> str:
    return request_key(KIND, job_params(scope, lang))


@job_kind(KIND)
def statistics_job(job: Job, progress: Progress) -> JobOutput:
    """The background rebuild of one snapshot. The person's access to the
    union is asked again when it runs: a role may have ended meanwhile."""
    params = job.params
    user = job.created_by
    unit = units_for(user, VIEW).filter(pk=params["unit"], is_active=True).first()
    if unit is None:
        raise PermissionDenied
    scope = Scope(
        unit,
        datetime.date.fromisoformat(params["date_from"]),
        datetime.date.fromisoformat(params["date_to"]),
    )
    snapshot = build_snapshot(scope, lang=params["language"], user=user, job=job, progress=progress)
    with translation.override(params["language"]):
        message = _("统计数据已更新，数据截至 %(t)s。") % {
            "t": date_format(timezone.localtime(snapshot.built_at), "Y-m-d H:i")
        }
    return JobOutput(message=message, result={"snapshot": snapshot.pk})


def _title(scope: Scope) -> str:
    return _("统计：%(u)s %(a)s 至 %(b)s") % {
        "u": scope.unit.name,
        "a": scope.date_from.isoformat(),
        "b": scope.date_to.isoformat(),
    }


def last_job(scope: Scope, lang: str | None = None) -> Job | None:
    """The latest rebuild of the scope, whoever started it (a running one
    whose worker died is marked failed first)."""
    key = _key(scope, lang or language())
    jobs = Job.objects.filter(key=key, kind=KIND)
    jobs_mark_stale(jobs.filter(status=JobStatus.RUNNING))
    return jobs.order_by("-created_at", "-id").first()


def _start(actor: User, scope: Scope, lang: str) -> Job:
    return job_start(actor=actor, kind=KIND, title=_title(scope), params=job_params(scope, lang))


def statistics_rebuild(*, actor: User, scope: Scope, lang: str | None = None) -> Job:
    """Start rebuilding the scope's snapshot in the background, unless a
    rebuild is already under way (started by anyone who may see the scope):
    then that one. The person's access to the union is checked by the
    caller (the statistics filter offers only their unions) and again by
    the job when it runs."""
    lang = lang or language()
    running = last_job(scope, lang)
    if running is not None and not running.finished:
        return running
    return _start(actor, scope, lang)


# -- what a request shows ---------------------------------------------------------------


@dataclass
class Current:
    """What the statistics page shows for a scope."""

    stats: Statistics | None
    live: bool  # counted for this request
    snapshot: StatisticsSnapshot | None = None
    job: Job | None = None  # the rebuild under way, or the last one that failed
    old: bool = False  # the snapshot is older than max_age()

    @property
    def as_of(self) -> datetime.datetime | None:
        return self.snapshot.built_at if self.snapshot is not None else None

    @property
    def building(self) -> bool:
        return self.job is not None and not self.job.finished


def current_statistics(scope: Scope, user: User, *, rebuild: bool = True) -> Current:
    """The figures for the scope: counted now for a small union; for a big
    one, its latest snapshot, with a rebuild started when there is none or
    it is old (`rebuild=False`: never start one, e.g. for a download). A
    rebuild that failed since the snapshot was built is not started again
    by itself within max_age(): the page shows why it failed and the
    button to try again."""
    if is_small(scope.unit):
        return Current(stats=statistics(scope), live=True)
    lang = language()
    snapshot = latest_snapshot(scope, lang)
    stats = restore(snapshot) if snapshot is not None else None
    if stats is None:
        snapshot = None
    now = timezone.now()
    old = snapshot is not None and snapshot.built_at < now - max_age()
    job = last_job(scope, lang)
    if job is not None and job.finished:
        failed_lately = (
            job.status == JobStatus.FAILED
            and job.finished_at is not None
            and job.finished_at > now - max_age()
            and (snapshot is None or job.created_at > snapshot.built_at)
        )
        if not failed_lately:
            job = None
    if job is None and rebuild and (snapshot is None or old):
        job = _start(user, scope, lang)
    return Current(stats=stats, live=False, snapshot=snapshot, job=job, old=old)
