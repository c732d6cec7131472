# Everyday commands. Each target creates and fills the local virtual environment .venv first;
# the stamp file makes that cheap when nothing in the packaging changed.

PYTHON ?= $(shell python3.11 -c 'pass' >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-demo
BENCH_STAMP := $(VENV)/.installed-bench
DOCS_STAMP := $(VENV)/.installed-docs
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: venv demo-venv bench-venv docs-venv demo test test-reference lint format bench docs docs-serve clean

venv: $(STAMP)

# __init__.py holds __version__: reinstalling keeps the installed metadata's version in step.
$(STAMP): setup.cfg pyproject.toml micrograd_plus/__init__.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[test,docs]'
	touch $@

# The package and its runtime dependencies alone: what `make demo` needs (no test tools).
demo-venv: $(DEMO_STAMP)

$(DEMO_STAMP): setup.cfg pyproject.toml micrograd_plus/__init__.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e .
	touch $@

bench-venv: $(BENCH_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PIP) install -q -e '.[test,bench]'
	touch $@

# The docs' tools alone, for `make docs` on a fresh clone (the test stamp installs them too,
# since the test suite builds the site).
docs-venv: $(DOCS_STAMP)

$(DOCS_STAMP): setup.cfg pyproject.toml micrograd_plus/__init__.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[docs]'
	touch $@

demo: demo-venv
	$(BIN)/micrograd-plus demo

test: venv
	$(BIN)/python -m pytest -q

# The whole suite again with the reference engine (engine.py as a learner reads it) as the default.
test-reference: venv
	MICROGRAD_PLUS_ENGINE=reference $(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	# a user's code type-checks strictly against the package (its errors silenced, as when installed)
	$(BIN)/mypy --strict --follow-imports=silent tests/test_typed_user_code.py

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: bench-venv
	$(BIN)/python benchmarks/run.py

# The documentation site, built strictly (any warning fails) into site/.
docs: docs-venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir site

docs-serve: docs-venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve --dev-addr 127.0.0.1:8000

clean:
	rm -rf $(VENV) site build dist *.egg-info micrograd_plus_out .pytest_cache .mypy_cache .ruff_cache .hypothesis
