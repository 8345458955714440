# One entry point. `make run` sets everything up and starts the assistant on the
# embedded default; `make test` runs every test. Targets are no-ops when current.
SHELL := /bin/bash
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
# Looked up when a recipe runs (?= is deferred), after `prereqs` may have installed them.
PY311 ?= $(shell scripts/prereqs.sh python 3.11)
PY310 ?= $(shell scripts/prereqs.sh python 3.10)
# What each command needs from the machine: `prereqs` checks it first (scripts/prereqs.sh
# installs it as root on Debian/Ubuntu, else says exactly what to install). A target's
# NEEDS holds for its prerequisites too, so `prereqs` runs once per make.
NEEDS := python3.11 python3.10 node
setup: NEEDS += redis chromium docker-compose
deploy-check: NEEDS += docker-compose
bench bench-analytics load: NEEDS += redis
.NOTPARALLEL:  # prerequisites first, in the order given

.PHONY: help install prereqs setup doctor run test lint bench bench-analytics model clean deploy-check load conversations

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: $(VENV)/.stamp $(RASA_VENV)/.stamp dashboard/node_modules/.stamp web/dist/index.html ## create or update both environments and build the web app (no-op when current)

prereqs: ## check what the command needs (as root on Debian/Ubuntu: install it)
	@scripts/prereqs.sh ensure $(NEEDS)

setup: prereqs install ## everything make test needs from the machine, plus both environments

doctor: ## what is present and missing: interpreters, Node, Redis, Chromium, disk, model
	@scripts/prereqs.sh doctor

dashboard/node_modules/.stamp: dashboard/package.json dashboard/package-lock.json | prereqs
	npm ci --prefix dashboard --no-audit --no-fund --loglevel=error
	@touch $@

# The web app (web/, React + Vite): npm ci when the lock file changes, a build when any source
# does; the app serves web/dist at /app/.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

web/node_modules/.stamp: web/package.json web/package-lock.json | prereqs
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.stamp $(WEB_SOURCES)
	npm run --prefix web --silent build -- --logLevel warn

$(VENV)/.stamp: pyproject.toml | prereqs
	@test -n "$(PY311)" || { echo "Python 3.11 not found"; exit 1; }
	@test -x $(PY) || $(PY311) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

$(RASA_VENV)/.stamp: rasa_env/requirements.txt | prereqs
	@test -n "$(PY310)" || { echo "Python 3.10 not found (Rasa 3.6 needs it; pyenv install 3.10)"; exit 1; }
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install -q --upgrade 'pip<25' wheel
	$(RASA_VENV)/bin/python -m pip install -q -r rasa_env/requirements.txt
	@touch $@

run: prereqs install ## set up, then start everything on the embedded default
	./scripts/run.sh

model: install ## train the NLU model if the assistant changed (reused otherwise)
	$(PY) scripts/rasa_model.py ensure

test: setup model ## run the whole test suite (trains the NLU model first if stale)
	$(PY) -m pytest

conversations: install model ## scripted conversations against the real Rasa: task success, median turns, failures
	$(PY) -m pytest -q -s -p no:cacheprovider tests/conversations

deploy-check: prereqs install ## deployment artifacts: kustomize, schemas, rules, compose, hadolint, terraform fmt
	$(PY) -m pytest -q tests/deploy

lint: install ## ruff + mypy + the import contract (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy booking app api bot scheduler actions analytics sandbox notify
	$(VENV)/bin/lint-imports

bench: prereqs install ## core + API benchmarks; figures in docs/benchmarks.md (others listed there)
	$(PY) -m bench.core
	$(PY) -m bench.api

bench-analytics: prereqs install ## full metrics call at 100,000 bookings / 500,000 messages (~3 min)
	$(PY) -m bench.analytics --parts --last30

load: prereqs install ## Locust headless (LOAD_USERS, LOAD_SPAWN_RATE, LOAD_SECONDS, LOAD_MIX, LOAD_HOST): load-report.json
	nice -n 10 $(PY) -m loadtest

clean: ## remove environments and build output
	rm -rf $(VENV) $(RASA_VENV) models .pytest_cache
