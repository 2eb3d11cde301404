# The two commands a newcomer needs are `make demo` and `make test`; the rest is for contributors.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test test-sqlite test-postgres lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.app
	$(PIP) -e '.[test,lint]'
	@touch $@

demo: $(VENV)/.app
	$(BIN)/edibot demo

test: $(VENV)/.dev test-sqlite test-postgres

# Tests run in TEST_WORKERS processes (pytest-xdist); each PostgreSQL worker gets its own database.
TEST_WORKERS ?= 4

test-sqlite: $(VENV)/.dev
	@echo "== Test suite on SQLite"
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

# The PostgreSQL pass re-runs every test that touches the database (marker "db") against a real server.
test-postgres: $(VENV)/.dev
	@if [ -n "$$EDIBOT_TEST_POSTGRES_URL" ]; then \
		echo "== Database tests on PostgreSQL"; \
		EDIBOT_TEST_DATABASE_URL="$$EDIBOT_TEST_POSTGRES_URL" $(BIN)/python -m pytest -q -p no:cacheprovider -m db \
			-n $(TEST_WORKERS); \
	else \
		echo "== PostgreSQL pass SKIPPED: EDIBOT_TEST_POSTGRES_URL is not set (bash .ci/run sets it up)."; \
	fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Every benchmark runs even when an earlier one misses its target; then one table of every figure (against
# its anchor, the ratio, the target) is printed, and the target fails if any figure or script failed.
bench: $(VENV)/.dev
	@failed=""; results=$$(mktemp); \
	for script in bench/bench_*.py; do \
		echo "== $$script"; \
		EDIBOT_BENCH_RESULTS=$$results $(BIN)/python $$script || failed="$$failed $$script"; \
	done; \
	$(BIN)/python bench/summary.py $$results || failed="$$failed (a figure missed its target)"; \
	rm -f $$results; \
	if [ -n "$$failed" ]; then echo "== FAILED:$$failed"; exit 1; fi; \
	echo "== every benchmark passed"

clean:
	rm -rf $(VENV) data/demo .pytest_cache .mypy_cache .ruff_cache
