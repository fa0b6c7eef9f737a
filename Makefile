# Portail famille — the two commands of the README, and a few more.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# Two workers (pytest-xdist), one test database each: the suite takes about two thirds of the
# time it takes in one process on a 2-core machine. PYTEST_ARGS="-n 0 …" runs it in one.
PYTEST_ARGS ?= -n 2

.PHONY: run test lint bench loadtest install system-deps clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

system-deps:
	./scripts/install-system-deps

## make run: a fresh machine → the portal on http://127.0.0.1:8000 (SQLite, demo data).
run: install system-deps
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

## make test: the whole suite, browser tests included, against DATABASE_URL (SQLite when unset).
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## make lint: ruff (rules and format) and the apps' import contracts of pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

bench: install
	$(PY) bench/run.py

## make loadtest: simulated parents (Locust) against gunicorn and PostgreSQL, at most 3 min of load,
## then the database's checks; e.g. make loadtest USERS=500 THINK=5 DURATION=3m (PROFILE=1: py-spy;
## NICE=-10 on a machine other jobs share).
loadtest: install
	$(PY) -m bench.loadtest.run $(if $(USERS),--users $(USERS)) $(if $(THINK),--think $(THINK)) \
		$(if $(DURATION),--duration $(DURATION)) $(if $(SPAWN_RATE),--spawn-rate $(SPAWN_RATE)) \
		$(if $(WORKERS),--workers $(WORKERS)) $(if $(NICE),--nice $(NICE)) $(if $(PROFILE),--profile) \
		$(LOADTEST_ARGS)

clean:
	rm -rf test-artifacts bench/results.json
