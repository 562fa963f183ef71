"""The artifact `sam build` makes imports on Lambda's layout: for every function of template.yaml, a fresh
python3.12 interpreter with only the built function directory, the built layer's ``python/`` (Lambda's
/opt/python) and the runtime's own packages on ``sys.path`` imports the handler and finds it callable.

`make test` builds the artifact first (reused while the sources are unchanged) and sets
TUISHOU_REQUIRE_ARTIFACT, so a missing build fails here instead of skipping."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.artifact import BUILD, RUNTIME_PACKAGES, require
from tools import template

# Runs inside the fresh interpreter (-I -S: no site-packages, no PYTHONPATH, no user site). Lambda's order:
# the function (/var/task), the layers (/opt/python), then the runtime's packages.
IMPORT_HANDLER = """
import importlib, json, sys
function_dir, layer_dir, runtime_dir, module_name, handler_name = sys.argv[1:6]
sys.path[:0] = [function_dir, layer_dir, runtime_dir]
module = importlib.import_module(module_name)
handler = getattr(module, handler_name, None)
print(json.dumps({"callable": callable(handler), "module_file": module.__file__,
                  "tuishou": importlib.import_module("tuishou").__file__}))
"""


def _artifact_or_skip() -> None:
    require(BUILD / "template.yaml", RUNTIME_PACKAGES)


def _python312() -> str:
    found = subprocess.run([str(template.ROOT / "tools" / "python312")], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(found.stderr)
    return found.stdout.strip()


def _lambda_environment(spec: template.FunctionSpec) -> dict[str, str]:
    """What Lambda sets, plus the function's own variables as CloudFormation resolves them: a parameter to its
    default (the settings are validated at import), a resource to a placeholder name."""
    defaults = template.parameter_defaults()

    def resolved(name: str, value: object) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and value.get("Ref") in defaults:
            return defaults[value["Ref"]]
        return f"placeholder-{name.lower()}"

    variables = {name: resolved(name, value) for name, value in spec.environment.items()}
    return {
        **variables,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "LAMBDA_TASK_ROOT": str(BUILD / spec.logical_id),
        "_HANDLER": spec.handler,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "PATH": os.environ.get("PATH", ""),
    }


def _import_from_artifact(python: str, spec: template.FunctionSpec) -> tuple[str, dict | str]:
    function_dir = BUILD / spec.logical_id
    module_name, handler_name = spec.handler.rsplit(".", 1)
    result = subprocess.run(
        [
            python,
            "-I",
            "-S",
            "-B",
            "-c",
            IMPORT_HANDLER,
            str(function_dir),
            str(BUILD / "SharedLayer" / "python"),
            str(RUNTIME_PACKAGES),
            module_name,
            handler_name,
        ],
        cwd=function_dir,
        env=_lambda_environment(spec),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        return spec.logical_id, result.stderr.strip().splitlines()[-1] if result.stderr else "no output"
    return spec.logical_id, json.loads(result.stdout.strip().splitlines()[-1])


def test_every_handler_imports_from_the_built_artifact():
    # Given the built artifact and the Lambda runtime's interpreter
    _artifact_or_skip()
    python = _python312()
    specs = template.functions()
    # When each function's handler is imported as Lambda imports it
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(lambda spec: _import_from_artifact(python, spec), specs))
    # Then every handler imports, is callable, and the package comes from the built layer
    failures = {
        logical_id: outcome
        for logical_id, outcome in results.items()
        if not isinstance(outcome, dict) or not outcome["callable"]
    }
    assert not failures, f"handlers that do not import from the artifact: {failures}"
    layer = str(BUILD / "SharedLayer" / "python" / "tuishou")
    for logical_id, outcome in results.items():
        assert isinstance(outcome, dict)
        assert outcome["tuishou"].startswith(layer), (logical_id, outcome)
        assert outcome["module_file"].startswith(str(BUILD / logical_id)), (logical_id, outcome)


def test_layer_holds_the_package_where_lambda_looks_and_no_runtime_copies():
    _artifact_or_skip()
    layer = BUILD / "SharedLayer"
    # Lambda adds /opt/python to sys.path: the package must be python/tuishou, not python/python/tuishou
    assert (layer / "python" / "tuishou" / "__init__.py").is_file()
    assert not (layer / "python" / "python").exists()
    # boto3 and botocore come with the runtime; a copy in the layer would shadow it
    shipped = {p.name for p in (layer / "python").iterdir()}
    assert not shipped & {"boto3", "botocore", "s3transfer"}, shipped
    # cryptography is the webhook function's alone
    assert "cryptography" not in shipped
    assert (BUILD / "WebhookFunction" / "cryptography").is_dir()


def test_built_template_keeps_every_function():
    _artifact_or_skip()
    built = (BUILD / "template.yaml").read_text()
    for spec in template.functions():
        assert spec.logical_id in built
