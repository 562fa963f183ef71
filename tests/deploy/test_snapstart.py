"""SnapStart as CloudFormation deploys it (the translated template): every function resumes its published
versions from a snapshot, within SnapStart's restrictions, and everything that invokes a function invokes
its alias (SnapStart never applies to ``$LATEST``: a trigger on the bare function would cold-start every time)."""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.helpers.artifact import RUNTIME_PACKAGES as RUNTIME
from tests.helpers.artifact import require
from tools import template

ALIAS = "live"
SNAPSTART_RUNTIMES = re.compile(r"^python3\.(1[2-9]|[2-9]\d)$")
MAX_EPHEMERAL_MB = 512


def _resources(of_type: str | None = None) -> dict[str, dict[str, Any]]:
    require(template.TRANSLATED_PATH)
    every: dict[str, dict[str, Any]] = template.translated()["Resources"]
    return {k: v for k, v in every.items() if of_type is None or v["Type"] == of_type}


def _functions() -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in _resources("AWS::Lambda::Function").items()}


def _alias_of(function: str) -> str:
    return f"{function}Alias{ALIAS}"


def _bare_references(value: Any, functions: set[str]) -> set[str]:
    """The functions ``value`` names without a qualifier: ``Ref``/``GetAtt .Arn`` of the function itself, or
    ``${Function}``/``${Function.Arn}`` inside a ``Sub``."""
    text = json.dumps(value)
    found = set(re.findall(r'"Ref": "(\w+)"', text)) | set(re.findall(r'"Fn::GetAtt": \["(\w+)", "Arn"\]', text))
    found |= set(re.findall(r"\$\{(\w+)(?:\.Arn)?\}", text))
    return found & functions


def test_every_function_snapstarts_its_published_versions_behind_the_alias():
    # Given every function as deployed
    functions = _functions()
    assert functions
    resources = _resources()
    for name, props in functions.items():
        # Then SnapStart applies to its published versions, on a runtime that supports it
        assert props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}, name
        assert SNAPSTART_RUNTIMES.match(props["Runtime"]), (name, props["Runtime"])
        # And the alias points at a version SAM publishes from it
        alias = resources.get(_alias_of(name))
        assert alias and alias["Type"] == "AWS::Lambda::Alias", f"{name} has no `{ALIAS}` alias"
        version = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        assert resources[version]["Type"] == "AWS::Lambda::Version"
        assert resources[version]["Properties"]["FunctionName"] == {"Ref": name}


def test_no_function_uses_what_snapstart_does_not_support():
    # Given the functions and their aliases
    functions = _functions()
    aliases = _resources("AWS::Lambda::Alias")
    # Then none has provisioned concurrency (on the alias or a version), EFS, or ephemeral storage over 512 MB
    for name, props in functions.items():
        assert "FileSystemConfigs" not in props, name
        assert props.get("EphemeralStorage", {}).get("Size", MAX_EPHEMERAL_MB) <= MAX_EPHEMERAL_MB, name
    for name, alias in aliases.items():
        assert "ProvisionedConcurrencyConfig" not in alias["Properties"], name
    for name, version in _resources("AWS::Lambda::Version").items():
        assert "ProvisionedConcurrencyConfig" not in version["Properties"], name


def test_every_trigger_invokes_the_alias_never_the_bare_function():
    # Given every resource that invokes a function: API routes (the REST and HTTP APIs' integrations and their
    # permissions), schedules (and their roles), queue and stream event sources, async invoke configs
    functions = set(_functions())
    invokers = {
        k: v
        for k, v in _resources().items()
        if v["Type"]
        in {
            "AWS::Lambda::Permission",
            "AWS::Lambda::EventSourceMapping",
            "AWS::Scheduler::Schedule",
            "AWS::ApiGateway::RestApi",
            "AWS::ApiGatewayV2::Api",
            "AWS::Events::Rule",
        }
        or (v["Type"] == "AWS::IAM::Role" and "lambda:InvokeFunction" in json.dumps(v))
    }
    assert any(v["Type"] == "AWS::Scheduler::Schedule" for v in invokers.values())
    # Then none names a function without its alias
    bare = {name: sorted(_bare_references(v, functions)) for name, v in invokers.items()}
    assert not {k: v for k, v in bare.items() if v}, f"invoke the bare function ($LATEST): {bare}"
    # And the event source mappings and permissions name the alias itself
    for name, resource in invokers.items():
        if resource["Type"] in {"AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping"}:
            target = resource["Properties"]["FunctionName"]["Ref"]
            assert target.endswith(f"Alias{ALIAS}") and target.removesuffix(f"Alias{ALIAS}") in functions, name
    # And every async invoke config (retries, on-failure destination) is the alias's, not $LATEST's
    configs = _resources("AWS::Lambda::EventInvokeConfig")
    assert configs
    for name, config in configs.items():
        assert config["Properties"]["Qualifier"] == ALIAS, name


# Runs in a fresh python3.12 laid out as Lambda lays out the function: imports the handler, then runs the hooks
# the runtime's snapshot_restore_py collected, as Lambda does around a snapshot, with every AWS request refused.
PRIME_AND_RESTORE = """
import importlib, json, sys
sys.path[:0] = sys.argv[1:4]
importlib.import_module(sys.argv[4])
imported = set(sys.modules)
import botocore.endpoint
import snapshot_restore_py as runtime
from aws_xray_sdk.core import patcher

def refuse(*args, **kwargs):
    raise AssertionError("a SnapStart hook sent an AWS request")

botocore.endpoint.Endpoint.make_request = refuse
for func, args, kwargs in reversed(runtime.get_before_snapshot()):
    func(*args, **kwargs)
for func, args, kwargs in runtime.get_after_restore():
    func(*args, **kwargs)
hooks = [f.__name__ for f, _, _ in runtime.get_before_snapshot() + runtime.get_after_restore()]
print(json.dumps({"runtime": runtime.__file__, "hooks": hooks, "primed": sorted(set(sys.modules) - imported),
                  "patched": sorted(patcher._PATCHED_MODULES), "client_at_import": "botocore.client" in imported}))
"""


def _prime_and_restore(python: str, spec: template.FunctionSpec) -> dict[str, Any]:
    from tools import import_time

    function_dir = import_time.BUILD / spec.logical_id
    layer = import_time.BUILD / "SharedLayer" / "python"
    env = import_time.lambda_environment(spec) | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    module = spec.handler.rsplit(".", 1)[0]
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", PRIME_AND_RESTORE, str(function_dir), str(layer), str(RUNTIME), module],
        cwd=function_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (spec.logical_id, result.stderr[-2000:])
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.slow  # 19 python3.12 processes (~30 s): CI runs it in `make test-slow`; every handler's import from the
# artifact stays in `make test` (tests/deploy/test_artifact.py)
def test_every_function_primes_and_restores_from_the_artifact_without_calling_aws():
    # Given the built artifact, the runtime's own snapshot_restore_py, and python3.12
    from tools import import_time

    require(import_time.BUILD / "template.yaml", RUNTIME)
    python = import_time.python312()
    specs = template.functions()
    # When each function's handler is imported and the runtime runs its hooks (any AWS request refused)
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = dict(
            zip([s.logical_id for s in specs], pool.map(lambda s: _prime_and_restore(python, s), specs), strict=True)
        )
    # Then every function registered both hooks with the runtime's library, and both ran without an AWS call
    for name, outcome in outcomes.items():
        assert outcome["hooks"] == ["prime", "restore"], name
        assert outcome["runtime"].startswith(str(RUNTIME)), name
        # And tracing (on, as on Lambda) patched botocore alone, once the primed clients existed
        assert outcome["patched"] == ["botocore"], name
    # And a function that never calls AWS (the Swagger page) does not load botocore's client machinery for
    # tracing's sake
    assert not outcomes["SwaggerFunction"]["client_at_import"]
    # And priming put what request paths import late into the snapshot: Alipay's RSA verification, the scan's
    # settlement
    assert "cryptography.hazmat.primitives.asymmetric.padding" in outcomes["WebhookFunction"]["primed"]
    assert "tuishou.logic.settlement" in outcomes["CompensationScanFunction"]["primed"]
