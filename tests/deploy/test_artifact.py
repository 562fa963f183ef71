"""The artifact `sam build` makes imports on Lambda's layout: for every function of template.yaml, a fresh
python3.12 interpreter with only the built function directory, the built layer's ``python/`` (Lambda's
/opt/python) and the runtime's own packages on ``sys.path`` imports the handler and finds it callable.

`make test` builds the artifact first (reused while the sources are unchanged) and sets
TUISHOU_REQUIRE_ARTIFACT, so a missing build fails here instead of skipping."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess

import pytest

from tests.helpers.artifact import BUILD, RUNTIME_PACKAGES, require
from tools import template

# Runs inside one fresh interpreter (-I -S: no site-packages, no PYTHONPATH, no user site), reading a request
# on stdin. It imports the third-party packages that only the layer and the runtime ship (the same files on
# every function's sys.path) once, then forks one child per function: the child takes the function's own
# variables, directory and Lambda's sys.path order (the function's /var/task, the layers' /opt/python, the
# runtime's packages) and imports the handler, with tuishou and anything the function ships still unimported.
IMPORT_HANDLERS = r"""
import importlib, json, os, sys, traceback
request = json.load(sys.stdin)
sys.path[:0] = [request["layer_dir"], request["runtime_dir"]]
os.environ.clear()
os.environ.update(request["shared_environment"])
for name in request["preload"]:
    importlib.import_module(name)

def import_handler(function):
    os.environ.clear()
    os.environ.update(function["environment"])
    os.chdir(function["function_dir"])
    sys.path.insert(0, function["function_dir"])
    try:
        module = importlib.import_module(function["module"])
        handler = getattr(module, function["handler"], None)
        return {"callable": callable(handler), "module_file": module.__file__,
                "tuishou": importlib.import_module("tuishou").__file__}
    except BaseException as error:
        return {"error": traceback.format_exception_only(error)[-1].strip()}

results = {}
for function in request["functions"]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        with os.fdopen(write_end, "w") as out:
            json.dump(import_handler(function), out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as out:
        reported = out.read()
    _, status = os.waitpid(pid, 0)
    results[function["logical_id"]] = json.loads(reported) if reported else f"exit status {status}"
print(json.dumps(results))
"""

# Imported once before the forks (the bulk of a cold start's CPU): the handlers load them through tuishou and
# Powertools, and only the layer and the runtime ship them, the same files for every function (a package a
# function ships itself is left out, so its own copy still wins).
SHARED_PACKAGES = (
    "botocore.session",
    "boto3",
    "boto3.dynamodb.types",
    "pydantic",
    "aws_xray_sdk.core",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
)
FUNCTIONS = [spec.logical_id for spec in template.functions()]


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


def _import_request(specs: list[template.FunctionSpec]) -> dict:
    functions = []
    for spec in specs:
        module_name, handler_name = spec.handler.rsplit(".", 1)
        functions.append(
            {
                "logical_id": spec.logical_id,
                "function_dir": str(BUILD / spec.logical_id),
                "module": module_name,
                "handler": handler_name,
                "environment": _lambda_environment(spec),
            }
        )
    # The packages load with the variables every function has (a function's own value for those that differ)
    first, *others = (function["environment"] for function in functions)
    shared = {name: value for name, value in first.items() if all(name in other for other in others)}
    shipped = {path.name.removesuffix(".py") for spec in specs for path in (BUILD / spec.logical_id).iterdir()}
    return {
        "layer_dir": str(BUILD / "SharedLayer" / "python"),
        "runtime_dir": str(RUNTIME_PACKAGES),
        "shared_environment": shared,
        "preload": [name for name in SHARED_PACKAGES if name.split(".")[0] not in shipped],
        "functions": functions,
    }


@pytest.fixture(scope="module")
def imported_handlers(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, dict | str]:
    """Every function's handler imported from the artifact as Lambda imports it: logical id -> what the
    import found, or why it failed. One interpreter for all of them (see IMPORT_HANDLERS), once per run: the
    first pytest-xdist worker to get here imports them, the others read what it found."""
    require(BUILD / "template.yaml", RUNTIME_PACKAGES)
    if worker_id == "master":
        return _import_handlers()
    shared = tmp_path_factory.getbasetemp().parent / "artifact-handler-imports.json"  # this run's workers'
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not shared.exists():
            shared.write_text(json.dumps(_import_handlers()))
        imported: dict[str, dict | str] = json.loads(shared.read_text())
    return imported


def _import_handlers() -> dict[str, dict | str]:
    result = subprocess.run(
        [_python312(), "-I", "-S", "-B", "-c", IMPORT_HANDLERS],
        input=json.dumps(_import_request(template.functions())),
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    imported: dict[str, dict | str] = json.loads(result.stdout.strip().splitlines()[-1])
    return imported


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_the_handler_imports_from_the_built_artifact(imported_handlers: dict[str, dict | str], logical_id: str):
    # Given the built artifact and the Lambda runtime's interpreter
    # When the function's handler is imported as Lambda imports it
    outcome = imported_handlers[logical_id]
    # Then it imports, is callable, and the package comes from the built layer
    assert isinstance(outcome, dict) and "error" not in outcome, f"does not import from the artifact: {outcome}"
    assert outcome["callable"], outcome
    assert outcome["tuishou"].startswith(str(BUILD / "SharedLayer" / "python" / "tuishou")), outcome
    assert outcome["module_file"].startswith(str(BUILD / logical_id)), outcome


def test_layer_holds_the_package_where_lambda_looks_and_no_runtime_copies():
    require(BUILD / "template.yaml", RUNTIME_PACKAGES)
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
    require(BUILD / "template.yaml", RUNTIME_PACKAGES)
    built = (BUILD / "template.yaml").read_text()
    for spec in template.functions():
        assert spec.logical_id in built
