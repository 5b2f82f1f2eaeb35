"""Fast multi-row inserts for the imports that bring a union's books in.

`bulk_insert` does what `QuerySet.bulk_create` does, minus its per-value
machinery, which at 100,000 households is most of an import's write time
(bench/outputs_import.py). The register migration and the aid-history
import both write through it. `AnyOf` is the lookup those imports find
what is already on file with, thousands of values at a time.
"""

import contextlib
import gc
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connections, router, transaction
from django.db.models.lookups import In
from django.utils import timezone

from .chain import Chained, chain_link

# Values a driver cannot take as Python gives them: SQLite needs Django's text
# forms for money and dates; no driver takes a JSON value or a FieldFile.
_PREPARED = frozenset(
    {"DecimalField", "DateField", "DateTimeField", "JSONField", "UUIDField", "FileField"}
)
_PREPARED_POSTGRES = frozenset({"JSONField", "FileField"})


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import makes its hundreds of
    thousands of rows and instances: every full collection walks all of them
    again, which the register migration's check measurably slows under
    (bench/outputs_import.py). Reference counting frees what it always
    frees; the rare cycle waits until the end. Also a decorator."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class AnyOf(In):
    """`IN`, which PostgreSQL is sent as `= ANY(%s)` with the values in one
    array parameter: for a list of thousands, composing the placeholders and
    splitting the query text again in the driver take longer than the query
    (bench/outputs_import.py). Other databases get a plain `IN`. An
    expression: `.filter(AnyOf(F("id_number"), numbers))`."""

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        if not self.rhs_is_direct_value():  # a subquery or expressions
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # NULL is never equal to anything, as `IN` has it.
        present: Any = [v for v in self.rhs if v is not None]
        _sql, values = self.get_db_prep_lookup(present, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(values)]


def values_per_lookup(model: Any) -> int:
    """How many values to look up in one `AnyOf` query on `model`'s
    database: many on PostgreSQL, where they are one parameter; elsewhere
    each is a placeholder, and SQLite caps those a statement may have."""
    connection = connections[router.db_for_read(model)]
    return 50_000 if connection.vendor == "postgresql" else 2000


def _prepared_getter(f: Any, connection: Any) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        return f.get_db_prep_save(getattr(obj, f.attname), connection)

    return get


def bulk_insert(objs: list[Any], *, returning: bool = False) -> None:
    """Insert model instances in multi-row INSERTs (COPY on PostgreSQL),
    setting their pks when `returning`.

    What `QuerySet.bulk_create` does, minus its per-value machinery: it
    prepares every one of a household's sixty values through the field and
    the backend, which at 100,000 households is most of the write. Here only
    the fields whose Python value the driver cannot take as it is (money,
    dates, JSON) go through `get_db_prep_save`; the rest are passed straight
    through. No signals are sent, as with bulk_create. Rows of a hash-chained
    table are linked first (accounts/chain.py), which gives them their ids.
    """
    if not objs:
        return
    model = type(objs[0])
    if issubclass(model, Chained):
        using = router.db_for_write(model)
        with transaction.atomic(using=using, savepoint=False):
            chain_link(objs, using=using)
            _bulk_insert(objs, returning=False, with_pk=True)
            for obj in objs:
                _saved(obj, obj.pk, connections[using])
        return
    _bulk_insert(objs, returning=returning, with_pk=False)


def _bulk_insert(objs: list[Any], *, returning: bool, with_pk: bool) -> None:
    model = type(objs[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    # psycopg adapts Decimal, date and aware datetime values itself; SQLite's
    # driver needs Django's text forms for them.
    prepared = _PREPARED_POSTGRES if connection.vendor == "postgresql" else _PREPARED
    getters: list[Callable[[Any], Any]] = []
    for f in fields:
        if f.get_internal_type() in prepared:
            getters.append(_prepared_getter(f, connection))
        else:
            getters.append(operator.attrgetter(f.attname))
    row_of: Callable[[Any], Sequence[Any]]
    if len(fields) > 1 and all(type(get) is operator.attrgetter for get in getters):
        # Nothing to prepare: one call gives the whole row.
        row_of = operator.attrgetter(*(f.attname for f in fields))
    else:

        def row_of(obj: Any) -> list[Any]:
            return [get(obj) for get in getters]

    if connection.vendor == "postgresql":
        _copy(connection, objs, fields, row_of, returning=returning)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Under SQLite's limit on parameters per statement.
    batch = max(1, min(1000, 30000 // len(fields)))
    tail = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params = [value for obj in chunk for value in row_of(obj)]
            # Only the model's own quoted names go into the text; every value
            # is a parameter.
            values = ", ".join([row] * len(chunk))
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}{tail}"  # noqa: S608
            cursor.execute(sql, params)
            if returning:
                for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                    _saved(obj, pk, connection)


def _saved(obj: Any, pk: int, connection: Any) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def _copy(
    connection: Any,
    objs: list[Any],
    fields: list[Any],
    row_of: Callable[[Any], Sequence[Any]],
    *,
    returning: bool,
) -> None:
    """PostgreSQL: COPY the rows in. A multi-row INSERT with tens of thousands
    of placeholders spends most of its time in the driver splitting the query
    text (bench/outputs_import.py); COPY sends rows with no query to parse.
    COPY returns nothing, so when the ids are wanted they are drawn from the
    table's own sequence first and sent with the rows."""
    meta = objs[0]._meta
    quote = connection.ops.quote_name
    columns = [f.column for f in fields]
    if returning:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                _saved(obj, pk, connection)
        columns = [meta.pk.column, *columns]
    # Only the model's own quoted names go into the text; the rows are data.
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        if returning:
            for obj in objs:
                copy.write_row((obj.pk, *row_of(obj)))
        else:
            for obj in objs:
                copy.write_row(row_of(obj))
