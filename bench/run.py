"""``make bench``: every route and scheduled job measured on moto in-process; prints a table and writes
bench/results.json. Scenarios live in bench/scenarios.py."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
import urllib.request
import warnings
from dataclasses import asdict
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="timed calls per scenario")
    parser.add_argument("--coldstart-runs", type=int, default=5)
    parser.add_argument("--only", default="", help="substring filter on scenario names")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Tuishou")  # as the template's Globals set it

    from moto.server import ThreadedMotoServer

    from bench import artifact, baseline, scenarios
    from bench.harness import DynamoCounter, measure, percentile
    from tests.helpers.moto_rollback import cheap_transaction_rollback
    from tools import import_time
    from tools.gateway import FunctionHost
    from tools.local_stack import LocalStack
    from tuishou.dal import provider_config

    cheap_transaction_rollback()  # as the tests do: moto's per-item table deepcopy now copies whole streams too
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    counter = DynamoCounter()
    functions = FunctionHost()
    rows = []
    try:
        for scenario in scenarios.ALL:
            if args.only and args.only not in scenario.name:
                continue
            started = time.perf_counter()
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
            stack = LocalStack(endpoint, host=functions).provision()
            provider_config.clear_cache()  # each account has new provider secrets
            counter.install()
            context = scenarios.BenchContext(stack, functions)
            prepared = scenario.setup(context)
            runs = scenario.runs or args.runs
            counts, latencies = measure(counter, prepared.call, runs, prepared.prepare)
            baseline_p50 = None
            if scenario.baseline:
                baseline.seed()
                operations = baseline.operations_list(counts["operations"])
                _, base_latencies = measure(counter, lambda ops=operations: baseline.call(ops), runs)
                baseline_p50 = percentile(base_latencies, 50)
            rows.append(scenario.result(counts, percentile(latencies, 50), percentile(latencies, 95), baseline_p50))
            print(
                f"  measured {scenario.name}: {counts['requests']} requests ({time.perf_counter() - started:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    finally:
        server.stop()

    apply_scale_checks(rows, scenarios.ALL)
    cold = import_time.measure_all(args.coldstart_runs)  # from the artifact `make bench` builds first
    sizes = artifact.measure()
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "runs": args.runs},
        "scenarios": [asdict(r) | {"ratio_vs_baseline": r.ratio} for r in rows],
        "cold_start": cold,
        "artifact": sizes,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(render_table(rows))
    print()
    print("\n".join(import_time.render(cold)))
    print("\n".join(artifact.render(sizes)))
    failed = [r.name for r in rows if r.within_budget is False]
    if failed:
        print(f"\nover budget: {', '.join(failed)}")
    return 0


def apply_scale_checks(rows: list, all_scenarios: list) -> None:
    """A ×20 row is within budget only if its requests and items read equal its ×1 row's (flat cost)."""
    by_name = {r.name: r for r in rows}
    for scenario in all_scenarios:
        row, small = by_name.get(scenario.name), by_name.get(scenario.same_as or "")
        if row is None or small is None:
            continue
        flat = (row.requests, row.items_read) == (small.requests, small.items_read)
        row.within_budget = bool(row.within_budget is not False and flat)
        row.notes = (row.notes + "; " if row.notes else "") + (
            "flat vs x1" if flat else f"NOT flat vs x1 ({small.requests} req, {small.items_read} items)"
        )


def render_table(rows: list) -> str:
    lines = [
        "| scenario | DynamoDB requests | items read | scans | write units | largest item B | p50 ms | p95 ms "
        "| x baseline | budget | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ok = {True: "yes", False: "NO", None: "-"}[r.within_budget]
        lines.append(
            f"| {r.name} | {r.requests:g} | {r.items_read:g} | {r.scans} | {r.write_units} | {r.largest_item_written} "
            f"| {r.p50_ms:.2f} | {r.p95_ms:.2f} "
            f"| {r.ratio if r.ratio is not None else '-'} | {r.budget or '-'} | {ok} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
