"""Cold start, measured on the artifact: for every function of template.yaml, the time a fresh python3.12
(``tools/python312``, the Lambda runtime's version) takes to import the handler module from what `make build`
made, laid out as Lambda lays it out (the function's folder, the layer's ``python/``, the runtime's own
packages in ``.aws-sam/lambda-runtime``), with tracing configured as on Lambda: Powertools tracing on
(``POWERTOOLS_TRACE_DISABLED`` unset), ``AWS_XRAY_CONTEXT_MISSING=LOG_ERROR``, and ``LAMBDA_TASK_ROOT`` set so
that the X-Ray SDK takes its Lambda path (its local sampler). Each figure is the median of several fresh
interpreters; the ratio is against ``import boto3`` alone in the same setting, sampled in turns with it (one
boto3 import, one handler import, run after run) so that a change in the machine's load touches both alike.

The time is the importing process's CPU time (``time.process_time``): the machines this runs on are shared,
and CPU time moves much less with their load than wall time (the probe prints both). Bytecode is
compiled once into ``.local/pycache-312`` (``-X pycache_prefix``, never into the artifact) before the timed
runs, so every figure is an import from bytecode; ``--source`` times compiling from source instead, which
is what a layer without ``.pyc`` files costs a cold start that no snapshot saves.

    python -m tools.import_time                                # the table (JSON with --json)
    python -m tools.import_time --importtime RedirectFunction  # its slowest imports (-X importtime)
    python -m tools.import_time --compare DIR                  # another build (DIR) against this one

`make bench` runs it (bench/results.json, "cold_start"); docs/performance.md keeps the table."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tools import template

BUILD = template.ROOT / ".aws-sam" / "build"
RUNTIME_PACKAGES = template.ROOT / ".aws-sam" / "lambda-runtime"
PYCACHE = template.ROOT / ".local" / "pycache-312"

# Lambda's order on sys.path: the function (/var/task), the layers (/opt/python), the runtime's packages.
_PROBE = """
import sys, time
sys.path[:0] = sys.argv[1:4]
wall, cpu = time.perf_counter(), time.process_time()
{statement}
print(time.process_time() - cpu, time.perf_counter() - wall)
"""
HANDLER = "import importlib; importlib.import_module(sys.argv[4])"
BOTO3 = "import boto3"


def python312() -> str:
    found = subprocess.run([str(template.ROOT / "tools" / "python312")], capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(found.stderr)
    return found.stdout.strip()


def lambda_environment(spec: template.FunctionSpec, build: Path = BUILD) -> dict[str, str]:
    """What Lambda sets for tracing and the handler, and the function's variables as CloudFormation resolves
    them (a parameter to its default, a resource to a placeholder); settings are validated at import."""
    defaults = template.parameter_defaults()

    def resolved(name: str, value: object) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and value.get("Ref") in defaults:
            return defaults[value["Ref"]]
        return f"placeholder-{name.lower()}"

    return {
        **{name: resolved(name, value) for name, value in spec.environment.items()},
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.properties.get("MemorySize", 512)),
        "LAMBDA_TASK_ROOT": str(build / spec.logical_id),
        "_HANDLER": spec.handler,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "PATH": os.environ.get("PATH", ""),
    }


def _flags(source: bool) -> tuple[str, ...]:
    return ("-B",) if source else ("-X", f"pycache_prefix={PYCACHE}")


def _run(
    python: str, spec: template.FunctionSpec, statement: str, flags: tuple[str, ...], build: Path
) -> subprocess.CompletedProcess[str]:
    """``statement`` in a fresh interpreter laid out as Lambda lays out the function (-I -S: nothing else)."""
    paths = [str(build / spec.logical_id), str(build / "SharedLayer" / "python"), str(RUNTIME_PACKAGES)]
    module = spec.handler.rsplit(".", 1)[0]
    result = subprocess.run(
        [python, "-I", "-S", *flags, "-c", _PROBE.format(statement=statement), *paths, module],
        cwd=build / spec.logical_id,
        env=lambda_environment(spec, build),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{spec.logical_id}: {result.stderr.strip()[-2000:]}")
    return result


def _seconds(
    python: str, spec: template.FunctionSpec, statement: str, flags: tuple[str, ...], build: Path
) -> tuple[float, float]:
    """(CPU, wall) seconds of ``statement``."""
    cpu, wall = _run(python, spec, statement, flags, build).stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def _in_turns(
    python: str, spec: template.FunctionSpec, turn: list[tuple[str, str, Path]], runs: int, source: bool = False
) -> dict[str, float]:
    """CPU ms medians of each (label, statement, build) of ``turn``, sampled one after the other, run by run, so
    that a change in the machine's load touches them alike."""
    flags = _flags(source)
    for _, statement, root in [] if source else turn:
        _seconds(python, spec, statement, flags, root)  # bytecode into the pycache prefix; not timed
    samples: dict[str, list[float]] = {label: [] for label, _, _ in turn}
    for _ in range(runs):
        for label, statement, root in turn:
            samples[label].append(_seconds(python, spec, statement, flags, root)[0] * 1000)
    return {label: statistics.median(values) for label, values in samples.items()}


def measure_all(runs: int = 5, build: Path = BUILD, source: bool = False) -> dict[str, object]:
    """Per function: the handler's import and ``import boto3``, in turns; the ratio of the two."""
    missing = [str(p) for p in (build / "template.yaml", RUNTIME_PACKAGES) if not p.exists()]
    if missing:
        raise SystemExit(f"not built: {', '.join(missing)} (run `make build`)")
    python = python312()
    functions = {}
    for spec in template.functions():
        ms = _in_turns(python, spec, [("boto3", BOTO3, build), ("handler", HANDLER, build)], runs, source)
        functions[spec.logical_id] = {
            "import_ms": round(ms["handler"], 1),
            "boto3_ms": round(ms["boto3"], 1),
            "ratio_vs_boto3": round(ms["handler"] / ms["boto3"], 2),
        }
    return {
        "baseline_import_boto3_ms": round(statistics.median(f["boto3_ms"] for f in functions.values()), 1),
        "runs": runs,
        "measure": f"CPU ms of the import from {'source' if source else 'bytecode'}, medians of fresh python3.12 "
        "processes, each function in turns with `import boto3`",
        "tracing": "on: X-Ray SDK local sampler (LAMBDA_TASK_ROOT set), AWS_XRAY_CONTEXT_MISSING=LOG_ERROR",
        "functions": functions,
    }


def compare(before: Path, runs: int = 9, build: Path = BUILD) -> dict[str, object]:
    """Two builds side by side: each function's handler from each build and ``import boto3``, in turns."""
    python = python312()
    rows: dict[str, dict[str, float]] = {}
    for spec in template.functions():
        turn = [("boto3", BOTO3, build), ("before", HANDLER, before), ("after", HANDLER, build)]
        ms = _in_turns(python, spec, turn, runs)
        rows[spec.logical_id] = {
            "boto3_ms": round(ms["boto3"], 1),
            "before_ms": round(ms["before"], 1),
            "before_ratio": round(ms["before"] / ms["boto3"], 2),
            "after_ms": round(ms["after"], 1),
            "after_ratio": round(ms["after"] / ms["boto3"], 2),
        }
    return {"runs": runs, "before": str(before), "functions": rows}


def render(cold: dict) -> list[str]:
    lines = [
        f"Cold start (handler import from the artifact, python3.12, tracing on; {cold['measure']}; "
        f"median `import boto3` = {cold['baseline_import_boto3_ms']} ms):",
        "",
        "| function | import CPU ms | import boto3 ms | x boto3 |",
        "|---|---|---|---|",
    ]
    for name, value in cold["functions"].items():
        lines.append(f"| {name} | {value['import_ms']} | {value['boto3_ms']} | {value['ratio_vs_boto3']} |")
    return lines


def importtime(logical_id: str, top: int = 25, build: Path = BUILD) -> list[str]:
    """``-X importtime`` of one handler import: the ``top`` modules by cumulative microseconds."""
    spec = next(s for s in template.functions() if s.logical_id == logical_id)
    python = python312()
    _seconds(python, spec, HANDLER, _flags(False), build)  # bytecode first, as the timed runs have it
    result = _run(python, spec, HANDLER, (*_flags(False), "-X", "importtime"), build)
    rows = []
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), int(parts[0]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return ["cumulative us | self us | module"] + [f"{c:>13} | {s:>7} | {m}" for c, s, m in rows[:top]]


def _path(text: str) -> Path:
    return Path(text).resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the measurement as JSON")
    parser.add_argument("--importtime", metavar="FUNCTION", help="a function's slowest imports (-X importtime)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--source", action="store_true", help="time compiling from source (no bytecode)")
    parser.add_argument("--build", type=_path, default=BUILD, help="another `sam build` output to measure")
    parser.add_argument("--compare", type=_path, metavar="BEFORE", help="a build to compare with, row by row")
    args = parser.parse_args(argv)
    if args.importtime:
        print("\n".join(importtime(args.importtime, args.top, args.build)))
        return 0
    if args.compare:
        print(json.dumps(compare(args.compare, args.runs, args.build), indent=2))
        return 0
    cold = measure_all(args.runs, args.build, args.source)
    print(json.dumps(cold, indent=2) if args.json else "\n".join(render(cold)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
