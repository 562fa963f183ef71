"""The events/ samples are real events their handlers accept (usable with `sam local invoke -e`)."""

import json
from pathlib import Path

import pytest

from tools import streams, template

EVENTS = Path(__file__).resolve().parents[2] / "events"
SCHEDULE_SAMPLES = {
    "ranking_schedule.json": "RankingRecalculationFunction",
    "reminder_schedule.json": "DeadlineReminderFunction",
    "insights_schedule.json": "MerchantInsightsFunction",
    "compensation_schedule.json": "CompensationScanFunction",
}
QUEUE_SAMPLES = {"compensation_scan_queue.json": "CompensationScanFunction"}
STREAM_SAMPLES = {
    "tracking_stream.json": "TrackingStreamFunction",
    "ledger_stream.json": "LedgerStreamFunction",
    "catalog_stream.json": "CatalogStreamFunction",
}
API_SAMPLES = sorted(
    p.name for p in EVENTS.glob("*.json") if p.name not in {**SCHEDULE_SAMPLES, **QUEUE_SAMPLES, **STREAM_SAMPLES}
)


def test_every_route_job_queue_and_stream_consumer_has_a_sample():
    # Given the samples in events/
    samples = [json.loads(p.read_text()) for p in EVENTS.glob("*.json")]
    routes = {(e["httpMethod"], e["resource"]) for e in samples if "httpMethod" in e}
    # Then every route of the template has one, and so does every schedule and every queue consumer
    assert {(r.method, r.path) for r in template.routes()} <= routes
    scheduled = {spec.logical_id for spec in template.functions() if spec.schedules}
    consumers = {spec.logical_id for spec in template.functions() if spec.queues}
    stream_consumers = {source.function_id for source in streams.sources()}
    assert scheduled <= set(SCHEDULE_SAMPLES.values())
    assert consumers <= set(QUEUE_SAMPLES.values())
    assert stream_consumers == set(STREAM_SAMPLES.values())


@pytest.mark.parametrize("name", API_SAMPLES)
def test_api_sample_reaches_its_route(stack, name):
    event = json.loads((EVENTS / name).read_text())
    [route] = [r for r in template.routes() if r.path == event["resource"] and r.method == event["httpMethod"]]
    result = stack.host.invoke(route.function_id, event)
    # Nothing exists in a fresh stack, so a domain 4xx is expected; never a routing, validation or server error
    assert result["statusCode"] not in (422, 500, 502), result
    assert "no such route" not in result.get("body", "")


def test_schedule_sample_runs_the_recalculation(stack):
    event = json.loads((EVENTS / "ranking_schedule.json").read_text())
    assert stack.host.invoke("RankingRecalculationFunction", event) == {
        "products": 0,
        "entries": 0,
        "reranked": 0,
        "skipped": 0,
    }


@pytest.mark.parametrize(("name", "function_id"), sorted(SCHEDULE_SAMPLES.items()))
def test_every_schedule_sample_runs_its_job(stack, name, function_id):
    event = json.loads((EVENTS / name).read_text())
    result = stack.host.invoke(function_id, event)
    assert isinstance(result, dict), result


def test_queue_sample_is_consumed_as_a_batch(stack):
    # Given an SQS record naming a scan that does not exist
    event = json.loads((EVENTS / "compensation_scan_queue.json").read_text())
    # When the consumer gets it
    result = stack.host.invoke("CompensationScanFunction", event)
    # Then it answers in the partial-batch shape Lambda's event source reads
    assert set(result) == {"batchItemFailures"}


@pytest.mark.parametrize(("name", "function_id"), sorted(STREAM_SAMPLES.items()))
def test_stream_sample_passes_its_filters_and_is_consumed(stack, name, function_id):
    # Given a DynamoDB Streams event as Lambda delivers it to the consumer
    event = json.loads((EVENTS / name).read_text())
    [source] = [s for s in streams.sources() if s.function_id == function_id]
    # Then its records are ones the event source mapping passes, and the consumer takes the whole batch
    assert all(source.passes(record) for record in event["Records"])
    assert stack.host.invoke(function_id, event) == {"batchItemFailures": []}
