"""Backup and restore of the whole system: the database and the private
attachments, in one tar archive with a manifest of SHA-256 checksums.

- PostgreSQL: `pg_dump --format=custom`, put back with `pg_restore` into a
  new, empty database.
- SQLite: a consistent copy through SQLite's backup API (safe while the app
  writes in WAL mode), copied into place on restore.
- Attachments: every file under PRIVATE_STORAGE_ROOT.

The archive layout: `manifest.json`, `database.dump` or `database.sqlite3`,
and `private/<path>` for each attachment. A restore checks every checksum
before it writes anything, and refuses a database that already has tables.
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_FILE = "database.sqlite3"
PRIVATE = "private"
FORMAT = 1
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what
    to do."""


@dataclass
class Database:
    """What a backup needs to know of a configured database."""

    vendor: str  # "postgresql" or "sqlite"
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_settings(cls, settings_dict: dict[str, Any]) -> "Database":
        engine = settings_dict["ENGINE"]
        if engine.endswith("sqlite3"):
            return cls("sqlite", str(settings_dict["NAME"]))
        if engine.endswith("postgresql"):
            return cls(
                "postgresql",
                str(settings_dict["NAME"]),
                str(settings_dict.get("HOST") or ""),
                str(settings_dict.get("PORT") or ""),
                str(settings_dict.get("USER") or ""),
                str(settings_dict.get("PASSWORD") or ""),
            )
        raise BackupError(f"不支持的数据库类型：{engine}")

    def libpq_args(self) -> list[str]:
        args = []
        if self.host:
            args += ["--host", self.host]
        if self.port:
            args += ["--port", self.port]
        if self.user:
            args += ["--username", self.user]
        return [*args, "--no-password", "--dbname", self.name]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"找不到 {name}：请安装 PostgreSQL 客户端（Debian/Ubuntu 软件包 postgresql-client，"
            f"版本不低于数据库服务器），然后重试。"
        )
    return found


def _major(text: str) -> int:
    match = re.search(r"\)\s*(\d+)", text) or re.search(r"(\d+)", text)
    if match is None:
        raise BackupError(f"无法识别版本号：{text!r}")
    return int(match.group(1))


def _server_major(db: Database) -> int:
    psql = shutil.which("psql")
    if psql is None:
        return 0  # pg_dump itself refuses a newer server, with its own message
    out = _run([psql, *db.libpq_args(), "-tAc", "SHOW server_version_num"], db)
    return int(out.strip() or 0) // 10000


def _run(args: list[str], db: Database) -> str:
    done = subprocess.run(args, env=db.env(), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tool = Path(args[0]).name
        raise BackupError(f"{tool} 失败（退出码 {done.returncode}）：{done.stderr.strip()}")
    return done.stdout


def _dump_postgres(db: Database, target: Path) -> None:
    pg_dump = _tool("pg_dump")
    client = _major(_run([pg_dump, "--version"], db))
    server = _server_major(db)
    if server and client < server:
        raise BackupError(
            f"pg_dump 版本 {client} 低于数据库服务器版本 {server}：请安装与服务器相同或更新版本的 "
            f"postgresql-client。"
        )
    options = ["--format=custom", "--no-owner", "--no-privileges", "--file", str(target)]
    _run([pg_dump, *options, *db.libpq_args()], db)


def _copy_sqlite(db: Database, target: Path) -> None:
    """SQLite's online backup: a consistent snapshot even while the app
    writes (WAL pages included)."""
    if not Path(db.name).exists():
        raise BackupError(f"找不到 SQLite 数据库文件：{db.name}")
    source = sqlite3.connect(db.name)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def _private_files(root: Path) -> Iterator[Path]:
    if not root.exists():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def backup(*, db: Database, private_root: Path, output: Path) -> dict[str, Any]:
    """Write the archive to `output` (never over an existing file); return
    its manifest."""
    if output.exists():
        raise BackupError(f"{output} 已存在，不会覆盖。")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hardship-backup-") as tmp:
        dump = Path(tmp) / (PG_DUMP if db.vendor == "postgresql" else SQLITE_FILE)
        if db.vendor == "postgresql":
            _dump_postgres(db, dump)
        else:
            _copy_sqlite(db, dump)
        entries: list[tuple[str, Path]] = [(dump.name, dump)]
        for path in _private_files(private_root):
            relative = path.relative_to(private_root).as_posix()
            entries.append((f"{PRIVATE}/{relative}", path))
        manifest = {
            "format": FORMAT,
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "database": db.vendor,
            "files": {
                name: {"sha256": sha256_file(p), "size": p.stat().st_size} for name, p in entries
            },
        }
        manifest_path = Path(tmp) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            archive.add(manifest_path, arcname=MANIFEST)
            for name, path in entries:
                archive.add(path, arcname=name)
        partial.rename(output)  # a half-written archive is never taken for a backup
    return manifest


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def verify(archive_path: Path, into: Path) -> dict[str, Any]:
    """Extract the archive into `into` and check it against its manifest:
    every file listed, present, of the right checksum, and nothing else."""
    try:
        with tarfile.open(archive_path, "r") as archive:
            members = archive.getmembers()
            for member in members:
                if not (member.isfile() or member.isdir()) or not _safe_name(member.name):
                    raise BackupError(f"备份文件中有不允许的条目：{member.name}")
            archive.extractall(into, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"无法读取备份文件 {archive_path}：{exc}") from exc
    manifest_path = into / MANIFEST
    if not manifest_path.exists():
        raise BackupError("备份文件中没有 manifest.json，不是本系统的备份。")
    manifest = json.loads(manifest_path.read_text())
    listed = manifest.get("files", {})
    present = {m.name for m in members if m.isfile()} - {MANIFEST}
    missing = sorted(set(listed) - present)
    extra = sorted(present - set(listed))
    if missing or extra:
        raise BackupError(f"备份文件与清单不符：缺少 {missing or '无'}，多出 {extra or '无'}。")
    bad = [n for n, meta in listed.items() if sha256_file(into / n) != meta["sha256"]]
    if bad:
        raise BackupError(f"校验和不符，备份可能已损坏：{', '.join(sorted(bad)[:10])}")
    return manifest


def database_tables(db: Database) -> list[str]:
    """The tables the target database already has."""
    if db.vendor == "sqlite":
        if not Path(db.name).exists() or Path(db.name).stat().st_size == 0:
            return []
        with sqlite3.connect(db.name) as conn:
            rows = conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        return [r[0] for r in rows]
    psql = _tool("psql")
    query = (
        "SELECT tablename FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    )
    out = _run([psql, *db.libpq_args(), "-tAc", query], db)
    return [line for line in out.splitlines() if line.strip()]


def restore(*, db: Database, private_root: Path, archive: Path) -> dict[str, Any]:
    """Put a backup back into an empty database and an empty attachment
    folder. Everything is checked before anything is written."""
    tables = database_tables(db)
    if tables:
        raise BackupError(
            f"目标数据库 {db.name} 不是空的（已有 {len(tables)} 张表）。恢复只写入新建的空数据库："
            f"请新建一个数据库（PostgreSQL：createdb；SQLite：换一个文件路径），"
            f"把 DATABASE_URL / SQLITE_PATH 指向它，再运行 restore。"
        )
    if any(_private_files(private_root)):
        raise BackupError(
            f"附件目录 {private_root} 不是空的。请把 PRIVATE_STORAGE_ROOT 指向一个空目录后再恢复。"
        )
    with tempfile.TemporaryDirectory(prefix="hardship-restore-") as tmp:
        into = Path(tmp)
        manifest = verify(archive, into)
        if manifest.get("database") != db.vendor:
            raise BackupError(
                f"这是 {manifest.get('database')} 数据库的备份，不能恢复到 {db.vendor} 数据库。"
            )
        if db.vendor == "postgresql":
            pg_restore = _tool("pg_restore")
            _run(
                [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
                 *db.libpq_args(), str(into / PG_DUMP)],
                db,
            )  # fmt: skip
        else:
            target = Path(db.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
                stale.unlink(missing_ok=True)
            shutil.copyfile(into / SQLITE_FILE, target)
        source = into / PRIVATE
        for name in manifest["files"]:
            if name.startswith(f"{PRIVATE}/"):
                destination = private_root / name[len(PRIVATE) + 1 :]
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name[len(PRIVATE) + 1 :], destination)
    return manifest
