# One command each: setup, the main job, the tests. CI (.ci/run) calls exactly these.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SCENARIO ?= scenarios/seoul-2019-30k.yaml
OUT      ?= out/seoul-2019-30k

.PHONY: setup plan test test-fast lint typecheck ci clean-cache

setup:  ## create the virtualenv and install mobility with its dev tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --prefix api/web --no-audit --no-fund --loglevel=error  # MapLibre, axe-core, eslint (web app)

plan:   ## the main job: the 2019 -> 30,000-bike expansion plan on the real Seoul data
	$(BIN)/mobility plan $(SCENARIO) --out $(OUT)

test:   ## the whole suite, city-scale tests included
	$(BIN)/python -m pytest

test-fast:  ## everything but the slow city-scale tests
	$(BIN)/python -m pytest -m "not slow"

lint:
	$(BIN)/ruff check mobility api tests bench
	npm --prefix api/web run --silent lint

typecheck:
	$(BIN)/mypy

ci: lint typecheck test

clean-cache:  ## drop derived data (it is rebuilt on demand)
	rm -rf .cache
