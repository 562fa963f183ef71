# Tuishou: `make local` serves the whole suite on moto; `make test` runs lint and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := layers/shared/python:.

.PHONY: install local test test-slow e2e console-deploy console-screenshot lint typecheck unit openapi bench soak clean build lock

$(STAMP): requirements-dev.txt layers/shared/requirements.txt functions/webhooks/requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

local: $(STAMP)
	$(BIN)/python -m tools.local_stack $(ARGS)

typecheck: $(STAMP)
	$(BIN)/mypy

lint: $(STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	POWERTOOLS_TRACE_DISABLED=true $(BIN)/python -m tools.openapi --check
	$(BIN)/vulture

# The pure tests only (no moto server, no build: tests/conftest.py marks them `pure`), in seconds.
unit: $(STAMP)
	$(BIN)/pytest -m pure $(PYTEST_ARGS)

# The deployable artifact: `sam build` (aws-sam-cli in its own venv, python3.12 found by tools/python312),
# rebuilt only when a source it packages has changed. LAMBDA_RUNTIME stands in for the runtime's own
# packages (boto3, snapshot-restore-py) when tests import handlers from the artifact.
BUILD_VENV := .venv-build
SAM := $(BUILD_VENV)/bin/sam
ARTIFACT := .aws-sam/build/template.yaml
LAMBDA_RUNTIME := .aws-sam/lambda-runtime/.installed
PACKAGED := template.yaml $(shell find functions layers -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null)

$(SAM): requirements-build.txt
	test -d $(BUILD_VENV) || $(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-build.txt
	touch $(SAM)

$(ARTIFACT): $(SAM) $(PACKAGED)
	@py312=$$(tools/python312) || exit 1; \
	PATH="$$(dirname $$py312):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build --parallel --template template.yaml
	touch $(ARTIFACT)

$(LAMBDA_RUNTIME): requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile --target $(dir $(LAMBDA_RUNTIME)) \
		$$(grep -E '^(boto3|snapshot-restore-py)==' requirements-dev.txt)
	touch $(LAMBDA_RUNTIME)

# The template as CloudFormation receives it (SAM transform applied), for the least-privilege test.
TRANSLATED := .aws-sam/translated-template.json
$(TRANSLATED): $(SAM) template.yaml
	$(BUILD_VENV)/bin/python -m tools.translate

build: $(ARTIFACT) $(LAMBDA_RUNTIME) $(TRANSLATED) $(STAMP)

lock: $(STAMP)
	$(BIN)/python -m tools.lock

# The suite but the `slow` scale tests, in three pytest-xdist workers (each with its own moto server and
# stack), then the least-privilege checks, which judge the AWS calls every worker saved in TEST_AWS_CALLS.
# Three workers on two cores, because a worker spends part of each test waiting for its own moto server's
# replies: measured on the 2-core machine, 101 s against 110-117 s with two, and four are slower
# (docs/operations.md).
# `make test-slow` runs the scale tests the same way (CI runs both); TEST_WORKERS=0: one process.
TEST_WORKERS ?= 3
TEST_AWS_CALLS := .local/test-aws-calls
PYTEST_PARALLEL = TUISHOU_REQUIRE_ARTIFACT=1 TUISHOU_AWS_CALLS_DIR=$(TEST_AWS_CALLS) $(BIN)/pytest -n $(TEST_WORKERS) \
	--ignore=tests/deploy/test_least_privilege.py --ignore=tests/e2e
LEAST_PRIVILEGE = TUISHOU_REQUIRE_ARTIFACT=1 TUISHOU_AWS_CALLS_DIR=$(TEST_AWS_CALLS) $(BIN)/pytest \
	tests/deploy/test_least_privilege.py
test: lint build
	rm -rf $(TEST_AWS_CALLS)
	$(PYTEST_PARALLEL) -m "not slow" $(PYTEST_ARGS)
	$(LEAST_PRIVILEGE)

# The scale tests; their calls join those `make test` saved (when run after it) for the least-privilege checks.
test-slow: $(STAMP) build
	$(PYTEST_PARALLEL) -m slow $(PYTEST_ARGS)
	$(LEAST_PRIVILEGE)

# The web console in a real browser (tests/e2e, docs/console.md): Playwright drives Debian's chromium
# (apt-get install chromium; nothing is downloaded at test time) against the local stack on a loopback port.
# Kept out of make test, whose time it would double; .ci/run runs it after.
e2e: $(STAMP)
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

# The README's picture of the merchant dashboard (docs/img/console-dashboard.png), from a seeded local stack.
console-screenshot: $(STAMP)
	$(BIN)/python -m tools.console_screenshot

# Publishes console/ to the stack's bucket with its config.json (docs/console.md); needs AWS credentials and a
# deployed stack (STACK, default the samconfig.toml stack name). Not run in CI.
STACK ?= tuishou-dev
console-deploy:
	STACK=$(STACK) tools/console_deploy.sh

openapi: $(STAMP)
	POWERTOOLS_TRACE_DISABLED=true $(BIN)/python -m tools.openapi

clean:
	rm -rf $(VENV) $(BUILD_VENV) .local .aws-sam

bench: $(STAMP) build
	$(BIN)/python -m bench.run $(ARGS)

soak: $(STAMP)
	$(BIN)/python -m tools.soak $(ARGS)
