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
    "hold_release_schedule.json": "HoldReleaseFunction",
}
QUEUE_SAMPLES = {
    "compensation_scan_queue.json": "CompensationScanFunction",
    "ranking_queue.json": "RankingRecalculationFunction",
    "insights_queue.json": "MerchantInsightsFunction",
    "push_delivery_queue.json": "PushDeliveryFunction",
    "sms_delivery_queue.json": "SmsDeliveryFunction",
    "wechat_delivery_queue.json": "WechatDeliveryFunction",
}
STREAM_SAMPLES = {
    "tracking_stream.json": "TrackingStreamFunction",
    "ledger_stream.json": "LedgerStreamFunction",
    "catalog_stream.json": "CatalogStreamFunction",
    "notification_stream.json": "NotificationStreamFunction",
}
API_SAMPLES = sorted(
    p.name for p in EVENTS.glob("*.json") if p.name not in {**SCHEDULE_SAMPLES, **QUEUE_SAMPLES, **STREAM_SAMPLES}
)


def _route_of(event: dict) -> tuple[str, str] | None:
    """(method, path template) of an API sample: a REST v1 proxy event's, or an HTTP API payload v2 event's."""
    if "httpMethod" in event:
        return event["httpMethod"], event["resource"]
    if event.get("version") == "2.0":
        method, path = event["routeKey"].split(" ", 1)
        return method, path
    return None


def test_every_route_job_queue_and_stream_consumer_has_a_sample():
    # Given the samples in events/
    samples = [json.loads(p.read_text()) for p in EVENTS.glob("*.json")]
    routes = {_route_of(e) for e in samples} - {None}
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
    [route] = [r for r in template.routes() if (r.method, r.path) == _route_of(event)]
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


@pytest.mark.parametrize("name", ["ranking_queue.json", "insights_queue.json"])
def test_job_queue_samples_are_consumed_without_failures(stack, name):
    # Given a continuation of a re-rank that is not running, or one merchant shard holding no active task
    event = json.loads((EVENTS / name).read_text())
    # When the consumer gets it, then it succeeds and reports no failed message
    assert stack.host.invoke(QUEUE_SAMPLES[name], event)["batchItemFailures"] == []


@pytest.mark.parametrize(("name", "function_id"), sorted(STREAM_SAMPLES.items()))
def test_stream_sample_passes_its_filters_and_is_consumed(stack, name, function_id):
    # Given a DynamoDB Streams event as Lambda delivers it to the consumer
    event = json.loads((EVENTS / name).read_text())
    [source] = [s for s in streams.sources() if s.function_id == function_id]
    # Then its records are ones the event source mapping passes, and the consumer takes the whole batch
    assert all(source.passes(record) for record in event["Records"])
    assert stack.host.invoke(function_id, event) == {"batchItemFailures": []}
