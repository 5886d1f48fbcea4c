# MiniCRM Desktop — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-deep lint typecheck pytest bench bench-segments bench-gui bench-delivery bench-history screenshots clean venv package package-onefile package-debug bench-startup

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
## The tests build the package and run its self-test (tests/test_package.py, about a minute);
## skip that locally with: make test PYTEST_ARGS="-m 'not package'"
test: lint typecheck pytest

## The same, with ten times the hypothesis examples (a longer run, on demand).
test-deep:
	$(MAKE) test MINICRM_HYPOTHESIS=deep

lint: venv
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy

pytest: venv
	QT_QPA_PLATFORM=offscreen MINICRM_HYPOTHESIS=$(or $(MINICRM_HYPOTHESIS),ci) $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/import_seed.py --customers 1000000 --json

bench-segments: venv
	$(BIN)/python benchmarks/segments.py --customers 1000000 --json

bench-gui: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/gui.py --json

bench-history: venv
	$(BIN)/python benchmarks/history.py --json

bench-delivery: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/delivery.py --recipients 100000 --repeats 3 --json

screenshots: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshots.py

## The packaged app (PyInstaller, build.spec), each build followed by its own self-test.
PYINSTALLER := $(BIN)/pyinstaller --noconfirm --log-level WARN

package: venv            ## one-folder release build: dist/MiniCRM/
	$(PYINSTALLER) build.spec
	dist/MiniCRM/MiniCRM --selftest

package-onefile: venv    ## a single self-extracting file: dist/onefile/MiniCRM
	MINICRM_ONEFILE=1 $(PYINSTALLER) --distpath dist/onefile --workpath build/onefile build.spec
	dist/onefile/MiniCRM --selftest

package-debug: venv      ## console build that shows the log: dist/debug/MiniCRM/
	MINICRM_DEBUG_BUILD=1 $(PYINSTALLER) --distpath dist/debug --workpath build/debug build.spec
	dist/debug/MiniCRM/MiniCRM --selftest

bench-startup: package
	$(BIN)/python benchmarks/startup.py --json

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
