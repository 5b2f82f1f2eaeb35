"""Backup and restore drills: build data with attachments and money, back
it up, restore it into a new empty database and attachment folder, and find
the same rows in every table, the same ledger sums and the same files."""

import datetime as dt
import hashlib
import io
import sqlite3
import tarfile
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.backup import BackupError, Database, restore
from cases.models import Attachment
from funds.models import EntryKind, Fund, IncomeSource, LedgerEntry
from tests.builders import make_household
from tests.race import on_postgres

LEDGER_SUM = "SELECT COALESCE(SUM(amount * direction), 0) FROM funds_ledgerentry"


def _attach(household, content: bytes) -> Attachment:
    attachment = Attachment(
        household=household, kind="id_card", original_name="身份证.pdf",
        content_type="application/pdf", size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip
    attachment.file.save("id.pdf", ContentFile(content), save=False)
    attachment.save()
    return attachment


def _build(units, dave) -> None:
    """Two households with attachments and a fund with money in and out."""
    for i, name in enumerate(["王秀兰", "李长青"]):
        household = make_household(units["a1"], name=name)
        _attach(household, f"%PDF-1.4 {name} {i}".encode())
        _attach(household, bytes(range(256)) * (i + 1))
    fund = Fund.objects.create(unit=units["a"], name="帮扶资金", year=2026, created_by=dave)
    source = IncomeSource.objects.order_by("pk").first()
    for amount, direction in (("5000.00", 1), ("1200.50", -1), ("300.25", -1)):
        LedgerEntry.objects.create(
            fund=fund, kind=EntryKind.RECEIPT if direction > 0 else EntryKind.PAYMENT,
            direction=direction, amount=D(amount), occurred_on=dt.date(2026, 3, 1),
            memo="拨款" if direction > 0 else "补助", actor=dave,
            source=source if direction > 0 else None,
        )  # fmt: skip


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    result = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (names from the schema)
        result[table] = cursor.fetchone()[0]
    return result


def _source_state() -> tuple[dict[str, int], D, list[tuple[str, str]]]:
    tables = sorted(connection.introspection.table_names())
    with connection.cursor() as cursor:
        counts = _counts(cursor, tables)
        cursor.execute(LEDGER_SUM)
        total = D(cursor.fetchone()[0])
    files = sorted(Attachment.objects.values_list("file", "sha256"))
    return counts, total, files


def _restored_state(cursor, tables: list[str]) -> tuple[dict[str, int], D, list[tuple[str, str]]]:
    counts = _counts(cursor, tables)
    cursor.execute(LEDGER_SUM)
    total = D(cursor.fetchone()[0])
    cursor.execute("SELECT file, sha256 FROM cases_attachment")
    return counts, total, sorted(tuple(r) for r in cursor.fetchall())


def _files_match(root: Path, files: list[tuple[str, str]]) -> None:
    assert files, "the drill needs attachments"
    for name, digest in files:
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name


def _tables_in(cursor, sql: str) -> list[str]:
    cursor.execute(sql)
    return sorted(r[0] for r in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_sqlite_drill(seeded_lists, units, dave, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite drill")
    _build(units, dave)
    archive = tmp_path / "backup.tar"
    call_command("backup", "--output", str(archive), stdout=open("/dev/null", "w"))  # noqa: SIM115
    source = _source_state()

    target = replace(
        Database.from_settings(connection.settings_dict), name=str(tmp_path / "new.sqlite3")
    )
    restore(db=target, private_root=tmp_path / "private", archive=archive)

    with sqlite3.connect(target.name) as restored:
        cursor = restored.cursor()
        tables = _tables_in(
            cursor,
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'",
        )
        assert set(source[0]) <= set(tables)
        state = _restored_state(cursor, sorted(source[0]))
    assert state == source
    assert source[1] == D("3499.25")
    _files_match(tmp_path / "private", source[2])


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_drill(seeded_lists, units, dave, tmp_path):
    import psycopg

    _build(units, dave)
    archive = tmp_path / "backup.tar"
    call_command("backup", "--output", str(archive), stdout=open("/dev/null", "w"))  # noqa: SIM115
    with tarfile.open(archive) as tar:
        assert {"manifest.json", "database.dump"} <= set(tar.getnames())
    source = _source_state()

    db = Database.from_settings(connection.settings_dict)
    target = replace(db, name=f"{db.name}_restore")
    params = {"host": db.host or None, "port": db.port or None, "user": db.user or None}
    if db.password:
        params["password"] = db.password
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target.name}"')
        admin.execute(f'CREATE DATABASE "{target.name}"')
    try:
        restore(db=target, private_root=tmp_path / "private", archive=archive)
        with psycopg.connect(dbname=target.name, **params) as restored:
            cursor = restored.cursor()
            tables = _tables_in(
                cursor, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            assert set(source[0]) <= set(tables)
            state = _restored_state(cursor, sorted(source[0]))
        assert state == source
        assert source[1] == D("3499.25")
        _files_match(tmp_path / "private", source[2])

        # Restoring again into what is now a full database is refused.
        with pytest.raises(BackupError, match="不是空的"):
            restore(db=target, private_root=tmp_path / "again", archive=archive)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(seeded_lists, units, dave, tmp_path):
    _build(units, dave)
    archive = tmp_path / "backup.tar"
    call_command("backup", "--output", str(archive), stdout=open("/dev/null", "w"))  # noqa: SIM115
    before = _source_state()
    with pytest.raises(CommandError, match="不是空的"):
        call_command("restore", str(archive))
    assert _source_state() == before


@pytest.mark.django_db(transaction=True)
def test_a_damaged_archive_is_refused_before_anything_is_written(
    seeded_lists, units, dave, tmp_path
):
    _build(units, dave)
    archive = tmp_path / "backup.tar"
    call_command("backup", "--output", str(archive), stdout=open("/dev/null", "w"))  # noqa: SIM115
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("private/"):
                data = b"tampered" + data
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    # The check runs before the database is touched; a SQLite target shows
    # that nothing was written.
    target = Database("sqlite", str(tmp_path / "new.sqlite3"))
    with pytest.raises(BackupError, match="校验和不符"):
        restore(db=target, private_root=tmp_path / "private", archive=damaged)
    assert not Path(target.name).exists()
    assert not (tmp_path / "private").exists() or not any((tmp_path / "private").rglob("*"))


def test_a_missing_pg_dump_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr("accounts.backup.shutil.which", lambda name: None)
    db = Database("postgresql", "hardship")
    with pytest.raises(BackupError, match="postgresql-client"):
        from accounts.backup import backup

        backup(db=db, private_root=tmp_path, output=tmp_path / "b.tar")
    assert not (tmp_path / "b.tar").exists()
