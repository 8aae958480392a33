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

## make run: ingest the example workspace into ./var (embedded Oxigraph), then serve the API on
## 127.0.0.1:8000 with a bootstrap admin key (WARRANT_BOOTSTRAP_ADMIN_KEY, default a dev key)
DEV_KEY ?= dev-admin-key-change-me
run: $(STAMP)
	$(BIN)/warrant ingest
	@key="$${WARRANT_BOOTSTRAP_ADMIN_KEY:-$(DEV_KEY)}"; \
	echo ""; \
	echo "Warrant API   http://127.0.0.1:8000/v1/...   (OpenAPI: /openapi.json)"; \
	echo "SPARQL 1.1    http://127.0.0.1:8000/sparql"; \
	echo "Ops           http://127.0.0.1:8000/healthz  /readyz  /metrics"; \
	echo "Authenticate  curl -H 'X-API-Key: $$key' http://127.0.0.1:8000/v1/whoami"; \
	echo ""; \
	WARRANT_BOOTSTRAP_ADMIN_KEY="$$key" $(BIN)/warrant serve --host 127.0.0.1 --port 8000

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
