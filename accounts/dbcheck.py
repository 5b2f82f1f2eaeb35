"""The database settings the product needs, and a check of a running server.

At a million households the defaults of a stock PostgreSQL cost seconds: JIT
compiles the plan of every big statistics query (over 1 s each time), a
`random_page_cost` meant for spinning disks steers the planner away from
indexes on SSD, a 4 MB `work_mem` spills sorts to disk, and a pool larger than
`max_connections` allows refuses connections under load. `manage.py
check_database` reads the values the app's own connection sees and compares
them with the recommendations below; docs/operations.md explains each.

The rules are pure functions of the values, so they are tested without a
server; `postgres_findings` and `sqlite_findings` only read the values.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

OK = "ok"
WARNING = "warning"
INFO = "info"

RANDOM_PAGE_COST_MAX = 1.5
RANDOM_PAGE_COST_RECOMMENDED = "1.1"
WORK_MEM_MIN = 16 * 1024 * 1024
WORK_MEM_RECOMMENDED = "32MB"
SHARED_BUFFERS_STOCK = 128 * 1024 * 1024
# Connections beyond the app's own: psql, pg_dump for backups, migrations,
# monitoring.
ADMIN_CONNECTIONS = 5


@dataclass(frozen=True)
class Finding:
    name: str
    status: str  # OK, WARNING or INFO
    value: str
    advice: str
    fix: str = ""


def status_label(status: str) -> str:
    return {OK: _("正常"), WARNING: _("警告"), INFO: _("信息")}[status]


def format_finding(finding: Finding) -> str:
    """One line: status, setting = value, the recommendation, the SQL to fix."""
    line = _("[%(status)s] %(name)s = %(value)s；%(advice)s") % {
        "status": status_label(finding.status),
        "name": finding.name,
        "value": finding.value,
        "advice": finding.advice,
    }
    if finding.fix:
        line += _("；修正：%(fix)s") % {"fix": finding.fix}
    return line


_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}


def parse_size(text: str) -> int:
    """Bytes in a size as `SHOW` prints it: "4MB", "128kB", "1GB"."""
    match = re.fullmatch(r"\s*(\d+)\s*([kMGT]?B)?\s*", text, flags=re.IGNORECASE)
    if not match:
        raise ValueError(f"not a PostgreSQL size: {text!r}")
    number, unit = match.groups()
    return int(number) * _SIZE_UNITS[(unit or "B").lower()]


def quote_ident(name: str) -> str:
    """A role name as SQL spells it, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def check_jit(value: str, *, role: str) -> Finding:
    if value.strip().lower() in ("off", "false", "0"):
        return Finding("jit", OK, value, _("建议应用角色关闭 JIT"))
    return Finding(
        "jit",
        WARNING,
        value,
        _("建议应用角色关闭 JIT：大统计查询每次编译计划要一秒以上"),
        f"ALTER ROLE {quote_ident(role)} SET jit = off;",
    )


def check_random_page_cost(value: str) -> Finding:
    advice = _("固态硬盘建议 %(recommended)s（不超过 %(limit)s），让查询走索引") % {
        "recommended": RANDOM_PAGE_COST_RECOMMENDED,
        "limit": RANDOM_PAGE_COST_MAX,
    }
    if float(value) <= RANDOM_PAGE_COST_MAX:
        return Finding("random_page_cost", OK, value, advice)
    fix = (
        f"ALTER SYSTEM SET random_page_cost = {RANDOM_PAGE_COST_RECOMMENDED};"
        " SELECT pg_reload_conf();"
    )
    return Finding("random_page_cost", WARNING, value, advice, fix)


def check_work_mem(value: str, *, role: str) -> Finding:
    advice = _("建议 %(recommended)s（至少 16MB），让排序留在内存里") % {
        "recommended": WORK_MEM_RECOMMENDED
    }
    if parse_size(value) >= WORK_MEM_MIN:
        return Finding("work_mem", OK, value, advice)
    fix = f"ALTER ROLE {quote_ident(role)} SET work_mem = '{WORK_MEM_RECOMMENDED}';"
    return Finding("work_mem", WARNING, value, advice, fix)


def check_shared_buffers(value: str) -> Finding:
    if parse_size(value) > SHARED_BUFFERS_STOCK:
        return Finding("shared_buffers", OK, value, _("建议约为数据库服务器内存的 25%"))
    return Finding(
        "shared_buffers",
        WARNING,
        value,
        _("仍是出厂值 128MB，建议约为数据库服务器内存的 25%（重启 PostgreSQL 后生效）"),
        "ALTER SYSTEM SET shared_buffers = '<25% RAM>';",
    )


def check_effective_cache_size(value: str, *, shared_buffers: str) -> Finding:
    advice = _("建议约为数据库服务器内存的 50%–75%，且不小于 shared_buffers 的两倍")
    if parse_size(value) >= 2 * parse_size(shared_buffers):
        return Finding("effective_cache_size", OK, value, advice)
    fix = "ALTER SYSTEM SET effective_cache_size = '<50%-75% RAM>'; SELECT pg_reload_conf();"
    return Finding("effective_cache_size", WARNING, value, advice, fix)


@dataclass(frozen=True)
class ConnectionPlan:
    """How many connections the app may hold at its peak."""

    app_servers: int
    web_workers: int  # gunicorn worker processes per app server
    job_workers: int  # `manage.py db_worker` processes in all
    per_process: int  # connections one process may hold
    pooled: bool
    reserved: int  # superuser_reserved_connections (+ reserved_connections)

    @property
    def needed(self) -> int:
        processes = self.app_servers * self.web_workers + self.job_workers
        return processes * self.per_process + self.reserved + ADMIN_CONNECTIONS


def connections_per_process(database: Mapping[str, Any], *, threads: int) -> tuple[int, bool]:
    """Connections one process may hold, and whether a pool holds them.

    With the psycopg pool (`OPTIONS["pool"]`) a process may grow its pool to
    `max_size`; a `pool` of True means psycopg's default of 4. Without a pool
    Django keeps one connection per thread (CONN_MAX_AGE only decides how long
    it stays open), so a process holds at most as many as it has threads."""
    pool = (database.get("OPTIONS") or {}).get("pool")
    if pool is True:
        return 4, True
    if isinstance(pool, Mapping) and pool:
        return int(pool.get("max_size", pool.get("min_size", 4))), True
    return max(threads, 1), False


def check_max_connections(value: str, *, plan: ConnectionPlan) -> Finding:
    each = (
        _("%(n)d（连接池上限）") % {"n": plan.per_process}
        if plan.pooled
        else _("%(n)d（每线程一个连接）") % {"n": plan.per_process}
    )
    advice = _(
        "需要至少 %(needed)d = (%(servers)d 台应用服务器 × %(web)d 个 gunicorn 进程"
        " + %(jobs)d 个后台任务进程) × %(each)s + %(reserved)d 个保留 + %(admin)d 个运维余量"
    ) % {
        "needed": plan.needed,
        "servers": plan.app_servers,
        "web": plan.web_workers,
        "jobs": plan.job_workers,
        "each": each,
        "reserved": plan.reserved,
        "admin": ADMIN_CONNECTIONS,
    }
    if int(value) >= plan.needed:
        return Finding("max_connections", OK, value, advice)
    advice += _("（调大后重启 PostgreSQL 生效；也可调小 DB_POOL_MAX 或进程数）")
    fix = f"ALTER SYSTEM SET max_connections = {plan.needed};"
    return Finding("max_connections", WARNING, value, advice, fix)


def check_pg_stat_statements(*, installed: bool, preloaded: bool) -> Finding:
    """Information only: it shows which queries cost the most time."""
    advice = _("用于找出最耗时的查询（仅供参考）")
    if installed and preloaded:
        return Finding("pg_stat_statements", INFO, _("已启用"), advice)
    steps = []
    if not preloaded:
        advice = _("用于找出最耗时的查询（仅供参考）；预加载后需重启 PostgreSQL")
        steps.append("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';")
    if not installed:
        steps.append("CREATE EXTENSION pg_stat_statements;")
    value = _("未安装") if not installed else _("未预加载")
    return Finding("pg_stat_statements", INFO, value, advice, " ".join(steps))


def check_server_version(version: str, version_num: int) -> Finding:
    if version_num >= 140000:
        return Finding("server_version", INFO, version, _("支持的版本（14 及以上）"))
    return Finding(
        "server_version", WARNING, version, _("Django 5.2 需要 PostgreSQL 14 及以上，请升级")
    )


def check_sqlite_journal_mode(mode: str) -> Finding:
    advice = _("建议 WAL：读者不必等写入")
    if mode.strip().lower() == "wal":
        return Finding("journal_mode", OK, mode, advice)
    return Finding("journal_mode", WARNING, mode, advice, "PRAGMA journal_mode=WAL;")


def sqlite_not_applicable() -> Finding:
    return Finding(
        "engine",
        INFO,
        "sqlite",
        _("嵌入式数据库：JIT、random_page_cost、work_mem、连接池等 PostgreSQL 检查不适用"),
    )


def postgres_findings(
    cursor: Any,
    *,
    database: Mapping[str, Any],
    app_servers: int,
    web_workers: int,
    job_workers: int,
    threads: int,
) -> list[Finding]:
    """Read the values this connection sees (role and session settings
    included, as `SHOW` does) and check each."""

    def setting(name: str) -> str | None:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        row = cursor.fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def required(name: str) -> str:
        value = setting(name)
        if value is None:
            raise ValueError(f"PostgreSQL has no setting {name}")
        return value

    cursor.execute("SELECT current_user")
    role = cursor.fetchone()[0]
    shared_buffers = required("shared_buffers")
    per_process, pooled = connections_per_process(database, threads=threads)
    reserved = int(required("superuser_reserved_connections"))
    reserved += int(setting("reserved_connections") or 0)  # PostgreSQL 16 and later
    plan = ConnectionPlan(
        app_servers=app_servers,
        web_workers=web_workers,
        job_workers=job_workers,
        per_process=per_process,
        pooled=pooled,
        reserved=reserved,
    )
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')"
    )
    installed = bool(cursor.fetchone()[0])
    preloaded = "pg_stat_statements" in (setting("shared_preload_libraries") or "")
    return [
        check_server_version(required("server_version"), int(required("server_version_num"))),
        check_jit(required("jit"), role=role),
        check_random_page_cost(required("random_page_cost")),
        check_work_mem(required("work_mem"), role=role),
        check_shared_buffers(shared_buffers),
        check_effective_cache_size(required("effective_cache_size"), shared_buffers=shared_buffers),
        check_max_connections(required("max_connections"), plan=plan),
        check_pg_stat_statements(installed=installed, preloaded=preloaded),
    ]


def sqlite_findings(cursor: Any) -> list[Finding]:
    cursor.execute("PRAGMA journal_mode")
    return [check_sqlite_journal_mode(str(cursor.fetchone()[0])), sqlite_not_applicable()]
