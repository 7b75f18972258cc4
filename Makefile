# From a fresh clone: `make demo`, `make check` (the quick loop, under a minute: ruff, mypy,
# doctests and the tests not marked slow) and `make test` (everything).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo check test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cluster-econ demo

# the tests run in one process per core (pytest-xdist); PYTEST_WORKERS=0 runs them in this process
PYTEST_WORKERS ?= auto
# Python keeps the byte code of the tests (pytest's rewritten asserts) and of the package in __pycache__,
# even where the environment turns that off, so a loop does not compile some 250 modules again in every
# process. The package never writes byte code into its model cache, whatever this says.
KEEP_BYTECODE := PYTHONDONTWRITEBYTECODE=

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(KEEP_BYTECODE) $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal -m "not slow"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(KEEP_BYTECODE) $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal --durations=25

typecheck: $(STAMP)
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
