"""统计: the figures DOMAIN.md says users expect, for one union and a period.

Every table is made by one selector function from a fixed number of GROUP BY
queries, whatever the number of households or unions: the database counts
and sums, Python only arranges the grouped rows. A union's figures include
every union below it: a row per direct child union, rolled up over the
child's subtree (one query for the subtree's paths, then a dictionary
lookup per grouped row), plus a row for the union's own households.

The page, the PDF and the workbook all draw the same `Statistics`, so their
numbers agree. Each table is a `generators.base.Table` (rows already in
memory: they are bounded by unions × tiers, causes or months, never by
households), so the documents' PDF table and workbook helpers draw it.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import Unit
from cases import clock
from cases.models import Cause, Helper, Household, StatusChange, Tier, Visit
from cases.models import HouseholdStatus as S
from cases.services.followup import visit_cutoff, visit_interval
from funds.models import FundSource
from programs.models import AidPayment

from .charts import Series, bar_chart
from .generators.base import INT, MONEY, TEXT, Column, Row, Table, money

ZERO = Decimal("0.00")
# A period may span at most this many months: the month tables stay readable.
MAX_MONTHS = 36


@dataclass(frozen=True)
class Scope:
    """What the figures are about: a union (with everything below it) and a
    period, both dates included."""

    unit: Unit
    date_from: datetime.date
    date_to: datetime.date


@dataclass
class Cell:
    text: str
    numeric: bool
    label: str
    key: str


@dataclass
class StatTable:
    """One table of the statistics: its heading, a note saying how it is
    counted, and the data in the documents' Table shape."""

    key: str
    title: str
    table: Table
    data: list[Row]
    note: str = ""

    @property
    def columns(self) -> list[Column]:
        return self.table.columns

    @property
    def page_rows(self) -> list[list[Cell]]:
        """The rows as the page shows them: text, alignment, the column's label."""
        return [self._cells(row) for row in self.data]

    @property
    def page_total(self) -> list[Cell]:
        totals = self.table.totals
        row: list[Any] = [self.table.total_label or _("合计")]
        row += [totals.get(c.key) for c in self.table.columns[1:]]
        return self._cells(tuple(row))

    def _cells(self, row: Row) -> list[Cell]:
        return [
            Cell(_shown(value, column), column.numeric, column.label, column.key)
            for column, value in zip(self.table.columns, row, strict=True)
        ]


def _shown(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == MONEY:
        return f"{value:,.2f}"
    if column.kind == INT:
        return f"{value:,}"
    return str(value)


def _table(
    key: str, title: str, columns: list[Column], data: list[Row], note: str = ""
) -> StatTable:
    """Totals are the sums of the grouped rows' numeric columns: the rows
    come from the database's GROUP BY, so this adds a few dozen numbers."""
    totals: dict[str, Any] = {}
    for index, column in enumerate(columns):
        if column.kind == INT:
            totals[column.key] = sum(int(row[index] or 0) for row in data)
        elif column.kind == MONEY:
            totals[column.key] = money(sum((row[index] or ZERO for row in data), ZERO))
    rows = list(data)

    def iterate() -> Iterator[Row]:
        return iter(rows)

    table = Table(columns=columns, rows=iterate, count=len(rows), totals=totals, sheet=title)
    return StatTable(key=key, title=title, table=table, data=rows, note=note)


# -- units and months -----------------------------------------------------------------


@dataclass
class Rollup:
    """Which row of a per-union table each union of the subtree adds to:
    its direct child of the chosen union (or the union itself)."""

    unit: Unit
    children: list[tuple[int, str]]  # (row id, name), in tree order
    row_of: dict[int, int] = field(default_factory=dict)  # unit id → row id

    @property
    def labels(self) -> list[tuple[int, str]]:
        return [*self.children, (self.unit.pk, _("%(u)s（本级）") % {"u": self.unit.name})]


def rollup(unit: Unit) -> Rollup:
    """One query: every union of the subtree with its path."""
    units = Unit.objects.filter(path__startswith=unit.path).values_list(
        "pk", "path", "name", "parent_id", "is_active"
    )
    result = Rollup(unit=unit, children=[])
    by_path: dict[str, int] = {}
    rows = sorted(units, key=lambda u: u[1])
    for pk, path, name, parent_id, active in rows:
        if parent_id == unit.pk:
            by_path[path] = pk
            result.children.append((pk, name if active else _("%(u)s（已停用）") % {"u": name}))
    depth = len(unit.path)
    for pk, path, *_rest in rows:
        if pk == unit.pk:
            result.row_of[pk] = pk
            continue
        # The child's path is the chosen union's path plus one segment.
        segment = path[depth:].split("/", 1)[0]
        result.row_of[pk] = by_path[unit.path + segment + "/"]
    return result


def months(scope: Scope) -> list[datetime.date]:
    """The first day of every month the period touches."""
    out = []
    day = scope.date_from.replace(day=1)
    while day <= scope.date_to:
        out.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return out


def month_label(day: datetime.date) -> str:
    return _("%(y)s年%(m)s月") % {"y": day.year, "m": day.month}


def _month(value: Any) -> datetime.date:
    # TruncMonth gives a date on PostgreSQL and, for a DateField, on SQLite
    # too; a datetime (from a DateTimeField) is cut to its date.
    if isinstance(value, datetime.datetime):
        return value.date()
    return value  # type: ignore[no-any-return]


def _in_unit(scope: Scope, prefix: str) -> Q:
    return Q(**{f"{prefix}unit__path__startswith": scope.unit.path})


def _period(field_name: str, scope: Scope) -> Q:
    return Q(**{f"{field_name}__gte": scope.date_from, f"{field_name}__lte": scope.date_to})


# -- 1. households by tier × cause × unit -----------------------------------------


@dataclass
class Categories:
    tiers: list[tuple[int | None, str]]
    causes: list[tuple[int | None, str]]


def _categories(seen_tiers: set[int | None], seen_causes: set[int | None]) -> Categories:
    """Active tiers and causes, plus retired ones still on a file (two queries)."""
    tiers: list[tuple[int | None, str]] = [
        (pk, name)
        for pk, name, active in Tier.objects.values_list("pk", "name", "is_active")
        if active or pk in seen_tiers
    ]
    causes: list[tuple[int | None, str]] = [
        (pk, name)
        for pk, name, active in Cause.objects.values_list("pk", "name", "is_active")
        if active or pk in seen_causes
    ]
    if None in seen_tiers:
        tiers.append((None, _("未定类别")))
    if None in seen_causes:
        causes.append((None, _("未填原因")))
    return Categories(tiers, causes)


def _tier_key(pk: int | None) -> str:
    return f"tier_{pk if pk is not None else 'none'}"


def household_tables(scope: Scope, roll: Rollup) -> tuple[StatTable, StatTable]:
    """Filed households in force (status 已建档), today: by union × tier and
    by main cause × tier. One grouped query feeds both tables."""
    grouped = list(
        Household.objects.filter(_in_unit(scope, ""), status=S.FILED)
        .values("unit_id", "tier_id", "main_cause_id")
        .annotate(n=Count("pk"), people=Sum("household_size"))
        .order_by()
    )
    cats = _categories({g["tier_id"] for g in grouped}, {g["main_cause_id"] for g in grouped})
    tier_cols = [Column(_tier_key(pk), name, INT, 8) for pk, name in cats.tiers]

    by_unit: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_cause: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g in grouped:
        row = by_unit[roll.row_of[g["unit_id"]]]
        row[_tier_key(g["tier_id"])] += g["n"]
        row["households"] += g["n"]
        row["people"] += g["people"] or 0
        cause = by_cause[g["main_cause_id"]]
        cause[_tier_key(g["tier_id"])] += g["n"]
        cause["households"] += g["n"]

    unit_cols = [
        Column("unit", _("工会"), TEXT, 22),
        *tier_cols,
        Column("households", _("户数合计"), INT, 9),
        Column("people", _("家庭人口"), INT, 9),
    ]
    unit_rows = [(name, *(by_unit[pk][c.key] for c in unit_cols[1:])) for pk, name in roll.labels]
    cause_cols = [
        Column("cause", _("主要致困原因"), TEXT, 16),
        *tier_cols,
        Column("households", _("户数合计"), INT, 9),
    ]
    cause_rows = [
        (name, *(by_cause[pk][c.key] for c in cause_cols[1:])) for pk, name in cats.causes
    ]
    in_force = _("在档户：统计时状态为“已建档”的家庭；上级工会的行含其下属各级工会。")
    return (
        _table("tiers", _("在档困难职工家庭（按工会和困难类别）"), unit_cols, unit_rows, in_force),
        _table("causes", _("在档困难职工家庭（按致困原因和困难类别）"), cause_cols, cause_rows),
    )


# -- 2. new files, exits, relapses per month -------------------------------------------


def movement_table(scope: Scope) -> StatTable:
    """Two grouped queries. New files: households whose file date (建档日期)
    falls in the month. Relapses (返贫): those of them whose history has an
    earlier exit, i.e. files re-opened after an exit (case_reopen leaves a
    StatusChange to 已退出) and filed again; a re-filed household keeps only
    its latest file date, so it counts as new in the month it was filed again.
    Exits: households whose exit date (退出日期) falls in the month."""
    exited_before = StatusChange.objects.filter(
        household=OuterRef("pk"), to_status=S.EXITED, at__date__lt=OuterRef("filed_on")
    )
    filed = (
        Household.objects.filter(_in_unit(scope, ""), _period("filed_on", scope))
        .annotate(month=TruncMonth("filed_on"), relapse=Exists(exited_before))
        .values("month")
        .annotate(new=Count("pk"), relapses=Count("pk", filter=Q(relapse=True)))
        .order_by()
    )
    exits = (
        Household.objects.filter(_in_unit(scope, ""), _period("exited_on", scope))
        .annotate(month=TruncMonth("exited_on"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    new = {_month(g["month"]): (g["new"], g["relapses"]) for g in filed}
    gone = {_month(g["month"]): g["n"] for g in exits}
    columns = [
        Column("month", _("月份"), TEXT, 12),
        Column("new", _("新建档"), INT, 9),
        Column("relapses", _("其中返贫再建档"), INT, 12),
        Column("exits", _("退出"), INT, 9),
        Column("net", _("净增"), INT, 9),
    ]
    rows = []
    for day in months(scope):
        n, r = new.get(day, (0, 0))
        e = gone.get(day, 0)
        rows.append((month_label(day), n, r, e, n - e))
    note = _(
        "新建档按建档日期、退出按退出日期统计；返贫再建档指曾经退出后重新建档的家庭，已计入新建档。"
    )
    return _table("movements", _("建档、退出与返贫（按月）"), columns, rows, note)


# -- 3. aid by program × fund source × month --------------------------------------------


def aid_tables(scope: Scope) -> tuple[StatTable, StatTable, StatTable]:
    """One grouped query over the live aid payments (a reversed payment and
    its reversing entry cancel out, so payments minus reversals is the live
    payments' ledger amounts), by program, fund source and month of payment,
    for households of the union's subtree. 人次: one per live payment."""
    grouped = list(
        AidPayment.objects.filter(
            _in_unit(scope, "application__household__"),
            _period("paid_on", scope),
            reversal__isnull=True,
        )
        .annotate(month=TruncMonth("paid_on"))
        .values("application__program_id", "application__program__name", "fund__source", "month")
        .annotate(n=Count("pk"), amount=Sum("entry__amount"))
        .order_by()
    )
    sources = dict(FundSource.choices)
    # Sources in the order the fund form lists them, not by their names.
    order = {code: index for index, code in enumerate(sources)}
    by_program: dict[tuple[str, int, int, str], list[Any]] = {}
    by_month: dict[datetime.date, list[Any]] = defaultdict(lambda: [0, ZERO])
    detail = []
    for g in grouped:
        code = g["fund__source"]
        source = str(sources.get(code, code))
        rank = order.get(code, len(order))
        key = (g["application__program__name"], g["application__program_id"], rank, source)
        line = by_program.setdefault(key, [0, ZERO])
        amount = money(g["amount"])
        line[0] += g["n"]
        line[1] += amount
        day = _month(g["month"])
        by_month[day][0] += g["n"]
        by_month[day][1] += amount
        detail.append((day, g["application__program__name"], rank, source, g["n"], amount))

    program_cols = [
        Column("program", _("帮扶项目"), TEXT, 22),
        Column("source", _("资金来源"), TEXT, 12),
        Column("times", _("人次"), INT, 8),
        Column("amount", _("金额（元）"), MONEY, 14),
    ]
    program_rows = [
        (name, source, times, money(amount))
        for (name, _pk, _rank, source), (times, amount) in sorted(by_program.items())
    ]
    month_cols = [
        Column("month", _("月份"), TEXT, 12),
        Column("times", _("人次"), INT, 8),
        Column("amount", _("金额（元）"), MONEY, 14),
    ]
    month_rows = [
        (month_label(day), by_month[day][0], money(by_month[day][1])) for day in months(scope)
    ]
    detail_cols = [
        Column("month", _("月份"), TEXT, 12),
        Column("program", _("帮扶项目"), TEXT, 22),
        Column("source", _("资金来源"), TEXT, 12),
        Column("times", _("人次"), INT, 8),
        Column("amount", _("金额（元）"), MONEY, 14),
    ]
    detail_rows = [
        (month_label(day), name, source, n, amount)
        for day, name, _rank, source, n, amount in sorted(detail, key=lambda d: d[:3])
    ]
    note = _("按发放日期统计已发放且未冲正的帮扶资金；冲正的发放不计入。人次为发放笔数。")
    return (
        _table(
            "aid_programs", _("帮扶资金发放（按项目和资金来源）"), program_cols, program_rows, note
        ),
        _table("aid_months", _("帮扶资金发放（按月）"), month_cols, month_rows),
        _table(
            "aid_detail", _("帮扶资金发放明细（按月、项目和资金来源）"), detail_cols, detail_rows
        ),
    )


# -- 4. visits done vs due ----------------------------------------------------------


def visit_table(scope: Scope, roll: Rollup) -> StatTable:
    """Two grouped queries. A filed household with an active helper
    (结对帮扶人) is due a visit in the period when its last visit before the
    period (or, never visited, the start of its current pairing) plus the
    visit interval (CaseRules) falls on or before the end of the period, or
    today if that is earlier: the rule of the overdue list, applied to the
    period. It counts as visited when any follow-up visit was logged for it
    in the period. 走访次数 counts every follow-up visit in the period."""
    interval = visit_interval()
    due_end = min(scope.date_to, clock.today())
    # base + interval <= due_end  ⇔  base < visit_cutoff(due_end + 1 day)
    cutoff = visit_cutoff(due_end + datetime.timedelta(days=1), interval)
    last_before = (
        Visit.objects.filter(household=OuterRef("pk"), visited_on__lt=scope.date_from)
        .order_by("-visited_on")
        .values("visited_on")[:1]
    )
    active = Helper.objects.filter(household=OuterRef("pk"), end_on__isnull=True)
    first_start = active.order_by("start_on").values("start_on")[:1]
    visited = Visit.objects.filter(
        _period("visited_on", scope), household=OuterRef("pk"), is_intake=False
    )
    due_q = Q(last_before__lt=cutoff) | Q(last_before__isnull=True, started__lt=cutoff)
    if due_end < scope.date_from:
        due_q = Q(pk__in=[])
    grouped = (
        Household.objects.filter(_in_unit(scope, ""), Exists(active), status=S.FILED)
        .annotate(
            last_before=Subquery(last_before),
            started=Subquery(first_start),
            visited=Exists(visited),
        )
        .values("unit_id")
        .annotate(
            paired=Count("pk"),
            due=Count("pk", filter=due_q),
            done=Count("pk", filter=due_q & Q(visited=True)),
        )
        .order_by()
    )
    visits = (
        Visit.objects.filter(
            _in_unit(scope, "household__"), _period("visited_on", scope), is_intake=False
        )
        .values("household__unit_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for g in grouped:
        line = rows[roll.row_of[g["unit_id"]]]
        line[0] += g["paired"]
        line[1] += g["due"]
        line[2] += g["done"]
    for g in visits:
        rows[roll.row_of[g["household__unit_id"]]][3] += g["n"]
    columns = [
        Column("unit", _("工会"), TEXT, 22),
        Column("paired", _("结对在档户"), INT, 10),
        Column("due", _("应走访户"), INT, 10),
        Column("done", _("已走访户"), INT, 10),
        Column("missed", _("未走访户"), INT, 10),
        Column("visits", _("走访次数"), INT, 10),
    ]
    data = []
    for pk, name in roll.labels:
        paired, due, done, count = rows[pk]
        data.append((name, paired, due, done, due - done, count))
    note = _(
        "应走访户：有结对帮扶人的在档户中，上次走访（从未走访的按结对开始日期）加走访周期"
        "（%(m)s个月）不晚于统计期末（或今天）的家庭；已走访户为其中统计期内有走访记录的家庭。"
    ) % {"m": interval}
    return _table("visits", _("走访完成情况"), columns, data, note)


# -- everything -----------------------------------------------------------------------


@dataclass
class Chart:
    title: str
    svg: SafeString


@dataclass
class Statistics:
    scope: Scope
    tables: list[StatTable]

    def get(self, key: str) -> StatTable:
        return next(t for t in self.tables if t.key == key)

    @property
    def charts(self) -> list[Chart]:
        """Drawn from the tables' own rows and totals, never recomputed."""
        tiers = self.get("tiers")
        tier_cols = [c for c in tiers.columns if c.key.startswith("tier_")]
        days = months(self.scope)
        one_year = len({d.year for d in days}) == 1
        labels = [f"{d.month}月" if one_year else f"{d.year % 100:02d}/{d.month}" for d in days]
        moves = self.get("movements").data
        aid = self.get("aid_months").data
        out = [
            (
                _("在档户数（按困难类别）"),
                [c.label for c in tier_cols],
                [Series(_("户数"), [tiers.table.totals[c.key] for c in tier_cols])],
                False,
            ),
            (
                _("每月新建档与退出户数"),
                labels,
                [
                    Series(_("新建档"), [r[1] for r in moves]),
                    Series(_("退出"), [r[3] for r in moves]),
                ],
                False,
            ),
            (
                _("每月帮扶资金发放金额（元）"),
                labels,
                [Series(_("金额"), [r[2] for r in aid])],
                True,
            ),
        ]
        return [
            Chart(title, bar_chart(title, labels_, series, money=is_money))
            for title, labels_, series, is_money in out
        ]


def statistics(scope: Scope) -> Statistics:
    """Every table for the scope: a fixed number of queries (one for the
    subtree, two for tiers and causes, one per grouped table, one for the
    visit interval)."""
    roll = rollup(scope.unit)
    tiers, causes = household_tables(scope, roll)
    programs, by_month, detail = aid_tables(scope)
    return Statistics(
        scope=scope,
        tables=[
            tiers,
            causes,
            movement_table(scope),
            programs,
            by_month,
            detail,
            visit_table(scope, roll),
        ],
    )


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or clock.today()
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
