# The README's first two commands: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make run: ingest the example workspace into ./var (embedded Oxigraph) and show the outcome
run: $(STAMP)
	$(BIN)/warrant ingest
	$(BIN)/warrant quarantine

## make test: install everything the tests need, then run them
test: $(STAMP)
	./scripts/system-deps.sh
	$(BIN)/ruff check engine connectors api cli tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check engine connectors api cli tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
