"""Helpers for the hash-chain tests: running `audit_verify`, and changing a
protected row behind the services' back, as someone with database access
would (on PostgreSQL with the append-only trigger switched off)."""

import io
from typing import Any

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import connection


def verify() -> tuple[bool, str]:
    """Run `manage.py audit_verify`: (passed, what it printed)."""
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def verify_fails_at(model: Any, seq: Any, row_id: Any) -> str:
    """audit_verify fails and names this row (table, seq, id); its output."""
    passed, output = verify()
    assert not passed, output
    expected = f"表 {model._meta.db_table}，序号 {seq}，编号 {row_id}"
    assert expected in output, output
    return output


def _trigger_uri(model: Any) -> str:
    (trigger,) = model._meta.triggers
    return f"{model._meta.app_label}.{model.__name__}:{trigger.name}"


def raw_sql(model: Any, sql: str, params: list[Any]) -> None:
    """Run SQL on a protected table as the database owner could: on
    PostgreSQL inside pgtrigger.ignore, on SQLite (no triggers) as it is."""
    table = connection.ops.quote_name(model._meta.db_table)
    with pgtrigger.ignore(_trigger_uri(model)), connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)


def both_databases(test: Any) -> Any:
    return pytest.mark.django_db(transaction=connection.vendor == "postgresql")(test)
