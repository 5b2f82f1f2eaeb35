"""The deployment files in deploy/ agree with the settings and each other."""

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from cases.import_sheet import MIGRATE_MAX_BYTES
from cases.services.followup import MAX_PHOTOS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = DEPLOY / "nginx" / "hardship.conf"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
TIMERS = sorted((DEPLOY / "systemd").glob("*.timer"))

ENV_READ = re.compile(
    r"""env\.(?:str|int|bool|list|float|db_url_config)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)
REQUIRED_READ = re.compile(r"""_required\(\s*["']([A-Z][A-Z0-9_]*)["']""")
UNIT_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
# Read by libraries, not by our code: Django's manage.py/wsgi.py and boto3.
READ_ELSEWHERE = {"DJANGO_SETTINGS_MODULE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def _read_by(paths: list[Path], *patterns: re.Pattern[str]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            names |= set(pattern.findall(text))
    return names


def _settings_vars() -> set[str]:
    files = [*sorted((ROOT / "config" / "settings").glob("*.py")), ROOT / "config" / "env.py"]
    return _read_by(files, ENV_READ, REQUIRED_READ)


def _example_vars() -> set[str]:
    text = (DEPLOY / "env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def test_env_example_lists_every_variable_settings_read() -> None:
    settings_vars = _settings_vars()
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "TRUSTED_PROXY_COUNT"} <= settings_vars
    assert settings_vars - _example_vars() == set()


def test_every_variable_in_env_example_is_read_somewhere() -> None:
    command = ROOT / "accounts" / "management" / "commands" / "check_database.py"
    readers = _settings_vars() | _read_by([command], ENV_READ) | _read_by(UNITS, UNIT_READ)
    assert _example_vars() - readers - READ_ELSEWHERE == set()


def test_env_example_holds_no_real_secret() -> None:
    text = (DEPLOY / "env.example").read_text(encoding="utf-8")
    secret = re.search(r"^DJANGO_SECRET_KEY=(.*)$", text, re.MULTILINE)
    assert secret is not None and secret.group(1).startswith("change-me")
    assert ":change-me@" in re.search(r"^DATABASE_URL=(.*)$", text, re.MULTILINE).group(1)  # type: ignore[union-attr]


def _mebibytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_nginx_accepts_the_largest_upload_the_app_accepts() -> None:
    size = re.search(r"client_max_body_size\s+(\S+);", NGINX.read_text(encoding="utf-8"))
    assert size is not None
    largest = max(MIGRATE_MAX_BYTES, MAX_PHOTOS * settings.ATTACHMENT_MAX_BYTES)
    assert _mebibytes(size.group(1)) >= largest


def test_nginx_proxy_headers_match_one_trusted_proxy() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header Host $host;" in conf
    # HSTS comes from Django only; private files have no location of their own.
    assert "Strict-Transport-Security" not in conf
    assert "private" not in " ".join(re.findall(r"location\s+[^{]*", conf))


def test_upstream_ports_match_the_units_the_readme_enables() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    upstream = re.search(r"upstream hardship_app \{(.*?)\}", conf, re.DOTALL)
    assert upstream is not None
    ports = set(re.findall(r"^\s*server 127\.0\.0\.1:(\d+);", upstream.group(1), re.MULTILINE))
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    enabled = set(re.findall(r"systemctl enable --now .*", readme)[0].split("hardship-web@")[1:])
    assert ports == {p.split()[0] for p in enabled} == {"8001", "8002"}


@pytest.mark.parametrize("path", [*UNITS, *TIMERS], ids=lambda p: p.name)
def test_systemd_units_parse(path: Path) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(path.read_text(encoding="utf-8"))
    assert unit.has_section("Unit")
    if path.suffix == ".service":
        assert unit.get("Service", "ExecStart").strip()
        assert unit.get("Service", "User") == "hardship"
        assert unit.get("Service", "NoNewPrivileges") == "yes"
        assert unit.get("Service", "ProtectSystem") == "strict"
    else:
        assert unit.get("Timer", "OnCalendar").strip()
        assert (path.with_suffix(".service")).is_file()


def test_units_cover_web_worker_and_scheduled_commands() -> None:
    commands = " ".join(p.read_text(encoding="utf-8") for p in UNITS)
    for command in (
        "gunicorn config.wsgi",
        "db_worker",
        "jobs_sweep",
        "retention_sweep",
        "audit_digest",
        "backup",
        "statistics_refresh",
    ):
        assert command in commands
    assert "--bind 127.0.0.1:%i" in (DEPLOY / "systemd" / "hardship-web@.service").read_text()


NGINX_BIN = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


@pytest.mark.skipif(NGINX_BIN is None, reason="nginx is not installed")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = NGINX.read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/hardship/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/ssl/hardship/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n"
        + "".join(
            f" {kind}_temp_path {tmp_path}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f" access_log {tmp_path}/access.log;\n include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(NGINX_BIN), "-t", "-p", str(tmp_path), "-e", "stderr",
         "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
