"""Fixtures: one moto server per test session (bound to 127.0.0.1), provisioned once from template.yaml by
the same code ``make local`` runs; before each test that uses it, the stack is put back to that freshly
provisioned state (``LocalStack.reset``: tables emptied, queues purged, users deleted, SSM restored)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

# Before any boto3 client or Powertools object exists: no real AWS, no tracing, quiet metrics.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Tuishou",
        "POWERTOOLS_SERVICE_NAME": "tuishou",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # LocalStack.reset purges the queues before every test; real SQS allows one purge a minute
        "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false",
    }
)

from tests.helpers.api import ApiClient
from tests.helpers.iam import CallRecorder
from tools.gateway import FunctionHost
from tools.local_stack import LocalStack

# Each pytest process imports some 2,700 modules and rewrites the assertions of the test modules; without
# cached bytecode (PYTHONDONTWRITEBYTECODE) every worker of every run compiles them all again, seconds of CPU
# each. __pycache__ is ignored by git.
sys.dont_write_bytecode = False


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
    grants only when the whole suite was collected. A test that needs no moto server (no ``stack`` in its
    fixtures) and no build is marked ``pure``: ``make unit`` runs those alone."""
    from tests.deploy.test_least_privilege import FULL_RUN

    config.stash[FULL_RUN] = _full_run(config)
    items.sort(key=lambda item: item.path.name == "test_least_privilege.py")
    for item in items:
        if "moto_endpoint" not in getattr(item, "fixturenames", ()) and item.path.parent.name != "deploy":
            item.add_marker(pytest.mark.pure)


@pytest.fixture(autouse=True)
def _pure_tests_call_no_aws(request: pytest.FixtureRequest) -> Iterator[None]:
    """A ``pure`` test that reaches for AWS fails at once (instead of using a stack another test left)."""
    if request.node.get_closest_marker("pure") is None:
        yield
        return
    from botocore.client import BaseClient

    calling = BaseClient._make_api_call

    def refuse(client, operation: str, params: dict) -> None:
        raise AssertionError(f"a pure test called AWS ({operation}): request the `stack` fixture")

    BaseClient._make_api_call = refuse
    try:
        yield
    finally:
        BaseClient._make_api_call = calling


def _full_run(config: pytest.Config) -> bool:
    """Whether the whole suite runs: no test selected by path, keyword or marker, except that the ``slow``
    scale tests may be left out (``make test``; ``make test-slow`` runs them). Under pytest-xdist the
    controller decides (a worker gets the paths as arguments); with ``TUISHOU_AWS_CALLS_DIR`` the runs whose
    calls were saved there decide (``make test`` runs the least-privilege checks after the parallel run)."""
    if config.option.keyword or config.option.markexpr not in ("", "not slow"):
        return False
    if hasattr(config, "workerinput"):
        return bool(config.workerinput.get("tuishou_full_run"))
    if saved := CallRecorder.saved_runs(os.environ.get("TUISHOU_AWS_CALLS_DIR")):
        return all(run["full_run"] for run in saved)
    return config.args_source == pytest.Config.ArgsSource.TESTPATHS


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist, on the controller: tell each worker whether the whole suite is running."""
    node.workerinput["tuishou_full_run"] = _full_run(node.config)


@pytest.fixture(scope="session", autouse=True)
def aws_calls(request: pytest.FixtureRequest) -> Iterator[CallRecorder]:
    """Every AWS call each function makes during the session (tests/deploy/test_least_privilege.py), with
    the calls earlier runs saved in ``TUISHOU_AWS_CALLS_DIR``; this run's calls are saved there too (one file
    per pytest-xdist worker), so a later run of the least-privilege checks sees every worker's calls."""
    from tests.deploy.test_least_privilege import FULL_RUN

    calls_dir = os.environ.get("TUISHOU_AWS_CALLS_DIR")
    recorder = CallRecorder()
    recorder.load(calls_dir)
    recorder.start()
    yield recorder
    recorder.stop()
    if calls_dir:
        worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
        recorder.save(calls_dir, f"{worker}-{os.getpid()}", request.config.stash.get(FULL_RUN, False))
    if report := os.environ.get("TUISHOU_AWS_CALLS_REPORT"):  # e.g. to write a policy from what is used
        recorder.write(report)


@pytest.fixture(scope="session")
def function_host() -> FunctionHost:
    """Handler modules load once per session, as warm Lambda containers keep them."""
    return FunctionHost()


@pytest.fixture(scope="session")
def provisioned_stack(moto_endpoint: str, function_host: FunctionHost) -> LocalStack:
    """The template's resources and provider secrets (an RSA key), created once per session."""
    return LocalStack(moto_endpoint, host=function_host).provision()


@pytest.fixture
def stack(provisioned_stack: LocalStack) -> LocalStack:
    """The session's stack as freshly provisioned: no test sees another's items, messages, users or
    parameters. The shared DynamoDB client is new too, so no test keeps another's botocore hooks."""
    from tuishou.dal import dynamo

    dynamo.reset()
    return provisioned_stack.reset()


@pytest.fixture
def api(stack: LocalStack) -> ApiClient:
    return ApiClient(stack)


# ---------------------------------------------------------------- fixtures: tasks
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


# ---------------------------------------------------------------- fixtures: payments
@pytest.fixture(autouse=True, scope="session")
def _serializable_dynamodb() -> None:
    """Concurrency tests need DynamoDB's transaction isolation, which moto lacks without this."""
    from tools.moto_fidelity import serialize_dynamodb

    serialize_dynamodb()


@pytest.fixture(autouse=True, scope="session")
def _cheap_transaction_rollback() -> None:
    """moto backs up whole tables for each transaction item; back up only the items it touches."""
    from tests.helpers.moto_rollback import cheap_transaction_rollback

    cheap_transaction_rollback()


@pytest.fixture(autouse=True)
def _fresh_provider_config() -> Iterator[None]:
    """No test reads provider secrets another test cached from SSM (a test may rotate them)."""
    from tuishou.dal import payer_key, provider_config

    provider_config.clear_cache()
    payer_key.clear_cache()
    yield
    provider_config.clear_cache()
    payer_key.clear_cache()


@pytest.fixture
def payments(stack: LocalStack):
    """Seeds attribution data and signs provider notifications for the payments tests."""
    from tests.helpers.payments import PaymentsKit

    return PaymentsKit(stack)


# ---------------------------------------------------------------- fixtures: channel tasks, notifications
@pytest.fixture
def fake_ledger(stack: LocalStack):
    """The ledger grant port, backed by the emulated LedgerTable (grant once per event id)."""
    from tests.helpers.channel_tasks import FakeLedger

    return FakeLedger()


@pytest.fixture
def dynamodb_requests(stack: LocalStack):
    """Counts DynamoDB requests and items read from the moment it is created."""
    from tests.helpers.channel_tasks import RequestCounter

    return RequestCounter()


# ---------------------------------------------------------------- fixtures: merchant insights


# ---------------------------------------------------------------- fixtures: compensation
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
