# One entry point. `make run` sets everything up and starts the assistant on the
# embedded default; `make test` runs every test. Targets are no-ops when current.
SHELL := /bin/bash
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
PY311 ?= $(shell command -v python3.11 2>/dev/null || ls -d $$HOME/.pyenv/versions/3.11*/bin/python3.11 2>/dev/null | tail -1)
PY310 ?= $(shell (python3.10 -c 'import sys' >/dev/null 2>&1 && command -v python3.10) || ls -d $$HOME/.pyenv/versions/3.10*/bin/python3.10 2>/dev/null | tail -1)

.PHONY: help install run test lint bench bench-analytics model clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: $(VENV)/.stamp $(RASA_VENV)/.stamp dashboard/node_modules/.stamp ## create or update both environments (no-op when current)

dashboard/node_modules/.stamp: dashboard/package.json dashboard/package-lock.json
	npm ci --prefix dashboard --no-audit --no-fund --loglevel=error
	@touch $@

$(VENV)/.stamp: pyproject.toml
	@test -n "$(PY311)" || { echo "Python 3.11 not found"; exit 1; }
	@test -x $(PY) || $(PY311) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

$(RASA_VENV)/.stamp: rasa_env/requirements.txt
	@test -n "$(PY310)" || { echo "Python 3.10 not found (Rasa 3.6 needs it; pyenv install 3.10)"; exit 1; }
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install -q --upgrade 'pip<25' wheel
	$(RASA_VENV)/bin/python -m pip install -q -r rasa_env/requirements.txt
	@touch $@

run: install ## set up, then start everything on the embedded default
	./scripts/run.sh

model: install ## train the NLU model if the assistant changed (reused otherwise)
	$(PY) scripts/rasa_model.py ensure

test: model ## run the whole test suite (trains the NLU model first if stale)
	$(PY) -m pytest

lint: install ## ruff + mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy booking app api bot scheduler actions analytics sandbox

bench: install ## core + API benchmarks; figures in docs/benchmarks.md (others listed there)
	$(PY) -m bench.core
	$(PY) -m bench.api

bench-analytics: install ## full metrics call at 100,000 bookings / 500,000 messages (~3 min)
	$(PY) -m bench.analytics --parts --last30

clean: ## remove environments and build output
	rm -rf $(VENV) $(RASA_VENV) models .pytest_cache
