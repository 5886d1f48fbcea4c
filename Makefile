# MiniCRM Desktop — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench bench-segments bench-gui bench-delivery bench-history screenshots clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "MiniCRM needs Python 3.11 or newer; try: make PYTHON=python3.11 $(MAKECMDGOALS)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Open the desktop app on the embedded SQLite database (or MINICRM_DATABASE_URL).
run: venv
	$(BIN)/python -m minicrm_desktop

## Lint, type-check and run every test (MariaDB tests need MINICRM_TEST_MYSQL_URL or a local server).
test: lint typecheck pytest

lint: venv
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy

pytest: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/import_seed.py --customers 1000000 --json

bench-segments: venv
	$(BIN)/python benchmarks/segments.py --customers 1000000 --json

bench-gui: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/gui.py --json

bench-history: venv
	$(BIN)/python benchmarks/history.py --json

bench-delivery: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/delivery.py --recipients 100000 --json

screenshots: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshots.py

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
