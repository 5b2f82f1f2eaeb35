"""`manage.py check_database`: each rule on good and bad values, the SQLite
path, and the command against the PostgreSQL test database."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import dbcheck
from tests.race import on_postgres


def _plan(**overrides: int) -> dbcheck.ConnectionPlan:
    values = {
        "app_servers": 2,
        "web_workers": 4,
        "job_workers": 2,
        "per_process": 5,
        "pooled": True,
        "reserved": 3,
    }
    values.update(overrides)
    return dbcheck.ConnectionPlan(**values)  # type: ignore[arg-type]


def test_sizes_are_read_as_postgresql_prints_them():
    assert dbcheck.parse_size("4MB") == 4 * 1024 * 1024
    assert dbcheck.parse_size("128kB") == 128 * 1024
    assert dbcheck.parse_size("1GB") == 1024**3
    assert dbcheck.parse_size("8192") == 8192
    with pytest.raises(ValueError):
        dbcheck.parse_size("lots")


def test_jit_on_warns_with_the_sql_for_the_apps_role():
    finding = dbcheck.check_jit("on", role="hardship")
    assert finding.status == dbcheck.WARNING
    assert finding.fix == 'ALTER ROLE "hardship" SET jit = off;'
    assert dbcheck.check_jit("off", role="hardship").status == dbcheck.OK


def test_a_role_name_is_quoted_in_the_sql():
    finding = dbcheck.check_jit("on", role='odd"name')
    assert finding.fix == 'ALTER ROLE "odd""name" SET jit = off;'


def test_random_page_cost_for_spinning_disks_warns():
    bad = dbcheck.check_random_page_cost("4")
    assert bad.status == dbcheck.WARNING
    assert "random_page_cost = 1.1" in bad.fix
    assert dbcheck.check_random_page_cost("1.5").status == dbcheck.OK
    assert dbcheck.check_random_page_cost("1.1").status == dbcheck.OK
    assert dbcheck.check_random_page_cost("1.6").status == dbcheck.WARNING


def test_work_mem_below_16mb_warns():
    bad = dbcheck.check_work_mem("4MB", role="hardship")
    assert bad.status == dbcheck.WARNING
    assert bad.fix == """ALTER ROLE "hardship" SET work_mem = '32MB';"""
    assert dbcheck.check_work_mem("16MB", role="hardship").status == dbcheck.OK
    assert dbcheck.check_work_mem("1GB", role="hardship").status == dbcheck.OK
    assert dbcheck.check_work_mem("16383kB", role="hardship").status == dbcheck.WARNING


def test_stock_shared_buffers_warn():
    assert dbcheck.check_shared_buffers("128MB").status == dbcheck.WARNING
    assert dbcheck.check_shared_buffers("2GB").status == dbcheck.OK


def test_effective_cache_size_below_twice_shared_buffers_warns():
    check = dbcheck.check_effective_cache_size
    assert check("4GB", shared_buffers="2GB").status == dbcheck.OK
    assert check("3GB", shared_buffers="2GB").status == dbcheck.WARNING


def test_connections_needed_count_every_process_and_a_margin():
    # (2 servers × 4 workers + 2 job workers) × 5 + 3 reserved + 5 for admin
    assert _plan().needed == 58
    assert _plan(app_servers=3).needed == 78


def test_the_pool_size_comes_from_the_database_settings():
    pooled = {"OPTIONS": {"pool": {"min_size": 2, "max_size": 20}}}
    assert dbcheck.connections_per_process(pooled, threads=1) == (20, True)
    assert dbcheck.connections_per_process({"OPTIONS": {"pool": True}}, threads=1) == (4, True)


def test_without_a_pool_a_process_holds_one_connection_per_thread():
    unpooled = {"OPTIONS": {}, "CONN_MAX_AGE": 60}
    assert dbcheck.connections_per_process(unpooled, threads=1) == (1, False)
    assert dbcheck.connections_per_process(unpooled, threads=8) == (8, False)
    assert dbcheck.connections_per_process({}, threads=1) == (1, False)


def test_max_connections_below_the_need_warns_with_the_number():
    bad = dbcheck.check_max_connections("50", plan=_plan())
    assert bad.status == dbcheck.WARNING
    assert bad.fix == "ALTER SYSTEM SET max_connections = 58;"
    assert "58" in bad.advice
    assert dbcheck.check_max_connections("58", plan=_plan()).status == dbcheck.OK


def test_pg_stat_statements_is_information_only():
    missing = dbcheck.check_pg_stat_statements(installed=False, preloaded=False)
    assert missing.status == dbcheck.INFO
    assert "shared_preload_libraries" in missing.fix
    assert "CREATE EXTENSION pg_stat_statements;" in missing.fix
    ready = dbcheck.check_pg_stat_statements(installed=True, preloaded=True)
    assert ready.status == dbcheck.INFO
    assert ready.fix == ""


def test_old_servers_warn():
    assert dbcheck.check_server_version("13.4", 130004).status == dbcheck.WARNING
    assert dbcheck.check_server_version("15.2", 150002).status == dbcheck.INFO


def test_sqlite_without_wal_warns():
    assert dbcheck.check_sqlite_journal_mode("wal").status == dbcheck.OK
    bad = dbcheck.check_sqlite_journal_mode("delete")
    assert bad.status == dbcheck.WARNING
    assert bad.fix == "PRAGMA journal_mode=WAL;"


def test_a_line_names_status_value_advice_and_fix():
    line = dbcheck.format_finding(dbcheck.check_jit("on", role="app"))
    assert line.startswith("[警告] jit = on；")
    assert line.endswith('修正：ALTER ROLE "app" SET jit = off;')
    assert dbcheck.format_finding(dbcheck.check_jit("off", role="app")).startswith("[正常] jit")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite path")
@pytest.mark.django_db
def test_on_sqlite_the_command_checks_wal_and_skips_postgresql(capsys):
    call_command("check_database", "--fail-on-warning")
    out = capsys.readouterr().out
    assert "[正常] journal_mode = wal" in out
    assert "PostgreSQL 检查不适用" in out
    assert "] jit = " not in out


@pytest.mark.django_db
def test_impossible_process_counts_are_refused():
    with pytest.raises(CommandError, match="--web-workers"):
        call_command("check_database", "--web-workers", "0")
    with pytest.raises(CommandError, match="nowhere"):
        call_command("check_database", "--database", "nowhere")


CHECKS = (
    "server_version",
    "jit",
    "random_page_cost",
    "work_mem",
    "shared_buffers",
    "effective_cache_size",
    "max_connections",
    "pg_stat_statements",
)


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_the_command_names_every_check(capsys):
    call_command("check_database")
    lines = capsys.readouterr().out.splitlines()
    for name in CHECKS:
        assert any(f"] {name} = " in line for line in lines), name


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_jit_on_fails_and_good_values_pass(capsys):
    with connection.cursor() as cursor:
        cursor.execute("SET jit = on")
        cursor.execute("SET random_page_cost = 1.1")
        cursor.execute("SET work_mem = '32MB'")
        cursor.execute("SELECT current_user")
        role = cursor.fetchone()[0]
    with pytest.raises(CommandError) as failed:
        call_command("check_database", "--fail-on-warning")
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "[警告] jit = on；" in out
    assert f'ALTER ROLE "{role}" SET jit = off;' in out
    assert "[正常] random_page_cost = 1.1" in out
    assert "[正常] work_mem = 32MB" in out

    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    # Without --fail-on-warning the command reports and exits 0.
    call_command("check_database")
    assert "[正常] jit = off" in capsys.readouterr().out
