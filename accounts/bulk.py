"""Fast multi-row inserts for the imports that bring a union's books in.

`bulk_insert` does what `QuerySet.bulk_create` does, minus its per-value
machinery, which at 100,000 households is most of an import's write time
(bench/outputs_import.py). The register migration and the aid-history
import both write through it.
"""

import operator
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.utils import timezone

# Values a driver cannot take as Python gives them: SQLite needs Django's text
# forms for money and dates; no driver takes a JSON value or a FieldFile.
_PREPARED = frozenset(
    {"DecimalField", "DateField", "DateTimeField", "JSONField", "UUIDField", "FileField"}
)
_PREPARED_POSTGRES = frozenset({"JSONField", "FileField"})


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
    through. No signals are sent, as with bulk_create.
    """
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    fields = [f for f in meta.concrete_fields if not f.primary_key]
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
    if connection.vendor == "postgresql":
        _copy(connection, objs, fields, getters, returning=returning)
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
            params = [get(obj) for obj in chunk for get in getters]
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
    getters: list[Callable[[Any], Any]],
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
        getters = [operator.attrgetter(meta.pk.attname), *getters]
    # Only the model's own quoted names go into the text; the rows are data.
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row([get(obj) for get in getters])
