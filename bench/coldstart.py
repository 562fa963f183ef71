"""Cold start: the import time of each function's handler module in a fresh interpreter (median of
several runs), as a ratio against ``import boto3`` alone."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from tools import template

_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
{statement}
print(time.perf_counter() - started)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Tuishou",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    return env


def _time(statement: str, runs: int) -> float:
    paths = [str(template.ROOT / "layers" / "shared" / "python"), str(template.ROOT)]
    code = _PROBE.format(paths=paths, statement=statement)
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)


def _import_statement(spec: template.FunctionSpec) -> str:
    return (
        f"import importlib.util as u; s = u.spec_from_file_location('handler', {str(spec.module_path)!r}); "
        "m = u.module_from_spec(s); s.loader.exec_module(m)"
    )


def measure_all(runs: int = 5) -> dict[str, object]:
    baseline = _time("import boto3", runs)
    functions = {}
    for spec in template.functions():
        ms = _time(_import_statement(spec), runs)
        functions[spec.logical_id] = {"import_ms": round(ms, 1), "ratio_vs_boto3": round(ms / baseline, 2)}
    return {"baseline_import_boto3_ms": round(baseline, 1), "runs": runs, "functions": functions}


if __name__ == "__main__":
    print(json.dumps(measure_all(), indent=2))
