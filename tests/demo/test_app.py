"""The demo app stays out of production: not installed there, and no
production module imports it."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# What `make check` gives production settings to load with.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "check-only-not-a-real-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "bangfu.example.org",
    "DATABASE_URL": "postgres://check@127.0.0.1:1/check",
}
# Allowed to import the demo: itself, the tests and the benchmarks.
DEMO_USERS = {"demo", "tests", "bench"}


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_development_settings_install_the_demo():
    assert "demo" in settings.INSTALLED_APPS


def test_production_has_no_demo_app_and_no_demo_commands():
    listed = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.INSTALLED_APPS)"
    )
    assert listed.returncode == 0, listed.stderr
    assert "'cases'" in listed.stdout and "'reports'" in listed.stdout
    assert "'demo'" not in listed.stdout
    for command in ("seed_demo", "seed_demo_money", "generate_households"):
        found = _manage("help", command)
        assert found.returncode != 0 and f"Unknown command: '{command}'" in found.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_production_module_imports_the_demo():
    checked, offenders = 0, []
    for path in ROOT.rglob("*.py"):
        top = path.relative_to(ROOT).parts[0]
        if top in DEMO_USERS or top.startswith(".") or top in {"node_modules", "var"}:
            continue
        checked += 1
        if any(name == "demo" or name.startswith("demo.") for name in _imports(path)):
            offenders.append(str(path.relative_to(ROOT)))
    assert checked > 100, "found too few modules to check"
    assert offenders == []
