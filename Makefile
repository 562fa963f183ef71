# Tuishou: `make local` serves the whole suite on moto; `make test` runs lint and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := layers/shared/python:.

.PHONY: install local test lint unit openapi bench soak clean

$(STAMP): requirements-dev.txt layers/shared/requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

local: $(STAMP)
	$(BIN)/python -m tools.local_stack $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	POWERTOOLS_TRACE_DISABLED=true $(BIN)/python -m tools.openapi --check

unit: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint unit

openapi: $(STAMP)
	POWERTOOLS_TRACE_DISABLED=true $(BIN)/python -m tools.openapi

clean:
	rm -rf $(VENV) .local .aws-sam

bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

soak: $(STAMP)
	$(BIN)/python -m tools.soak $(ARGS)
