# Two commands for everyone: `make run` and `make test`.
# Both set up what they need themselves: a virtual environment with the
# Python packages, and the Debian packages below (installed when run as root
# or with password-less sudo; otherwise named in a message).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Pango lays out PDF text, harfbuzz-subset keeps CJK font embedding fast,
# Noto CJK supplies the Chinese glyphs (without it Chinese text vanishes).
RUNTIME_PACKAGES := libpango-1.0-0 libharfbuzz-subset0 fonts-noto-cjk
TEST_PACKAGES := chromium nginx
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_URL ?= postgres://postgres@$(PG_HOST):$(PG_PORT)/hardship
# pytest-xdist: one test process per core (each has its own test database).
TEST_WORKERS ?= auto

.PHONY: run test lint check test-sqlite test-postgres install system-packages test-system-packages bench cluster clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

define ensure_debian_packages
	@missing=""; \
	if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "Not a Debian/Ubuntu system: make sure these are installed: $(1)"; exit 0; \
	fi; \
	for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "Missing system packages:$$missing"; \
	       echo "Install them with: sudo apt-get install$$missing"; exit 1; fi; \
	  echo "Installing system packages:$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

system-packages:
	$(call ensure_debian_packages,$(RUNTIME_PACKAGES))

test-system-packages:
	$(call ensure_debian_packages,$(RUNTIME_PACKAGES) $(TEST_PACKAGES))

run: install system-packages
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_money
	@echo ""
	@echo "  Open http://$(HOST):$(PORT)/ in a browser (Ctrl-C stops the server)."
	@echo "  A background worker runs big exports and imports beside it."
	@echo ""
	@$(BIN)/python manage.py db_worker -v0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_SETTINGS_MODULE=config.settings.local $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

check: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=check-only-$$RANDOM-not-a-real-key-0123456789abcdefghijklmnopqrstuvwxyz \
	  DJANGO_ALLOWED_HOSTS=bangfu.example.org DATABASE_URL=postgres://check@127.0.0.1:1/check \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

test-sqlite: install test-system-packages
	env -u DATABASE_URL $(BIN)/pytest -n $(TEST_WORKERS)

test-postgres: install test-system-packages
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n $(TEST_WORKERS) --create-db

test: lint check test-sqlite
	@if $(BIN)/python -c "import socket; socket.create_connection(('$(PG_HOST)', $(PG_PORT)), 2)" 2>/dev/null; then \
	  echo "PostgreSQL answers at $(PG_HOST):$(PG_PORT): running the suite against it too."; \
	  $(MAKE) --no-print-directory test-postgres; \
	else echo "No PostgreSQL at $(PG_HOST):$(PG_PORT): the SQLite run above is the whole suite."; fi

# nginx in front of two gunicorn app servers and two workers on one PostgreSQL
# (hardship_cluster, or DATABASE_URL), as on several servers: docs/operations.md.
cluster: install
	$(call ensure_debian_packages,$(RUNTIME_PACKAGES) nginx)
	$(BIN)/python deploy/cluster.py $(CLUSTER_ARGS)

bench: install
	$(BIN)/python bench/list_households.py

clean:
	rm -rf $(VENV) var
