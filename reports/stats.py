"""统计: the figures DOMAIN.md says users expect, for one union and a period.

Every table is made by one selector function from a fixed number of GROUP BY
queries, whatever the number of households or unions: the database counts
and sums, Python only arranges the grouped rows. A union's figures include
every union below it: a row per direct child union, rolled up over the
child's subtree (one query for the subtree's paths, then a dictionary
lookup per grouped row), plus a row for the union's own households.

Any period may be chosen, several years included: the money tables have a
column group per calendar year (and one for the whole period), every
figure is by value date (the day money was paid, lent, repaid or received),
and month tables are shown only while the period is short enough to read.
Different money is never added together: grants (cash), goods (valued),
loans (lent, repaid, outstanding) and mutual-aid claims are tables of their
own, each with its own subtotal; households are counted once per table by
the database, beside person-times.

The page, the PDF and the workbook all draw the same `Statistics`, so their
numbers agree. Each table is a `generators.base.Table` (rows already in
memory: they are bounded by unions × tiers, causes or months, never by
households), so the documents' PDF table and workbook helpers draw it.
The tables are grouped in `Section`s, the headings of the page and the PDF.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.db import reading_from_replica
from accounts.i18n import in_english, pick_name
from accounts.models import Unit
from accounts.money import ZERO, yuan
from cases import clock
from cases.models import Cause, FileCategory, Helper, Household, StatusChange, Tier, Visit
from cases.models import HouseholdStatus as S
from cases.services.followup import visit_cutoff, visit_interval
from funds.models import EntryKind, IncomeSource, LedgerEntry
from programs.models import AidPayment, Claim, ClaimStatus, Kind, Loan, Repayment

from .charts import Series, bar_chart
from .generators.base import INT, MONEY, TEXT, Column, Row, Table

# Month tables (one row a month) are shown for periods up to this many
# months; longer periods have only the per-year tables, which always show.
MONTH_TABLES_MAX = 36
# Each year of the period is a column group; past this the tables would be
# hundreds of columns wide, of no use on a page or a printed sheet.
MAX_YEARS = 20


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
    key: str,
    title: str,
    columns: list[Column],
    data: list[Row],
    note: str = "",
    *,
    distinct: dict[str, Any] | None = None,
    total_label: str = "",
) -> StatTable:
    """Totals are the sums of the grouped rows' numeric columns: the rows
    come from the database's GROUP BY, so this adds a few dozen numbers.
    `distinct` replaces the totals of columns that must not be added up
    (households: one household helped by two programs is one household),
    with figures the database counted without double counting."""
    totals: dict[str, Any] = {}
    for index, column in enumerate(columns):
        if column.kind == INT:
            totals[column.key] = sum(int(row[index] or 0) for row in data)
        elif column.kind == MONEY:
            totals[column.key] = yuan(sum((row[index] or ZERO for row in data), ZERO))
    totals.update(distinct or {})
    rows = list(data)

    def iterate() -> Iterator[Row]:
        return iter(rows)

    table = Table(
        columns=columns,
        rows=iterate,
        count=len(rows),
        totals=totals,
        sheet=title,
        total_label=total_label,
    )
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


@dataclass(frozen=True)
class Span:
    """A column group of the per-year tables: one calendar year of the
    period (cut to the period at either end), or the whole period."""

    key: str
    label: str
    start: datetime.date
    end: datetime.date
    year: int = 0  # the calendar year; 0 for the whole period

    def on(self, field_name: str) -> Q:
        """Rows whose value date falls in the span."""
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lte": self.end})


def years(scope: Scope) -> list[Span]:
    """One span per calendar year the period touches."""
    return [
        Span(
            f"y{year}",
            _("%(y)s年") % {"y": year},
            max(scope.date_from, datetime.date(year, 1, 1)),
            min(scope.date_to, datetime.date(year, 12, 31)),
            year,
        )
        for year in range(scope.date_from.year, scope.date_to.year + 1)
    ]


def spans(scope: Scope) -> list[Span]:
    """The year spans, and the whole period after them when it has more
    than one year (a single year's column is already the period's)."""
    out = years(scope)
    if len(out) > 1:
        out.append(Span("all", _("期间合计"), scope.date_from, scope.date_to))
    return out


def show_months(scope: Scope) -> bool:
    return len(months(scope)) <= MONTH_TABLES_MAX


def _span_columns(groups: list[Span], parts: list[tuple[str, str, str, int]]) -> list[Column]:
    """For each span, one column per (key, label, kind, width) part."""
    return [
        Column(f"{span.key}_{key}", f"{span.label}{label}", kind, width)
        for span in groups
        for key, label, kind, width in parts
    ]


# -- 1. households by tier × cause × unit -----------------------------------------


@dataclass
class Categories:
    tiers: list[tuple[int | None, str]]
    causes: list[tuple[int | None, str]]


def _categories(seen_tiers: set[int | None], seen_causes: set[int | None]) -> Categories:
    """Active tiers and causes, plus retired ones still on a file (two queries)."""
    tiers: list[tuple[int | None, str]] = [
        (pk, pick_name(name, name_en))
        for pk, name, name_en, active in Tier.objects.values_list(
            "pk", "name", "name_en", "is_active"
        )
        if active or pk in seen_tiers
    ]
    causes: list[tuple[int | None, str]] = [
        (pk, pick_name(name, name_en))
        for pk, name, name_en, active in Cause.objects.values_list(
            "pk", "name", "name_en", "is_active"
        )
        if active or pk in seen_causes
    ]
    if None in seen_tiers:
        tiers.append((None, _("未定类别")))
    if None in seen_causes:
        causes.append((None, _("未填原因")))
    return Categories(tiers, causes)


def axis_month(day: datetime.date) -> str:
    """A month on a chart's axis: 3月, or Mar in English."""
    return date_format(day, "M") if in_english() else f"{day.month}月"


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


def movement_tables(scope: Scope) -> tuple[StatTable, StatTable]:
    """Two grouped queries. New files: households whose file date (建档日期)
    falls in the month. Relapses (返贫): those of them whose history has an
    earlier exit, i.e. files re-opened after an exit (case_reopen leaves a
    StatusChange to 已退出) and filed again; a re-filed household keeps only
    its latest file date, so it counts as new in the month it was filed again.
    Exits: households whose exit date (退出日期) falls in the month. The
    year table adds the months up, so it needs no query of its own."""
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
    figures = [("new", _("新建档")), ("relapses", _("其中返贫再建档")), ("exits", _("退出"))]
    month_rows = []
    by_year: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for day in months(scope):
        n, r = new.get(day, (0, 0))
        e = gone.get(day, 0)
        month_rows.append((month_label(day), n, r, e, n - e))
        line = by_year[day.year]
        line[0] += n
        line[1] += r
        line[2] += e
    tail = [
        *(Column(key, label, INT, 10) for key, label in figures),
        Column("net", _("净增"), INT, 9),
    ]
    year_rows = []
    for span in years(scope):
        n, r, e = by_year[span.year]
        year_rows.append((span.label, n, r, e, n - e))
    note = _(
        "新建档按建档日期、退出按退出日期统计；返贫再建档指曾经退出后重新建档的家庭，已计入新建档。"
    )
    return (
        _table(
            "movements",
            _("建档、退出与返贫（按月）"),
            [Column("month", _("月份"), TEXT, 12), *tail],
            month_rows,
            note,
        ),
        _table(
            "movements_years",
            _("建档、退出与返贫（按年度）"),
            [Column("year", _("年度"), TEXT, 12), *tail],
            year_rows,
            note,
        ),
    )


# -- 3. households by file category × tier --------------------------------------------


def category_table(scope: Scope, tiers: StatTable) -> StatTable:
    """Filed households in force by file category (档案分类) and tier: one
    grouped query over the many-to-many (a household without a category
    gives one row with none), one for the categories. A household may carry
    several categories, so the rows are not added up: the last line is the
    households in force, each once, taken from the tier table."""
    grouped = list(
        Household.objects.filter(_in_unit(scope, ""), status=S.FILED)
        .values("categories__id", "tier_id")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    tier_cols = [c for c in tiers.columns if c.key.startswith("tier_")]
    by_category: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g in grouped:
        line = by_category[g["categories__id"]]
        line[_tier_key(g["tier_id"])] += g["n"]
        line["households"] += g["n"]
    seen = set(by_category)
    labels: list[tuple[int | None, str]] = [
        (pk, pick_name(name, name_en))
        for pk, name, name_en, active in FileCategory.objects.values_list(
            "pk", "name", "name_en", "is_active"
        )
        if active or pk in seen
    ]
    if None in seen:
        labels.append((None, _("未分类")))
    columns = [
        Column("category", _("档案分类"), TEXT, 16),
        *tier_cols,
        Column("households", _("户数"), INT, 9),
    ]
    rows = [(name, *(by_category[pk][c.key] for c in columns[1:])) for pk, name in labels]
    # Each household once: the tier table's totals count the same households.
    distinct = {c.key: tiers.table.totals[c.key] for c in columns[1:]}
    note = _(
        "一户可属多个档案分类，各分类户数相加可能多于在档户数；最后一行为在档户数（每户计一次）。"
    )
    return _table(
        "file_categories",
        _("在档困难职工家庭（按档案分类和困难类别）"),
        columns,
        rows,
        note,
        distinct=distinct,
        total_label=_("在档户数（不重复）"),
    )


# -- 4. money: grants, goods, loans, mutual-aid claims, receipts -----------------------
#
# Each kind of money has its own table with its own subtotal; no figure adds
# two kinds together (a loan comes back, a grant does not; goods are valued,
# not paid). Every period figure is by value date (paid_on, issued_on,
# occurred_on), never the moment a row was typed in. Each table is one
# grouped query with a conditional sum per year column, plus one aggregate
# for the households counted once across its rows.


def _households_part() -> tuple[str, str, str, int]:
    return ("households", _("户数"), INT, 7)


def _times_part() -> tuple[str, str, str, int]:
    return ("times", _("人次"), INT, 7)


def _goods_part() -> Case:
    # A goods program's handout is goods through and through, whatever an
    # older row's goods_value says; otherwise goods_value is the goods part.
    return Case(
        When(application__program__kind=Kind.GOODS, then=F("amount")),
        default=F("goods_value"),
    )


def _handouts(scope: Scope) -> Any:
    """Live aid payments of the period that are neither loans nor mutual-aid
    claims: reversed payments are left out altogether."""
    return (
        AidPayment.objects.filter(
            _in_unit(scope, "application__household__"),
            _period("paid_on", scope),
            reversal__isnull=True,
            loan__isnull=True,
            application__claim__isnull=True,
        )
        .exclude(application__program__kind=Kind.LOAN)
        .annotate(goods_part=_goods_part())
        .annotate(cash_part=F("amount") - F("goods_part"))
    )


def _handout_aggregates(groups: list[Span], part: str) -> dict[str, Any]:
    has = Q(**{f"{part}_part__gt": 0})
    out: dict[str, Any] = {}
    for span in groups:
        when = has & span.on("paid_on")
        out[f"{span.key}_households"] = Count(
            "application__household_id", distinct=True, filter=when
        )
        out[f"{span.key}_times"] = Count("pk", filter=when)
        out[f"{span.key}_amount"] = Sum(f"{part}_part", filter=when)
    return out


def handout_tables(scope: Scope) -> tuple[StatTable, StatTable]:
    """补助（现金） and 实物（折价）: a cash-and-goods handout gives its cash
    part to the first table and its goods value to the second, and counts a
    person-time in each. Four queries: the rows and the households counted
    once, for each table."""
    groups = spans(scope)
    out = []
    for part, key, title, amount_label, note in (
        (
            "cash",
            "grants",
            _("帮扶补助（现金）"),
            _("金额"),
            _(
                "按发放日期统计已发放且未冲正的现金补助（现金加实物的发放只计现金部分）；"
                "不含借款和互助金。户数为受助家庭数（每户计一次），人次为发放笔数。"
            ),
        ),
        (
            "goods",
            "goods",
            _("实物帮扶（折价）"),
            _("折价"),
            _(
                "按发放日期统计已发放且未冲正的实物（按折价计），现金加实物的发放只计实物部分；"
                "实物折价不与现金补助相加。"
            ),
        ),
    ):
        aggregates = _handout_aggregates(groups, part)
        rows_q = (
            _handouts(scope)
            .values(
                "application__program_id",
                "application__program__name",
                "application__program__name_en",
            )
            .annotate(**aggregates)
            .order_by()
        )
        households = {k: v for k, v in aggregates.items() if k.endswith("_households")}
        once = _handouts(scope).aggregate(**households)
        parts = [_households_part(), _times_part(), ("amount", amount_label, MONEY, 12)]
        columns = [Column("program", _("帮扶项目"), TEXT, 20), *_span_columns(groups, parts)]
        rows = []
        for g in sorted(
            rows_q, key=lambda g: (g["application__program__name"], g["application__program_id"])
        ):
            values = [g[c.key] for c in columns[1:]]
            if not any(values):
                continue  # a program whose handouts are all of the other part
            rows.append(
                (
                    pick_name(g["application__program__name"], g["application__program__name_en"]),
                    *(
                        yuan(v) if c.kind == MONEY else v
                        for c, v in zip(columns[1:], values, strict=True)
                    ),
                )
            )
        out.append(_table(key, title, columns, rows, note, distinct=once, total_label=_("小计")))
    return out[0], out[1]


def handout_month_table(scope: Scope) -> StatTable:
    """Cash and goods per month of payment (one grouped query), kept apart."""
    grouped = (
        _handouts(scope)
        .annotate(month=TruncMonth("paid_on"))
        .values("month")
        .annotate(
            cash_times=Count("pk", filter=Q(cash_part__gt=0)),
            cash=Sum("cash_part"),
            goods_times=Count("pk", filter=Q(goods_part__gt=0)),
            goods=Sum("goods_part"),
        )
        .order_by()
    )
    by_month = {_month(g["month"]): g for g in grouped}
    columns = [
        Column("month", _("月份"), TEXT, 12),
        Column("cash_times", _("现金补助人次"), INT, 10),
        Column("cash", _("现金补助金额"), MONEY, 14),
        Column("goods_times", _("实物人次"), INT, 10),
        Column("goods", _("实物折价"), MONEY, 14),
    ]
    rows = []
    for day in months(scope):
        g = by_month.get(day, {})
        rows.append(
            (
                month_label(day),
                g.get("cash_times", 0),
                yuan(g.get("cash")),
                g.get("goods_times", 0),
                yuan(g.get("goods")),
            )
        )
    note = _("现金补助与实物折价分列，不相加；不含借款和互助金。")
    return _table("aid_months", _("帮扶补助与实物（按月）"), columns, rows, note)


def loan_table(scope: Scope) -> StatTable:
    """借款: principal lent (by the day it was paid out), principal repaid
    (by the day it was repaid) and principal outstanding at the end of each
    year, per loan program. Three queries: loans, repayments, and the
    borrowing households counted once. A reversed loan payment or a
    reversed repayment is left out, as if it had never been made."""
    groups = spans(scope)
    loans = Loan.objects.filter(
        _in_unit(scope, "household__"),
        payment__reversal__isnull=True,
        issued_on__lte=scope.date_to,
    )
    repayments = Repayment.objects.filter(
        _in_unit(scope, "loan__household__"),
        loan__payment__reversal__isnull=True,
        entry__reversed_by__isnull=True,
        paid_on__lte=scope.date_to,
    )
    lent: dict[str, Any] = {}
    households: dict[str, Any] = {}
    back: dict[str, Any] = {}
    for span in groups:
        lent[f"{span.key}_households"] = households[f"{span.key}_households"] = Count(
            "household_id", distinct=True, filter=span.on("issued_on")
        )
        lent[f"{span.key}_times"] = Count("pk", filter=span.on("issued_on"))
        lent[f"{span.key}_lent"] = Sum("principal", filter=span.on("issued_on"))
        lent[f"{span.key}_lent_to_end"] = Sum("principal", filter=Q(issued_on__lte=span.end))
        back[f"{span.key}_repaid"] = Sum("amount", filter=span.on("paid_on"))
        back[f"{span.key}_repaid_to_end"] = Sum("amount", filter=Q(paid_on__lte=span.end))
    lent_rows = {
        (g["application__program__name"], g["application__program_id"]): g
        for g in loans.values(
            "application__program_id", "application__program__name", "application__program__name_en"
        )
        .annotate(**lent)
        .order_by()
    }
    back_rows = {
        g["loan__application__program_id"]: g
        for g in repayments.values("loan__application__program_id").annotate(**back).order_by()
    }
    once = loans.aggregate(**households)
    parts = [
        _households_part(),
        _times_part(),
        ("lent", _("放款"), MONEY, 12),
        ("repaid", _("收回"), MONEY, 12),
        ("outstanding", _("期末未还"), MONEY, 12),
    ]
    columns = [Column("program", _("借款项目"), TEXT, 20), *_span_columns(groups, parts)]
    rows = []
    for (name, pk), g in sorted(lent_rows.items()):
        r = back_rows.get(pk, {})
        values: list[Any] = [pick_name(name, g["application__program__name_en"])]
        for span in groups:
            k = span.key
            outstanding = yuan(g[f"{k}_lent_to_end"]) - yuan(r.get(f"{k}_repaid_to_end"))
            values += [
                g[f"{k}_households"],
                g[f"{k}_times"],
                yuan(g[f"{k}_lent"]),
                yuan(r.get(f"{k}_repaid")),
                outstanding,
            ]
        rows.append(tuple(values))
    note = _(
        "借款单独统计，不与补助相加：放款按放款日期、收回按还款日期统计，"
        "期末未还为该年末（或统计期末）尚未归还的本金；户数为借款家庭数，人次为放款笔数。"
    )
    return _table(
        "loans",
        _("借款（放款、收回与未还）"),
        columns,
        rows,
        note,
        distinct=once,
        total_label=_("小计"),
    )


def _claims(scope: Scope) -> Any:
    """Mutual-aid claims paid in the period, by the members' unions. A claim
    is paid from the cooperative's fund by its own ledger entry (paid while
    that entry stands, on `paid_on`); a claim from before that was paid
    through its aid application, so its live payment marks it paid, on that
    payment's paid_on. Either way the value date decides the period."""
    legacy_paid_on = AidPayment.objects.filter(
        application=OuterRef("application_id"), reversal__isnull=True
    ).values("paid_on")[:1]
    return (
        Claim.objects.filter(
            Q(member__unit__path__startswith=scope.unit.path),
            Q(status=ClaimStatus.PAID, entry__isnull=False, entry__reversed_by__isnull=True)
            | Q(entry__isnull=True, application__isnull=False),
        )
        .annotate(
            value_on=Case(
                When(entry__isnull=False, then=F("paid_on")),
                default=Subquery(legacy_paid_on),
            )
        )
        .filter(_period("value_on", scope))
    )


def claim_table(scope: Scope) -> StatTable:
    """互助金: paid claims by category. Two queries: the rows, and the
    members counted once."""
    groups = spans(scope)
    aggregates: dict[str, Any] = {}
    members: dict[str, Any] = {}
    for span in groups:
        when = span.on("value_on")
        aggregates[f"{span.key}_households"] = members[f"{span.key}_households"] = Count(
            "member_id", distinct=True, filter=when
        )
        aggregates[f"{span.key}_times"] = Count("pk", filter=when)
        aggregates[f"{span.key}_amount"] = Sum("amount", filter=when)
    grouped = sorted(
        _claims(scope)
        .values("category_id", "category__name", "category__name_en", "category__sort_order")
        .annotate(**aggregates)
        .order_by(),
        key=lambda g: (g["category__sort_order"], g["category_id"]),
    )
    once = _claims(scope).aggregate(**members)
    parts = [
        ("households", _("人数"), INT, 7),
        _times_part(),
        ("amount", _("金额"), MONEY, 12),
    ]
    columns = [Column("category", _("互助类别"), TEXT, 16), *_span_columns(groups, parts)]
    rows = [
        (
            pick_name(g["category__name"], g["category__name_en"]),
            *(yuan(g[c.key]) if c.kind == MONEY else g[c.key] for c in columns[1:]),
        )
        for g in grouped
    ]
    note = _(
        "互助合作社已发放的互助金，按发放日期统计，冲正的不计入；单独统计，不与补助、借款相加。"
        "人数为受助会员数（每人计一次），人次为发放笔数。"
    )
    return _table(
        "claims",
        _("互助金（按互助类别）"),
        columns,
        rows,
        note,
        distinct=once,
        total_label=_("小计"),
    )


def receipt_table(scope: Scope) -> StatTable:
    """收入（按资金来源）: receipts and donations into the funds of the union's
    subtree, by source and year of value date; a cooperative's premiums are
    receipts of the premium source like any other. A reversal of a receipt
    is subtracted from its source in the year of the reversal's own value
    date (amount × direction nets it out; the count goes down by one).
    Loan repayments are money coming back, shown with the loans, not here.
    Two queries: the grouped entries and the list of sources."""
    groups = spans(scope)
    receipt_kinds = [EntryKind.RECEIPT, EntryKind.DONATION]
    entries = (
        LedgerEntry.objects.filter(
            _in_unit(scope, "fund__"),
            _period("occurred_on", scope),
        )
        .filter(
            Q(kind__in=receipt_kinds, repayment__isnull=True)
            | Q(
                kind=EntryKind.REVERSAL,
                reverses__kind__in=receipt_kinds,
                reverses__repayment__isnull=True,
            )
        )
        .annotate(
            source_key=Coalesce("source_id", "reverses__source_id"),
            signed=F("amount") * F("direction"),
        )
    )
    aggregates: dict[str, Any] = {}
    for span in groups:
        aggregates[f"{span.key}_times"] = Sum("direction", filter=span.on("occurred_on"))
        aggregates[f"{span.key}_amount"] = Sum("signed", filter=span.on("occurred_on"))
    grouped = {
        g["source_key"]: g for g in entries.values("source_key").annotate(**aggregates).order_by()
    }
    labels: list[tuple[int | None, str]] = [
        (pk, pick_name(name, name_en))
        for pk, name, name_en, active in IncomeSource.objects.values_list(
            "pk", "name", "name_en", "is_active"
        )
        if active or pk in grouped
    ]
    if None in grouped:
        labels.append((None, _("未注明来源")))
    parts = [("times", _("笔数"), INT, 7), ("amount", _("金额"), MONEY, 12)]
    columns = [Column("source", _("资金来源"), TEXT, 16), *_span_columns(groups, parts)]
    rows = []
    for pk, name in labels:
        g = grouped.get(pk, {})
        rows.append(
            (
                name,
                *(
                    yuan(g.get(c.key)) if c.kind == MONEY else int(g.get(c.key) or 0)
                    for c in columns[1:]
                ),
            )
        )
    note = _(
        "各项资金收入（含捐款、互助会费）按到账日期统计；收入冲正按冲正日期从原资金来源中扣减"
        "（金额减去、笔数减一）。借款还款不计入，见借款表。"
    )
    return _table(
        "receipts", _("资金收入（按资金来源）"), columns, rows, note, total_label=_("收入合计")
    )


def fund_table(scope: Scope) -> StatTable:
    """资金收支: for the funds of the union's subtree, per year, the opening
    balance, what came in and went out by kind, reversals, and the closing
    balance, from the ledger by value date. One grouped query: each entry
    falls in one line (a payment is aid, a loan or a claim by what it paid),
    with a sum before and a sum within each year. The rows are signed (in
    positive, out negative), so the opening balance and the lines add up to
    the closing balance, the table's last line."""
    groups = spans(scope)
    receipt_kinds = [EntryKind.RECEIPT, EntryKind.DONATION]
    paid = Q(kind=EntryKind.PAYMENT)
    line = Case(
        When(Q(kind__in=receipt_kinds, repayment__isnull=False), then=Value("repaid")),
        When(kind__in=receipt_kinds, then=Value("receipts")),
        When(paid & Q(aid_payment__loan__isnull=False), then=Value("lent")),
        When(paid & Q(coop_claim__isnull=False), then=Value("claims")),
        When(paid & Q(aid_payment__application__claim__isnull=False), then=Value("claims")),
        When(paid, then=Value("aid")),
        default=F("kind"),
    )
    aggregates: dict[str, Any] = {}
    for span in groups:
        aggregates[f"{span.key}_before"] = Sum("signed", filter=Q(occurred_on__lt=span.start))
        aggregates[f"{span.key}_in"] = Sum("signed", filter=span.on("occurred_on"))
    grouped = {
        g["line"]: g
        for g in LedgerEntry.objects.filter(
            _in_unit(scope, "fund__"), occurred_on__lte=scope.date_to
        )
        .annotate(line=line, signed=F("amount") * F("direction"))
        .values("line")
        .annotate(**aggregates)
        .order_by()
    }
    lines = [
        ("receipts", _("资金收入")),
        ("repaid", _("借款还款")),
        ("aid", _("帮扶补助与实物支出")),
        ("lent", _("借款放款")),
        ("claims", _("互助金支出")),
        (EntryKind.TRANSFER_IN, _("调入")),
        (EntryKind.TRANSFER_OUT, _("调出")),
        (EntryKind.REVERSAL, _("冲正")),
    ]
    columns = [
        Column("line", _("项目"), TEXT, 18),
        *(Column(f"{span.key}_amount", span.label, MONEY, 14) for span in groups),
    ]
    opening = {
        span.key: yuan(sum((yuan(g[f"{span.key}_before"]) for g in grouped.values()), ZERO))
        for span in groups
    }
    rows: list[Row] = [(_("期初余额"), *(opening[span.key] for span in groups))]
    closing = dict(opening)
    for key, label in lines:
        g = grouped.get(key, {})
        values = [yuan(g.get(f"{span.key}_in")) for span in groups]
        for span, value in zip(groups, values, strict=True):
            closing[span.key] += value
        rows.append((label, *values))
    note = _(
        "本工会及下属工会各项资金按发生日期（到账、发放、还款日期）统计；收入为正、支出为负，"
        "期初余额加各行等于期末余额。冲正按冲正日期单列；下属工会之间的调入调出相互抵消。"
    )
    return _table(
        "funds",
        _("资金收支（按年度）"),
        columns,
        rows,
        note,
        distinct={f"{span.key}_amount": closing[span.key] for span in groups},
        total_label=_("期末余额"),
    )


# -- 5. visits done vs due ----------------------------------------------------------


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
class Section:
    """A heading over tables that belong together (帮扶资金, 资金收入)."""

    key: str
    title: str
    tables: list[StatTable]


@dataclass
class Statistics:
    scope: Scope
    sections: list[Section]
    # When the figures were read from the rows: None for figures computed
    # for this request, the snapshot's time (数据截至) for a stored one.
    as_of: datetime.datetime | None = None

    @property
    def tables(self) -> list[StatTable]:
        return [t for s in self.sections for t in s.tables]

    def get(self, key: str) -> StatTable:
        return next(t for t in self.tables if t.key == key)

    def has(self, key: str) -> bool:
        return any(t.key == key for t in self.tables)

    @property
    def charts(self) -> list[Chart]:
        """Drawn from the tables' own rows and totals, never recomputed: by
        month when the month tables are shown, else by year."""
        tiers = self.get("tiers")
        tier_cols = [c for c in tiers.columns if c.key.startswith("tier_")]
        out = [
            (
                _("在档户数（按困难类别）"),
                [c.label for c in tier_cols],
                [Series(_("户数"), [tiers.table.totals[c.key] for c in tier_cols])],
                False,
            )
        ]
        if self.has("movements"):
            days = months(self.scope)
            one_year = len({d.year for d in days}) == 1
            labels = [axis_month(d) if one_year else f"{d.year % 100:02d}/{d.month}" for d in days]
            moves = self.get("movements").data
            aid = self.get("aid_months").data
            out += [
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
                    _("每月现金补助与实物折价（元）"),
                    labels,
                    [
                        Series(_("现金补助"), [r[2] for r in aid]),
                        Series(_("实物折价"), [r[4] for r in aid]),
                    ],
                    True,
                ),
            ]
        else:
            moves = self.get("movements_years").data
            groups = years(self.scope)
            labels = [str(span.year) for span in groups]
            totals = {key: self.get(key).table.totals for key in ("grants", "goods", "loans")}
            out += [
                (
                    _("每年新建档与退出户数"),
                    labels,
                    [
                        Series(_("新建档"), [r[1] for r in moves]),
                        Series(_("退出"), [r[3] for r in moves]),
                    ],
                    False,
                ),
                (
                    _("每年现金补助、实物折价与借款放款（元）"),
                    labels,
                    [
                        Series(
                            _("现金补助"), [totals["grants"][f"{s.key}_amount"] for s in groups]
                        ),
                        Series(_("实物折价"), [totals["goods"][f"{s.key}_amount"] for s in groups]),
                        Series(_("借款放款"), [totals["loans"][f"{s.key}_lent"] for s in groups]),
                    ],
                    True,
                ),
            ]
        return [
            Chart(title, bar_chart(title, labels_, series, money=is_money))
            for title, labels_, series, is_money in out
        ]


def statistics(scope: Scope, progress: Callable[[int, int], None] | None = None) -> Statistics:
    """Every table for the scope, from a fixed number of queries whatever
    the number of households, payments or unions (one for the subtree, two
    for tiers and causes, one per grouped table and one per table's
    households counted once, one each for the file categories and income
    sources, one for the visit interval). Read from the replica when
    there is one: the figures may be a moment behind, never a write.
    `progress(done, total)` is told after each table (a background job's
    progress bar)."""
    with reading_from_replica():
        return _statistics(scope, progress or (lambda done, total: None))


# How many steps `_statistics` reports to its progress callback.
STEPS = 11


def _statistics(scope: Scope, progress: Callable[[int, int], None]) -> Statistics:
    step = iter(range(1, STEPS + 1))

    def advance() -> None:
        progress(next(step), STEPS)

    roll = rollup(scope.unit)
    tiers, causes = household_tables(scope, roll)
    advance()
    by_month, by_year = movement_tables(scope)
    advance()
    grants, goods = handout_tables(scope)
    advance()
    monthly = show_months(scope)
    files = [tiers, causes, category_table(scope, tiers)]
    advance()
    files += [by_month, by_year] if monthly else [by_year]
    aid = [grants, goods, loan_table(scope)]
    advance()
    aid.append(claim_table(scope))
    advance()
    if monthly:
        aid.append(handout_month_table(scope))
    advance()
    receipts = receipt_table(scope)
    advance()
    funds = fund_table(scope)
    advance()
    visits = visit_table(scope, roll)
    advance()
    sections = [
        Section("households", _("困难职工家庭"), files),
        Section("aid", _("帮扶资金（补助、实物、借款、互助金分别统计）"), aid),
        Section("receipts", _("资金收入与收支"), [receipts, funds]),
        Section("visits", _("走访"), [visits]),
    ]
    advance()
    return Statistics(scope=scope, sections=sections)


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or clock.today()
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
