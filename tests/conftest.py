"""Fixtures: one moto server per test session (bound to 127.0.0.1), and for each test a fresh emulated
account provisioned from template.yaml by the same code ``make local`` runs."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest

# Before any boto3 client or Powertools object exists: no real AWS, no tracing, quiet metrics.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Tuishou", "POWERTOOLS_SERVICE_NAME": "tuishou", "POWERTOOLS_LOG_LEVEL": "WARNING",
})

from tests.helpers.api import ApiClient
from tests.helpers.iam import CallRecorder
from tools.gateway import FunctionHost
from tools.local_stack import LocalStack


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The least-privilege checks read the calls every other test made: they run last, and judge unused
    grants only when the whole suite was collected."""
    from tests.deploy.test_least_privilege import FULL_RUN

    config.stash[FULL_RUN] = (config.args_source == pytest.Config.ArgsSource.TESTPATHS
                              and not config.option.keyword and not config.option.markexpr)
    items.sort(key=lambda item: item.path.name == "test_least_privilege.py")


@pytest.fixture(scope="session", autouse=True)
def aws_calls() -> Iterator[CallRecorder]:
    """Every AWS call each function makes during the session (tests/deploy/test_least_privilege.py)."""
    recorder = CallRecorder()
    recorder.start()
    yield recorder
    recorder.stop()
    if report := os.environ.get("TUISHOU_AWS_CALLS_REPORT"):  # e.g. to write a policy from what is used
        recorder.write(report)


@pytest.fixture(scope="session")
def function_host() -> FunctionHost:
    """Handler modules load once per session, as warm Lambda containers keep them."""
    return FunctionHost()


@pytest.fixture
def stack(moto_endpoint: str, function_host: FunctionHost) -> LocalStack:
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).read()
    from tuishou.dal import dynamo

    dynamo.reset()
    return LocalStack(moto_endpoint, host=function_host).provision()


@pytest.fixture
def api(stack: LocalStack) -> ApiClient:
    return ApiClient(stack)


# ---------------------------------------------------------------- fixtures: issue 3 (tasks)
# (keep fixtures of this feature between these markers)
@pytest.fixture
def dynamo_calls(stack: LocalStack) -> list[tuple[str, int]]:
    """Every DynamoDB request made through the shared client during the test: (operation, items read)."""
    from tuishou.dal import dynamo

    calls: list[tuple[str, int]] = []

    def _record(model, parsed, **_kwargs) -> None:
        if "Responses" in parsed:
            items = sum(len(v) for v in parsed["Responses"].values())
        else:
            items = parsed.get("ScannedCount", parsed.get("Count", 1 if parsed.get("Item") else 0))
        calls.append((model.name, items))

    dynamo.client().meta.events.register("after-call.dynamodb", _record)
    return calls
# ---------------------------------------------------------------- end of issue 3 fixtures


# ---------------------------------------------------------------- fixtures: issue 4 (payments)
# (keep fixtures of this feature between these markers)
@pytest.fixture(autouse=True, scope="session")
def _serializable_dynamodb() -> None:
    """Concurrency tests need DynamoDB's transaction isolation, which moto lacks without this."""
    from tools.moto_fidelity import serialize_dynamodb

    serialize_dynamodb()


@pytest.fixture(autouse=True)
def _fresh_provider_config() -> Iterator[None]:
    """Each test's stack generates new provider secrets: forget the ones cached from SSM."""
    from tuishou.dal import provider_config

    provider_config.clear_cache()
    yield
    provider_config.clear_cache()


@pytest.fixture
def payments(stack: LocalStack):
    """Seeds attribution data and signs provider notifications for the payments tests."""
    from tests.helpers.payments import PaymentsKit

    return PaymentsKit(stack)
# ---------------------------------------------------------------- end of issue 4 fixtures


# ---------------------------------------------------------------- fixtures: issue 5 (channel tasks, notifications)
# (keep fixtures of this feature between these markers)
@pytest.fixture
def fake_ledger(stack: LocalStack):
    """The issue-4 ledger grant port, backed by the emulated LedgerTable (grant once per event id)."""
    from tests.helpers.channel_tasks import FakeLedger

    return FakeLedger()


@pytest.fixture
def dynamodb_requests(stack: LocalStack):
    """Counts DynamoDB requests and items read from the moment it is created."""
    from tests.helpers.channel_tasks import RequestCounter

    return RequestCounter()
# ---------------------------------------------------------------- end of issue 5 fixtures


# ---------------------------------------------------------------- fixtures: issue 6 (merchant insights)
# (keep fixtures of this feature between these markers)
# ---------------------------------------------------------------- end of issue 6 fixtures


# ---------------------------------------------------------------- fixtures: issue 7 (compensation)
# (keep fixtures of this feature between these markers)
@pytest.fixture(autouse=True)
def _faults_off() -> Iterator[None]:
    """Each test starts with the fault switch unread (a fresh account has no /tuishou/faults: off)."""
    from tuishou.dal import faults as fault_store
    from tuishou.logic import faults

    faults.clear_cache()
    fault_store.reset()
    yield
    faults.clear_cache()


@pytest.fixture
def compensation_kit(stack: LocalStack, payments):
    """Drives settlements, fault injection and scans for the compensation tests."""
    from tests.helpers.compensation import CompensationKit

    return CompensationKit(stack, payments)
# ---------------------------------------------------------------- end of issue 7 fixtures
