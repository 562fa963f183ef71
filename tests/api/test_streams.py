"""The local DynamoDB Streams event sources (tools/streams.py) behave as Lambda's: the event shape, the
template's filters, batches, partial failures, bisection, the on-failure queue, quiescence and replays."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.helpers.streams import (
    RecordingDerive,
    ScriptedHost,
    add,
    clicks,
    failure_messages,
    pk,
    put,
    sequence,
    stream_arn,
)
from tools.local_stack import _poll_streams
from tools.streams import StreamPoller
from tuishou.dal import keys
from tuishou.logic import catalog_changes, ledger_changes, tracking_changes

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def derived(monkeypatch: pytest.MonkeyPatch) -> RecordingDerive:
    """The tracking consumer's derive, replaced by a recording fake (the real consumer handler runs)."""
    fake = RecordingDerive()
    monkeypatch.setattr(tracking_changes, "derive", fake)
    return fake


@pytest.fixture
def invocations(stack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Every event the stack's function host is invoked with (the handlers still run)."""
    seen: list[tuple[str, dict]] = []
    invoke = stack.host.invoke

    def recording(function_id: str, event: dict):
        seen.append((function_id, event))
        return invoke(function_id, event)

    monkeypatch.setattr(stack.host, "invoke", recording)
    return seen


def _poller(stack, answer) -> tuple[StreamPoller, ScriptedHost]:
    host = ScriptedHost(answer)
    return StreamPoller(host, stack.physical, stack.endpoint_url, "us-east-1"), host  # type: ignore[arg-type]


# ---------------------------------------------------------------- the event
def test_a_new_click_reaches_its_consumer_as_lambdas_event(stack, invocations):
    # Given a click written to the tracking table
    put(stack, "TrackingTable", keys.click("c1"), channel="web", weight=3)
    # When the streams are drained
    assert stack.drain_streams() == 1
    # Then the tracking consumer got one record, shaped as Lambda's (the events/ sample is AWS's shape)
    [(function_id, event)] = invocations
    assert function_id == "TrackingStreamFunction"
    sample = json.loads((EVENTS / "tracking_stream.json").read_text())["Records"][0]
    [record] = event["Records"]
    assert set(record) == set(sample)
    assert set(record["dynamodb"]) == set(sample["dynamodb"]) - {"OldImage"} | {"NewImage"}
    assert (record["eventName"], record["eventSource"], record["eventVersion"]) == ("INSERT", "aws:dynamodb", "1.1")
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == stream_arn(stack, "TrackingTable")
    data = record["dynamodb"]
    assert isinstance(data["ApproximateCreationDateTime"], int)
    assert isinstance(data["SequenceNumber"], str) and isinstance(data["SizeBytes"], int)
    assert data["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert data["Keys"] == {"pk": {"S": "CLICK#c1"}, "sk": {"S": "CLICK"}}
    assert data["NewImage"]["channel"] == {"S": "web"} and data["NewImage"]["weight"] == {"N": "3"}
    assert "OldImage" not in data


def test_a_modified_item_carries_both_images(stack, invocations):
    # Given a promoter channel counter, created and then changed
    channel = keys.promoter_channel("p1", "web")
    add(stack, "TrackingTable", channel, "clicks")
    add(stack, "TrackingTable", channel, "clicks")
    # When the streams are drained
    assert stack.drain_streams() == 1
    # Then only the change was delivered (the filter passes MODIFY of channel items), with both images
    [(_, event)] = invocations
    [record] = event["Records"]
    assert record["eventName"] == "MODIFY"
    assert record["dynamodb"]["OldImage"]["clicks"] == {"N": "1"}
    assert record["dynamodb"]["NewImage"]["clicks"] == {"N": "2"}


# ---------------------------------------------------------------- the template's filters
def test_each_consumer_gets_exactly_the_records_its_filters_pass(stack, invocations):
    # Given facts and derived items written to the three tables
    put(stack, "TrackingTable", keys.click("c1"))
    put(stack, "TrackingTable", keys.share("l1", "s1"), channel="web")
    put(stack, "TrackingTable", keys.link("l1"))
    put(stack, "TrackingTable", keys.click_coupon("c1"))
    add(stack, "TrackingTable", keys.promoter_channel("p1", "web"), "clicks")  # INSERT: passed over
    add(stack, "TrackingTable", keys.promoter_channel("p1", "web"), "clicks")  # MODIFY: delivered
    add(stack, "TrackingTable", keys.promoter_task_history("p1", "x1"), "clicks", 2)
    put(stack, "LedgerTable", keys.settlement("stripe", "pay1"), status="settled")
    put(stack, "LedgerTable", keys.settlement("stripe", "pay1"), status="refunded")
    put(stack, "LedgerTable", keys.refund("stripe", "pay1", 100))
    put(stack, "CatalogTable", keys.product("x1"), status="active")  # INSERT: passed over
    put(stack, "CatalogTable", keys.product("x1"), status="paused")  # MODIFY: delivered
    add(stack, "CatalogTable", keys.product_counters("x1", 3), "clicks")
    add(stack, "CatalogTable", keys.product_counters("x1", 3), "clicks")
    # When the streams are drained
    delivered = stack.drain_streams()
    # Then each consumer saw only what it derives from
    seen: dict[str, list[tuple[str, str, str]]] = {}
    for function_id, event in invocations:
        for r in event["Records"]:
            key = (r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["Keys"]["sk"]["S"])
            seen.setdefault(function_id, []).append(key)
    assert seen == {
        "TrackingStreamFunction": [
            ("INSERT", "CLICK#c1", "CLICK"),
            ("INSERT", "LINK#l1", "SHARE#s1"),
            ("MODIFY", "PROMOTER#p1", "CHANNEL#web"),
        ],
        "LedgerStreamFunction": [
            ("INSERT", "PAYMENT#stripe#pay1", "SETTLEMENT"),
            ("MODIFY", "PAYMENT#stripe#pay1", "SETTLEMENT"),
        ],
        "CatalogStreamFunction": [("MODIFY", "PRODUCT#x1", "PRODUCT")],
    }
    assert delivered == 6


# ---------------------------------------------------------------- batches and failures
def test_records_arrive_in_stream_order_in_batches_of_the_templates_size(stack, derived):
    # Given more clicks than one batch holds (BatchSize 100)
    ids = clicks(stack, 130)
    # When the streams are drained
    assert stack.drain_streams() == 130
    # Then every click was derived once, in order, in chunks of at most 25 from batches of 100 and 30
    assert derived.seen == ids
    assert [len(c) for c in derived.chunks] == [25, 25, 25, 25, 25, 5]


def test_a_failed_chunk_is_retried_from_its_first_record_and_nothing_before_it_again(stack, derived):
    # Given 30 clicks, and a derive that fails once on the second chunk (records 25..29)
    ids = clicks(stack, 30)
    derived.flaky = {ids[27]}
    # When the streams are drained
    assert stack.drain_streams() == 30
    # Then the consumer reported the chunk, and Lambda retried from its first record: only 25..29 twice
    assert derived.seen == ids + ids[25:]
    assert failure_messages(stack) == []


def test_partial_failure_retries_from_the_reported_record(stack):
    # Given a consumer that reports the 4th of 6 records failed on its first delivery
    clicks(stack, 6)

    def answer(_function_id, records):
        if len(host.invocations) == 1:
            return {"batchItemFailures": [{"itemIdentifier": sequence(records[3])}]}
        return {"batchItemFailures": []}

    poller, host = _poller(stack, answer)
    # When the streams are drained
    assert poller.drain() == 6
    # Then the retry starts at that record: the three before it are checkpointed
    first, retry = host.invocations
    assert [pk(r) for r in retry[1]] == [pk(r) for r in first[1][3:]]
    assert failure_messages(stack) == []


def test_an_item_identifier_not_in_the_batch_fails_the_whole_batch(stack):
    # Given a consumer whose first answer names a record that is not in the batch
    clicks(stack, 4)
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "nonsense"}]}])
    poller, host = _poller(stack, lambda *_: next(answers, {"batchItemFailures": []}))
    # When the streams are drained
    poller.drain()
    # Then Lambda treated it as a function error: the batch was split in two and both halves delivered
    assert host.sizes() == [4, 2, 2]


def test_a_poison_record_is_bisected_out_sent_to_the_failure_queue_and_the_stream_moves_on(stack, derived):
    # Given ten clicks, the fifth of which no derive can ever handle
    ids = clicks(stack, 10)
    derived.poison = {ids[4]}
    # When the streams are drained
    assert stack.drain_streams() == 10
    # Then every other click was derived, and the poison record alone went to the on-failure queue
    assert sorted(derived.done) == sorted(set(ids) - {ids[4]})
    [failure] = failure_messages(stack)
    info = failure["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"] == stream_arn(stack, "TrackingTable")
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 6  # the first try and MaximumRetryAttempts 5
    assert failure["requestContext"]["functionArn"].endswith(":function:TrackingStreamFunction")
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert {"shardId", "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"} <= set(info)
    # And the stream is not wedged: the next click is delivered, and the poison record never again
    derived.chunks.clear()
    derived.done.clear()
    later = clicks(stack, 1, prefix="later")
    assert stack.drain_streams() == 1
    assert derived.seen == later == derived.done
    assert failure_messages(stack) == []


def test_a_function_error_splits_the_batch_until_the_failing_record_is_alone(stack):
    # Given eight records and a consumer that crashes on any batch holding the third
    clicks(stack, 8)

    def answer(_function_id, records):
        if any(pk(r) == "CLICK#clk002" for r in records):
            raise RuntimeError("crash")
        return {"batchItemFailures": []}

    poller, host = _poller(stack, answer)
    # When the streams are drained
    assert poller.drain() == 8
    # Then the failing half was halved again (a split counts no retry) until the record was alone, which was
    # retried 5 times; every other record was delivered once in a batch that succeeded
    assert host.sizes() == [8, 4, 2, 2] + [1] * 6 + [1, 4]
    [failure] = failure_messages(stack)
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert poller.failed_batches == 1


# ---------------------------------------------------------------- quiescence, replay, reset
def test_drain_follows_the_consumers_own_writes_and_then_is_quiescent(stack, monkeypatch):
    # Given a channel counter, and a tracking derive that counts each click on it (a MODIFY it consumes too)
    add(stack, "TrackingTable", keys.promoter_channel("p1", "web"), "clicks")
    assert stack.drain_streams() == 0  # the counter's INSERT is filtered out

    def count_clicks(changes):
        for change in changes:
            if change.key[0].startswith("CLICK#"):
                add(stack, "TrackingTable", keys.promoter_channel("p1", "web"), "clicks")

    monkeypatch.setattr(tracking_changes, "derive", RecordingDerive(also=count_clicks))
    clicks(stack, 2)
    # When the streams are drained
    delivered = stack.drain_streams()
    # Then the clicks and the two counter changes they caused were all delivered, and nothing is left
    assert delivered == 4
    assert stack.drain_streams() == 0


def test_a_consumer_that_feeds_itself_forever_is_reported_not_looped(stack, monkeypatch):
    # Given a derive that answers every counter change with another one
    add(stack, "TrackingTable", keys.promoter_channel("p1", "web"), "clicks")
    monkeypatch.setattr(
        tracking_changes, "derive", lambda _c: add(stack, "TrackingTable", keys.promoter_channel("p1", "web"), "n")
    )
    add(stack, "TrackingTable", keys.promoter_channel("p1", "web"), "clicks")
    # Then draining gives up with an error instead of hanging
    with pytest.raises(RuntimeError, match="did not quiesce"):
        stack.streams.drain(max_rounds=5)


def test_replay_redelivers_every_record_still_in_the_streams(stack, derived, monkeypatch):
    # Given clicks, a settlement and a product change, all delivered once
    ids = clicks(stack, 3)
    put(stack, "LedgerTable", keys.settlement("alipay", "t1"), status="settled")
    put(stack, "CatalogTable", keys.product("x1"), status="active")
    put(stack, "CatalogTable", keys.product("x1"), status="paused")
    ledger, catalog = RecordingDerive(), RecordingDerive()
    monkeypatch.setattr(ledger_changes, "derive", ledger)
    monkeypatch.setattr(catalog_changes, "derive", catalog)
    assert stack.drain_streams() == 5
    first = [c.event_id for chunk in derived.chunks + ledger.chunks + catalog.chunks for c in chunk]
    # When the streams are replayed
    assert stack.replay_streams() == 5
    # Then each record was delivered again, with the same event ids (what derive dedups on), and no more
    again = [c.event_id for chunk in derived.chunks + ledger.chunks + catalog.chunks for c in chunk]
    assert sorted(again) == sorted(first * 2)
    assert derived.seen == ids + ids
    assert stack.drain_streams() == 0


def test_reset_starts_every_position_over(stack, provisioned_stack, derived):
    # Given a drained stream, then a reset (tables and streams emptied, as between tests)
    clicks(stack, 5)
    assert stack.drain_streams() == 5
    provisioned_stack.reset()
    # When a new click is written
    later = clicks(stack, 1, prefix="new")
    # Then it is delivered (moto numbers the emptied stream from its start again)
    assert stack.drain_streams() == 1
    assert derived.seen[-1:] == later


# ---------------------------------------------------------------- make local
def test_the_drain_route_answers_the_records_delivered(api, stack):
    clicks(stack, 2)
    response = api.post("/_local/streams/drain", {})
    assert response.status == 200
    assert response.json() == {"delivered": 2}


def test_the_background_poller_drains_until_stopped_and_survives_a_failed_round():
    # Given a stack whose first drain fails and whose second stops the poller
    stop = threading.Event()
    calls: list[int] = []

    class Stack:
        def drain_streams(self) -> int:
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionError("moto restarting")
            stop.set()
            return 3

    # When the poller runs
    _poll_streams(Stack(), stop, interval=0)  # type: ignore[arg-type]
    # Then it kept polling after the failure
    assert len(calls) == 2
