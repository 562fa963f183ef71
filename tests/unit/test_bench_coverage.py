"""`make bench` measures every API route and scheduled job of template.yaml: a new one without a scenario
fails here (append its Scenario to bench/scenarios.ALL)."""

from bench import scenarios
from tools import template


def test_every_route_and_scheduled_job_has_a_bench_scenario():
    deployed = {f"{r.method} {r.path}" for r in template.routes()}
    deployed |= {f"job:{spec.logical_id}" for spec in template.functions() if spec.schedules}
    measured = {s.target for s in scenarios.ALL}
    assert deployed - measured == set(), "routes or jobs without a bench scenario"
    assert measured - deployed == set(), "scenarios for routes or jobs not in template.yaml"


def test_every_scenario_states_a_budget_and_scale_pairs_name_an_existing_row():
    names = {s.name for s in scenarios.ALL}
    assert len(names) == len(scenarios.ALL), "duplicate scenario names"
    for scenario in scenarios.ALL:
        assert scenario.budget, scenario.name
        assert scenario.same_as is None or scenario.same_as in names, scenario.name
