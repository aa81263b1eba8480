# The two commands a new user needs are `make demo` and `make test`; both create .venv/ on
# first use with the pinned requirements. Everything else is for maintainers.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench lint lock clean venv compose-check

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "carelink needs Python 3.11, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

demo: venv
	$(BIN)/carelink demo

test: venv
	$(BIN)/python -m pytest

test-fast: venv
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: venv
	$(BIN)/python -m bench.run

lint: venv
	$(BIN)/ruff check .

# Re-resolve the pinned lock from requirements.in in a throw-away venv.
lock:
	rm -rf /tmp/carelink-lock && $(PYTHON) -m venv /tmp/carelink-lock
	/tmp/carelink-lock/bin/pip install --quiet -r requirements.in
	{ sed -n '1,3p' requirements.txt; /tmp/carelink-lock/bin/pip freeze | grep -v '^-e'; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

compose-check:
	docker-compose --env-file .env.example -f docker-compose.yml config --quiet

clean:
	rm -rf $(VENV) data .pytest_cache
