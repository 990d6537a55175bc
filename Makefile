# Backprop Studio: `make run` serves the dashboard, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run run-scaled test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(PY) -m app --host $(HOST) --port $(PORT)

# Scaled mode on loopback: redis-server, PostgreSQL (or $$DATABASE_URL), two web processes and
# two workers (app/transports/cluster.py); prints the URLs, Ctrl-C stops everything.
run-scaled: $(VENV)/.run-deps
	$(PY) -m app.cluster --web 2 --workers 2

# two test processes (pytest-xdist), a test file each at a time: the suite's module-scoped
# servers stay with their file; TEST_WORKERS=0 runs it in this process alone
TEST_WORKERS ?= 2
test: $(VENV)/.test-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.test-deps
	$(PY) -m ruff check .

bench: $(VENV)/.test-deps
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/streaming.py
	$(PY) benchmarks/storage.py
	$(PY) benchmarks/browser.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
