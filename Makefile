# One command each: setup, the main job, the tests. CI (.ci/run) calls exactly these.
# `make plan` and `make test` create the environment on first use (and again when pyproject.toml or
# api/web/package-lock.json changes): from a fresh clone, those two commands are all it takes.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
SCENARIO ?= scenarios/seoul-2019-30k.yaml
OUT      ?= out/seoul-2019-30k

.PHONY: setup plan test test-fast lint typecheck ci clean-cache

setup:  ## (re)create the virtualenv and install mobility with its dev tools
	rm -f $(STAMP)
	$(MAKE) $(STAMP)

$(STAMP): pyproject.toml api/web/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --prefix api/web --no-audit --no-fund --loglevel=error  # MapLibre, axe-core, eslint (web app)
	touch $(STAMP)

plan: $(STAMP)  ## the main job: the 2019 -> 30,000-bike expansion plan on the real Seoul data
	$(BIN)/mobility plan $(SCENARIO) --out $(OUT)

# Both cores: two pytest-xdist workers, each taking whole files (module fixtures are built once).
PYTEST = $(BIN)/python -m pytest -n 2 --dist loadfile

test: $(STAMP)  ## the whole suite, city-scale tests included
	$(PYTEST)

test-fast: $(STAMP)  ## everything but the slow city-scale tests
	$(PYTEST) -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check mobility api tests bench
	npm --prefix api/web run --silent lint

typecheck: $(STAMP)
	$(BIN)/mypy

ci: lint typecheck test

clean-cache:  ## drop derived data (it is rebuilt on demand)
	rm -rf .cache
