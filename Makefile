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

.PHONY: env test test-slow lint format reproduce bench docs dist clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,app,browser,docs,build]'
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
	$(BIN)/alsim reproduce --study $(STUDY) --replicates $(REPLICATES) --uncertainty --out $(OUT) --overwrite

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# the documentation site (site/), built from docs/ with the reference pages generated from the code
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# wheel and sdist in dist/, then the wheel alone in a clean virtual environment runs a study
dist: $(STAMP)
	rm -rf dist build/dist-check
	$(BIN)/python -m build --outdir dist
	$(PYTHON) -m venv build/dist-check
	build/dist-check/bin/python -m pip install --quiet dist/alsim-*.whl
	cd build && dist-check/bin/alsim reproduce --study phase12 --replicates 20 --out dist-check/phase12
	test -s build/dist-check/phase12/report.html

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site dist build
