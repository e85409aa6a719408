# Two commands set everything up: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install run migrate demo test lint typecheck pytest bench erd clean

help:
	@echo "make run    install, migrate, load demo data on first run, start dashboard + public endpoints + worker"
	@echo "make test   ruff, mypy (strict for core/), pytest with coverage"
	@echo "make bench  run every benchmark in quick mode"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/sales-agent db upgrade

demo: migrate
	$(BIN)/sales-agent demo load --if-empty

run: demo
	$(BIN)/sales-agent up

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy core jobs public_endpoints cli ui pages Home.py

pytest: install
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-report=xml $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script --quick || exit 1; done

erd: install
	$(BIN)/sales-agent db erd

clean:
	rm -rf $(VENV) .coverage coverage.xml .mypy_cache .ruff_cache
