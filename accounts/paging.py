"""Deep list pages at the cost of a shallow one.

A page at OFFSET n makes the database build every row before the page, with
all of its joins, only to throw them away: page 984 of a fund's ledger joined
49,000 entries to their households, payments and reversals (0.5 s on
PostgreSQL). A `paged()` queryset slices in two steps instead: first the
page's primary keys, by the filter and the order alone (only the joins those
need), then the rows of those keys with every join and prefetch the list
shows. Page 1 stays a single query; every deeper page costs one more, the
same for page 2 as for page 984.
"""

import base64
import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import BooleanField, Expression, F, Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .refcache import remembered

M = TypeVar("M", bound=Model)


class PagedQuerySet(QuerySet[M]):
    def __getitem__(self, k: Any) -> Any:  # type: ignore[override]
        if not (
            isinstance(k, slice)
            and k.start  # the first page: one query is already the cheapest
            and k.step is None
            and self._result_cache is None
            and (
                self._iterable_class is ModelIterable
                or (self._iterable_class is ValuesIterable and "id" in self.query.values_select)
            )
            and not self.query.is_sliced
            and not self.query.distinct
            and not self.query.combinator
        ):
            return super().__getitem__(k)
        keys = list(self.values_list("pk", flat=True)[k])
        if not keys:
            return []
        found = self.order_by().filter(pk__in=keys)
        rows: dict[Any, Any]
        if self._iterable_class is ValuesIterable:
            rows = {row["id"]: row for row in found.values(*self.query.values_select)}
        else:
            rows = {row.pk: row for row in found}
        return [rows[key] for key in keys]


def paged(queryset: QuerySet[M]) -> QuerySet[M]:
    """The same queryset, sliced in two steps past the first page."""
    clone = queryset._chain()  # type: ignore[attr-defined]
    clone.__class__ = PagedQuerySet
    return clone  # type: ignore[no-any-return]


# -- Big lists: counts with a cap, keyset links ---------------------------------------
#
# A list of a million households cannot count its rows on every request (a
# full COUNT(*) reads every row the filter lets through), nor reach a deep
# page by OFFSET (the database builds every row before the page). `paginate`
# counts at most LIST_COUNT_CAP matching rows, through a LIMITed subquery, and
# above that shows the planner's estimate ("约 1,000,000 户"); its 上一页 and
# 下一页 links carry the sort key of the page's first or last row (?before= /
# ?after=), so the next page is "the rows after this key", read off an index in
# order at the cost of page 1 however deep it is. A ?page=N link (bookmarks,
# the first pages) still works, through `paged`'s two-step OFFSET.

COUNT_CAP = 10_000
CURSOR_PARAMS = ("page", "after", "before", "pn")


class RowCompare(Expression):
    """`(k1, k2, …) > (v1, v2, …)` (or `<`): the rows after a key in an
    ordering whose terms all run the same way. PostgreSQL reads it as one
    range of an index on the same columns; SQLite (3.15+) knows row values."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, keys: Sequence[Any], values: Sequence[Any], op: str) -> None:
        super().__init__()
        self.keys = list(keys)
        self.values = list(values)
        self.op = op

    def get_source_expressions(self) -> list[Any]:
        return self.keys

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.keys = list(exprs)

    def resolve_expression(self, *args: Any, **kwargs: Any) -> "RowCompare":
        clone = self.copy()
        clone.keys = [k.resolve_expression(*args, **kwargs) for k in self.keys]
        return clone

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs: list[str] = []
        rhs: list[str] = []
        params: list[Any] = []
        for key in self.keys:
            sql, p = compiler.compile(key)
            lhs.append(sql)
            params += p
        for key, value in zip(self.keys, self.values, strict=True):
            field = key.output_field
            value = field.to_python(value)
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                raise ValueError("a key beyond any row")  # a forged cursor
            rhs.append("%s")
            params.append(field.get_db_prep_value(value, connection))
        if len(lhs) == 1:
            return f"{lhs[0]} {self.op} {rhs[0]}", params
        return f"({', '.join(lhs)}) {self.op} ({', '.join(rhs)})", params


def _keys(queryset: QuerySet[Any]) -> tuple[list[str], bool] | None:
    """The queryset's ordering as field names and whether it runs downwards,
    when keyset paging can follow it: plain names, all one way, the last one
    the primary key (so every key is unique)."""
    order = [o for o in queryset.query.order_by if isinstance(o, str)]
    if not order or len(order) != len(queryset.query.order_by):
        return None
    descending = {o.startswith("-") for o in order}
    if len(descending) != 1:
        return None
    names = [o.lstrip("-") for o in order]
    if names[-1] not in ("pk", "id"):
        return None
    return names, descending.pop()


def _value(row: Any, name: str) -> Any:
    if isinstance(row, dict):  # a .values() row
        return row["id" if name == "pk" else name]
    for part in name.split("__"):
        row = getattr(row, part)
    return row


def _encode(values: list[Any]) -> str:
    if len(values) == 1:
        return str(values[0])
    text = json.dumps([v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str, size: int) -> list[Any] | None:
    if size == 1:
        return [token] if token else None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != size:
        return None
    return [str(v) for v in values]


def _positive(text: str | None) -> int:
    try:
        return min(max(1, int(text or 1)), 10**9)
    except ValueError:
        return 1


def capped_count(queryset: QuerySet[Any], cap: int) -> int:
    """How many rows match, counting no further than cap + 1: COUNT(*) over
    a LIMITed subquery of primary keys."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def estimated_count(queryset: QuerySet[Any]) -> int | None:
    """The PostgreSQL planner's row estimate for the filtered queryset (the
    unfiltered table's from pg_class.reltuples, kept by ANALYZE and
    autovacuum); None on other engines."""
    conn = connections[queryset.db]
    if conn.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with conn.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# An unfiltered table estimated above this many times the cap is not counted.
WHOLE_TABLE_TRUST = 10


def _whole_table(queryset: QuerySet[Any]) -> bool:
    """Is this every row of its table, unfiltered and ungrouped?"""
    query = queryset.query
    return not (
        query.where
        or query.distinct
        or query.combinator
        or query.group_by
        or query.is_sliced
        or query.extra
    )


def count_cap() -> int:
    """How many matching rows a list counts before it estimates instead."""
    return int(getattr(settings, "LIST_COUNT_CAP", COUNT_CAP))


def rounded_estimate(n: int) -> int:
    """An estimate to two significant figures: 1,003,417 → 1,000,000."""
    digits = len(str(n))
    if digits <= 2:
        return n
    step = 10 ** (digits - 2)
    return round(n / step) * step


def _labels(noun: str, n: int) -> tuple[str, str, str]:
    """Exact, estimated and above-the-cap-without-an-estimate labels."""
    if noun == "户":
        return (_("共 %(n)s 户"), _("约 %(n)s 户"), _("%(n)s+ 户"))
    exact = ngettext("共 %(count)s 条", "共 %(count)s 条", n).replace("%(count)s", "%(n)s")
    return (exact, _("约 %(n)s 条"), _("%(n)s+ 条"))


@dataclass
class ListPage:
    """One page of a big list and its links (query strings, without "?")."""

    object_list: list[Any]
    number: int | None
    has_next: bool
    has_previous: bool
    next_query: str
    previous_query: str
    first_query: str
    count: int | None  # exact, up to the cap
    estimate: int | None  # above the cap: about this many
    count_label: str

    @property
    def total(self) -> int | None:
        """The exact count, else the estimate (above the cap)."""
        return self.count if self.count is not None else self.estimate

    @property
    def paginator(self) -> "ListPage":
        # Django's Page says `page.paginator.count`; so may callers of this one.
        return self

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def list_query(request: HttpRequest) -> str:
    """The list's filters as a query string, without its place in the list."""
    query = request.GET.copy()
    for param in CURSOR_PARAMS:
        query.pop(param, None)
    return query.urlencode()


def _query(base: QueryDict, **extra: Any) -> str:
    query = base.copy()
    for key, value in extra.items():
        query[key] = str(value)
    return query.urlencode()


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    size: int,
    *,
    noun: str = "条",  # 户 for households, else 条
    count: bool = True,
    values: Sequence[str] = (),
) -> ListPage:
    """The page the request asks for: ?after=/?before= a row's sort key
    (keyset), ?page=N (two-step OFFSET), else the first page. One query for
    the rows, one capped count (when `count`), one EXPLAIN above the cap;
    a whole table estimated far above the cap: the EXPLAIN alone.

    `values` (names for QuerySet.values, "id" among them) reads the page's
    rows as plain dicts, joined tables included; the count and the estimate
    still read the queryset as given, without those joins."""
    cap = count_cap()

    def rows_of(qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.values(*values) if values else qs

    base = request.GET.copy()
    for param in CURSOR_PARAMS:
        base.pop(param, None)
    keys = _keys(queryset)
    after = request.GET.get("after")
    before = request.GET.get("before")
    number: int | None
    rows: list[Any]
    counted: int | None = None
    if keys is not None and (after or before):
        names, descending = keys
        token = after or before or ""
        cursor = _decode(token, len(names))
        forward = bool(after)
        if cursor is None:
            return paginate(
                _without_cursor(request), queryset, size, noun=noun, count=count, values=values
            )
        op = ("<" if descending else ">") if forward else (">" if descending else "<")
        qs = queryset.filter(RowCompare([F(n) for n in names], cursor, op))
        if not forward:
            qs = qs.reverse()
        try:
            fetched = list(rows_of(qs)[: size + 1])
        except (ValidationError, ValueError, TypeError, OverflowError):
            return paginate(
                _without_cursor(request), queryset, size, noun=noun, count=count, values=values
            )
        more = len(fetched) > size
        rows = fetched[:size]
        if forward:
            has_next, has_previous = more, True
        else:
            rows.reverse()
            has_next, has_previous = True, more
        # The page's number is only shown; a link carries it along.
        number = _positive(request.GET.get("pn")) if has_previous else 1
    else:
        number = _positive(request.GET.get("page"))
        if number > 1 and count:
            # Counted first, so a page past the end shows the last page, as
            # Django's paginator does; above the cap it is shown empty, with
            # its 首页 link.
            counted = capped_count(queryset, cap)
            if counted <= cap:
                number = min(number, max(1, -(-counted // size)))
        start = (number - 1) * size
        fetched = list(paged(rows_of(queryset))[start : start + size + 1])
        has_next = len(fetched) > size
        rows = fetched[:size]
        has_previous = number > 1
    next_query = previous_query = ""
    if keys is not None and rows:
        names = keys[0]
        if has_next:
            last = _encode([_value(rows[-1], n) for n in names])
            next_query = _query(base, after=last, pn=(number or 1) + 1)
        if has_previous:
            first = _encode([_value(rows[0], n) for n in names])
            previous_query = _query(base, before=first, pn=max(1, (number or 2) - 1))
    elif rows:
        if has_next:
            next_query = _query(base, page=(number or 1) + 1)
        if has_previous:
            previous_query = _query(base, page=max(1, (number or 2) - 1))
    elif has_previous:
        previous_query = base.urlencode()
    exact: int | None = None
    estimate: int | None = None
    label = ""
    if count:
        # Counted even when the whole list fits on the page: a page costs the
        # same queries for three rows as for three million.
        whole = None
        if counted is None and _whole_table(queryset):
            # A whole table (a city's list unfiltered): the planner's figure
            # comes from the table's own statistics, and far above the cap it
            # is shown without counting the cap's rows first.
            # An estimate by nature: kept for the minute, like the lists'
            # unions (accounts.refcache), and one query fewer per page.
            table = queryset.model._meta.db_table
            whole = remembered(
                ("whole-table-estimate", queryset.db, table), lambda: estimated_count(queryset)
            )
        if whole is not None and whole > WHOLE_TABLE_TRUST * cap:
            exact = cap + 1
        else:
            exact = counted if counted is not None else capped_count(queryset, cap)
        exact_label, about_label, over_label = _labels(noun, exact)
        if exact <= cap:
            label = exact_label % {"n": f"{exact:,}"}
        else:
            exact = None
            estimate = whole if whole is not None else estimated_count(queryset)
            if estimate is None:
                label = over_label % {"n": f"{cap:,}"}
            else:
                estimate = rounded_estimate(max(estimate, cap + 1))
                label = about_label % {"n": f"{estimate:,}"}
    return ListPage(
        object_list=rows,
        number=number,
        has_next=has_next,
        has_previous=has_previous,
        next_query=next_query,
        previous_query=previous_query,
        first_query=base.urlencode(),
        count=exact,
        estimate=estimate,
        count_label=label,
    )


def _without_cursor(request: HttpRequest) -> HttpRequest:
    """The same request with its cursor dropped (a stale or forged one): page 1."""
    clone = copy.copy(request)
    query = request.GET.copy()
    for param in CURSOR_PARAMS:
        query.pop(param, None)
    clone.GET = query  # type: ignore[assignment]
    return clone


def deep_link(queryset: QuerySet[Any], number: int, size: int) -> str:
    """The query string that the 下一页 link of page `number - 1` carries:
    the way a user reaches page `number` (bench/scale.py times it). Finding
    the row before the page reads OFFSET rows once."""
    keys = _keys(queryset)
    if keys is None or number <= 1:
        return f"page={number}"
    names = keys[0]
    last = paged(queryset)[(number - 1) * size - 1 : (number - 1) * size]
    if not last:
        return f"page={number}"
    query = QueryDict(mutable=True)
    query["after"] = _encode([_value(last[0], n) for n in names])
    query["pn"] = str(number)
    return query.urlencode()
