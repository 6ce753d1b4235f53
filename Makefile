# Two commands: `make run` starts the product, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
SANDBOX_DATA := var/sandbox.sqlite3
# `make run PORT=8001 SANDBOX_PORT=9101` runs a second copy (another clone) beside the first.
PORT         ?= 8000
SANDBOX_PORT ?= 9100
SANDBOX_URL  := http://127.0.0.1:$(SANDBOX_PORT)
# Read by the Procfile, the settings (SITE_URL's default) and the demo commands; not PORT itself,
# which honcho sets to a port of its own for every process.
export SELLERDESK_PORT := $(PORT)
export SELLERDESK_SANDBOX_PORT := $(SANDBOX_PORT)
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint fmt migrate seed bench clean help localenv sandbox-env schema static

help:
	@echo "make run   - install, migrate, seed the demo, start sandbox, web, worker and beat, connect two stores"
	@echo "             (PORT=8000 and SANDBOX_PORT=9100 by default: make run PORT=8001 SANDBOX_PORT=9101)"
	@echo "make test  - run the whole test suite (uses DATABASE_URL / REDIS_URL when set)"
	@echo "make lint  - ruff check and makemigrations --check"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "Sellerdesk needs Python 3.11 or newer (found: $$($(PYTHON) --version))."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Idempotent: adds only the local secrets that .env lacks.
localenv: $(STAMP)
	@$(BIN)/python config/localenv.py

migrate: $(STAMP) localenv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py triage_train --if-missing

# Seeds the sandbox on first start and points TIKTOK_* at it (unless .env names a real app).
sandbox-env: $(STAMP) localenv
	@$(BIN)/python config/localenv.py --sandbox-data $(SANDBOX_DATA) --sandbox-url $(SANDBOX_URL)

# DEBUG is off in the generated .env: whitenoise serves the collected (hashed) static files.
static: $(STAMP) localenv
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

run: seed sandbox-env static
	$(BIN)/honcho start -f Procfile

# Tests keep their embedded state (broker files, cache) apart from `make run`'s, so a test's
# queued task never reaches the demo's worker. With REDIS_URL set, Redis is used instead.
test: $(STAMP) localenv
	rm -rf var/test
	SELLERDESK_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) localenv
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# The committed OpenAPI document (tests/api/test_schema.py fails when it is out of date).
schema: $(STAMP) localenv
	$(BIN)/python manage.py spectacular --file api/openapi.yaml --validate --fail-on-warn

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) localenv
	@echo "Benchmarks live in bench/; run one with $(BIN)/python bench/<name>.py"

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
