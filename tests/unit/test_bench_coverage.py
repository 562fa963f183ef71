"""`make bench` measures every API route, scheduled job and stream consumer of template.yaml: a new one
without a scenario fails here (append its Scenario to bench/scenarios.ALL)."""

from bench import scenarios
from tools import streams, template


def test_every_route_scheduled_job_and_stream_consumer_has_a_bench_scenario():
    deployed = {f"{r.method} {r.path}" for r in template.routes()}
    deployed |= {f"job:{spec.logical_id}" for spec in template.functions() if spec.schedules}
    deployed |= {f"stream:{source.function_id}" for source in streams.sources()}
    measured = {s.target for s in scenarios.ALL}
    assert deployed - measured == set(), "routes, jobs or stream consumers without a bench scenario"
    assert measured - deployed == set(), "scenarios for routes, jobs or stream consumers not in template.yaml"


def test_every_scenario_states_a_budget_and_scale_pairs_name_an_existing_row():
    names = {s.name for s in scenarios.ALL}
    assert len(names) == len(scenarios.ALL), "duplicate scenario names"
    for scenario in scenarios.ALL:
        assert scenario.budget, scenario.name
        assert scenario.same_as is None or scenario.same_as in names, scenario.name
