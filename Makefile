# `make test` and `make reproduce` each build the environment they need from python3 alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make reproduce writes its own folder under out/, so out/sim, out/phase12, out/power or any
# other file there is never touched; --overwrite replaces only what alsim wrote in out/reproduce.
OUT ?= out/reproduce
STUDY ?= all
REPLICATES ?= 1000

.PHONY: env test test-slow lint format reproduce bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,app,browser]'
	touch $(STAMP)

env: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

reproduce: $(STAMP)
	$(BIN)/alsim reproduce --study $(STUDY) --replicates $(REPLICATES) --out $(OUT) --overwrite

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
