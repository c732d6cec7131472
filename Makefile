# Everyday commands. Each target creates and fills the local virtual environment .venv first;
# the stamp file makes that cheap when nothing in the packaging changed.

PYTHON ?= $(shell python3.11 -c 'pass' >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: venv bench-venv demo test lint format bench clean

venv: $(STAMP)

# __init__.py holds __version__: reinstalling keeps the installed metadata's version in step.
$(STAMP): setup.cfg pyproject.toml micrograd_plus/__init__.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[test]'
	touch $@

bench-venv: $(BENCH_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PIP) install -q -e '.[test,bench]'
	touch $@

demo: venv
	$(BIN)/micrograd-plus demo

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: bench-venv
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info micrograd_plus_out .pytest_cache .mypy_cache .ruff_cache .hypothesis
