# KAP Journey. Two commands matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
TOOLS_BIN := $(CURDIR)/tools/node_modules/.bin

# Reflex's own bun download needs the open internet; use bun from the npm registry instead.
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
export PATH := $(TOOLS_BIN):$(PATH)

.PHONY: run run-scaled test setup install tools chromium lint verify-audit clean

## run: install, migrate, seed the demo clinic if empty, serve http://localhost:$(PORT)
run: setup
	@$(PY) -m kapjourney.cli demo-logins
	@echo "Serving KAP Journey at http://localhost:$(PORT) (Ctrl-C to stop)"
	@KJ_PUBLIC_URL=$${KJ_PUBLIC_URL:-http://localhost:$(PORT)} \
		$(PY) -m reflex run --env prod --single-port --backend-port $(PORT) --loglevel warning

## run-scaled: the same against PostgreSQL and Redis with several backend workers (README.md,
## "Scaled mode"); the database is created when missing, then migrated and seeded like `run`
SCALED_DB ?= postgresql+psycopg://postgres@127.0.0.1:5432/kapjourney
SCALED_REDIS ?= redis://127.0.0.1:6379/0
run-scaled: install
	@export KJ_DATABASE_URL=$${KJ_DATABASE_URL:-$(SCALED_DB)} \
		REFLEX_REDIS_URL=$${REFLEX_REDIS_URL:-$(SCALED_REDIS)} \
		GRANIAN_WORKERS=$${GRANIAN_WORKERS:-3} \
		KJ_PUBLIC_URL=$${KJ_PUBLIC_URL:-http://localhost:$(PORT)} && \
	$(PY) -m kapjourney.cli create-database && $(PY) -m kapjourney.cli setup && \
	$(PY) -m kapjourney.cli demo-logins && \
	echo "Serving KAP Journey at $$KJ_PUBLIC_URL with $$GRANIAN_WORKERS workers (Ctrl-C to stop)" && \
	$(PY) -m reflex run --env prod --single-port --backend-port $(PORT) --loglevel warning

## test: the same setup, then every test (browser tests in Debian's chromium included), then
## the browser tests again against a scaled server (PostgreSQL + Redis, 3 workers) and its fault
## tests; that tier skips, naming what did not answer, unless 127.0.0.1:5432 and :6379 answer
test: install chromium
	$(PY) -m pytest
	KJ_BROWSER_MODE=scaled $(PY) -m pytest tests/browser

setup: install
	$(PY) -m kapjourney.cli setup

install: $(VENV)/.installed tools/node_modules/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $@

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## chromium: Debian's chromium for the browser tests (installed when missing and allowed)
chromium:
	@if [ -n "$$KJ_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "Debian's chromium is missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; \
	echo "Installing Debian's chromium for the browser tests..."; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium

lint: install
	$(VENV)/bin/ruff check .

verify-audit: install
	$(PY) -m kapjourney.cli verify-audit

clean:
	rm -rf .web .states tests/.artifacts
