"""The Lambda DynamoDB Streams event source, locally: reads moto's streams for every table a function of
template.yaml consumes (a ``DynamoDB`` event), and delivers the records as Lambda's event source mapping
would: the real event shape, the mapping's ``FilterCriteria``, batches of ``BatchSize``, and its failure
handling — retry from the first record the function reports in ``batchItemFailures``; on a function error,
split the batch in two (``BisectBatchOnFunctionError``) and retry; after ``MaximumRetryAttempts`` (or
``MaximumRecordAgeInSeconds``) send Lambda's on-failure record to the ``OnFailure`` queue and move on.

Each mapping keeps its position per shard (the last sequence number it finished), as Lambda checkpoints.
The stream reads and the on-failure message are made with the consumer's identity
(``tools.gateway.RUNNING_FUNCTION``), as Lambda uses the function's role for them."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from tools import template
from tools.gateway import RUNNING_FUNCTION, FunctionHost

Record = dict[str, Any]
MAX_READ = 1000  # GetRecords' limit
MAX_RETRIES = 10_000  # MaximumRetryAttempts -1 (until the record expires): bounded here, as Lambda bounds the value


# ---------------------------------------------------------------- the template's stream event sources
@dataclass(frozen=True)
class StreamSource:
    """One ``DynamoDB`` event of a function in template.yaml (an event source mapping)."""

    function_id: str
    table_id: str
    batch_size: int
    bisect: bool
    max_retries: int  # -1: until the record expires
    max_record_age: int  # seconds; -1: until the record expires
    report_failures: bool
    filters: tuple[dict[str, Any], ...]
    on_failure: str | None  # logical id of the OnFailure queue

    def passes(self, record: Record) -> bool:
        """Whether the mapping's FilterCriteria let ``record`` through (no filter: every record)."""
        return not self.filters or any(matches(pattern, record) for pattern in self.filters)


def sources() -> list[StreamSource]:
    found = []
    for spec in template.functions():
        for event in spec.properties.get("Events", {}).values():
            if event["Type"] == "DynamoDB":
                found.append(_source(spec.logical_id, event["Properties"]))
    return found


def _source(function_id: str, props: dict[str, Any]) -> StreamSource:
    stream = props["Stream"]["Fn::GetAtt"]
    table_id = stream[0] if isinstance(stream, list) else stream.split(".", 1)[0]
    destination = (props.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    filters = tuple(json.loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", []))
    for pattern in filters:
        _check_pattern(pattern)
    return StreamSource(
        function_id=function_id,
        table_id=table_id,
        batch_size=int(props.get("BatchSize", 100)),
        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        max_record_age=int(props.get("MaximumRecordAgeInSeconds", -1)),
        report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        filters=filters,
        on_failure=destination["Fn::GetAtt"][0] if destination else None,
    )


# ---------------------------------------------------------------- FilterCriteria (the subset the template uses)
# A pattern is a map whose leaves are lists of accepted values: a literal (string, number, bool, null),
# {"prefix": "..."} or {"exists": true|false}. A record matches when every key of the pattern matches.
_OPERATORS = {"prefix", "exists"}


def matches(pattern: dict[str, Any], value: Any) -> bool:
    """Lambda's event filtering of one pattern against a record (a JSON object). A nested pattern under a
    field that is missing (or no object) sees every field below it missing: only ``exists: false`` matches."""
    fields = value if isinstance(value, dict) else {}
    return all(_field_matches(rule, fields.get(key), key in fields) for key, rule in pattern.items())


def _field_matches(rule: Any, value: Any, present: bool) -> bool:
    if isinstance(rule, dict):
        return matches(rule, value)
    return any(_accepts(accepted, value, present) for accepted in rule)


def _accepts(accepted: Any, value: Any, present: bool) -> bool:
    if isinstance(accepted, dict):
        ((operator, operand),) = accepted.items()
        if operator == "exists":
            return present is bool(operand)
        return present and isinstance(value, str) and value.startswith(operand)  # prefix
    if isinstance(value, list):  # a list in the record matches when any of its values does
        return present and accepted in value
    return present and value == accepted


def _check_pattern(pattern: Any) -> None:
    """Refuse what this emulation does not implement, rather than filter differently from Lambda."""
    if not isinstance(pattern, dict):
        raise ValueError(f"a filter pattern is a JSON object: {pattern!r}")
    for rule in pattern.values():
        if isinstance(rule, dict):
            _check_pattern(rule)
            continue
        if not isinstance(rule, list) or not rule:
            raise ValueError(f"a filter rule is a non-empty list of values: {rule!r}")
        for accepted in rule:
            if isinstance(accepted, dict) and (len(accepted) != 1 or not set(accepted) <= _OPERATORS):
                raise ValueError(f"filter operator not emulated locally: {accepted!r}")


# ---------------------------------------------------------------- the poller
@dataclass
class _Shard:
    source: StreamSource
    stream_arn: str
    shard_id: str


class StreamPoller:
    """Every stream event source of the template, on the emulated account. ``drain`` delivers what is new;
    ``replay`` starts every mapping again from TRIM_HORIZON; ``reset`` forgets the positions (the tables'
    streams were emptied)."""

    def __init__(self, host: FunctionHost, physical: dict[str, Any], endpoint_url: str, region: str) -> None:
        self.host = host
        self.physical = physical
        self.region = region
        self.sources = sources()
        self.failed_batches = 0  # on-failure records sent
        self._streams = boto3.client("dynamodbstreams", endpoint_url=endpoint_url, region_name=region)
        self._sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
        self._positions: dict[tuple[str, str], str] = {}  # (function, shard) -> last finished sequence number
        self._shards: list[_Shard] | None = None
        self._lock = threading.Lock()  # one drain at a time: a record is delivered once per pass

    def reset(self) -> None:
        with self._lock:
            self._positions.clear()
            self._shards = None
            self.failed_batches = 0

    def drain(self, max_rounds: int = 100, only: Collection[str] | None = None) -> int:
        """Deliver every new record, round after round, until a round reads nothing new (the consumers'
        own writes are read too: a consumer whose writes feed another is followed to the end). Returns the
        records delivered (each counted once, however often it was retried). ``only``: just the mappings of
        these consumers (function logical ids)."""
        with self._lock:
            delivered = 0
            for _ in range(max_rounds):
                read, passed = 0, 0
                for shard in self._all_shards():
                    if only is not None and shard.source.function_id not in only:
                        continue
                    shard_read, shard_passed = self._poll(shard)
                    read, passed = read + shard_read, passed + shard_passed
                delivered += passed
                if not read:
                    return delivered
            raise RuntimeError(f"the streams did not quiesce in {max_rounds} rounds: consumers feed each other")

    def replay(self) -> int:
        """Every mapping back to TRIM_HORIZON, then ``drain``: re-delivers each record still in the streams."""
        with self._lock:
            self._positions.clear()
        return self.drain()

    # ------------------------------------------------------------------ reading
    def _all_shards(self) -> list[_Shard]:
        if self._shards is None:
            dynamodb = boto3.client("dynamodb", endpoint_url=self._streams.meta.endpoint_url, region_name=self.region)
            shards = []
            for source in self.sources:
                table = dynamodb.describe_table(TableName=self.physical[source.table_id])["Table"]
                with _as(source.function_id):
                    stream = self._streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
                shards += [_Shard(source, stream["StreamArn"], s["ShardId"]) for s in stream["Shards"]]
            self._shards = shards
        return self._shards

    def _read(self, shard: _Shard) -> list[Record]:
        """The shard's records after the mapping's position, in order."""
        key = (shard.source.function_id, shard.shard_id)
        after = self._positions.get(key)
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        records: list[Record] = []
        with _as(shard.source.function_id):
            iterator = self._streams.get_shard_iterator(StreamArn=shard.stream_arn, ShardId=shard.shard_id, **position)
            iterator_id = iterator["ShardIterator"]
            while True:
                page = self._streams.get_records(ShardIterator=iterator_id, Limit=MAX_READ)
                records += page["Records"]
                if len(page["Records"]) < MAX_READ or not page.get("NextShardIterator"):
                    break
                iterator_id = page["NextShardIterator"]
        _forget_iterators(self.region)
        return records

    def _poll(self, shard: _Shard) -> tuple[int, int]:
        """Deliver the shard's new records that pass the filters, batch by batch; returns (read, delivered).
        Records the filters drop are passed over (checkpointed), as Lambda does."""
        records = self._read(shard)
        if not records:
            return 0, 0
        source = shard.source
        passed = [lambda_record(r, shard.stream_arn) for r in records if source.passes(r)]
        for start in range(0, len(passed), source.batch_size):
            batch = passed[start : start + source.batch_size]
            self._deliver(shard, batch)
            self._positions[(source.function_id, shard.shard_id)] = batch[-1]["dynamodb"]["SequenceNumber"]
        self._positions[(source.function_id, shard.shard_id)] = records[-1]["dynamodb"]["SequenceNumber"]
        return len(records), len(passed)

    # ------------------------------------------------------------------ delivering
    def _deliver(self, shard: _Shard, batch: list[Record]) -> None:
        """One batch to its function, with Lambda's retries; what still fails goes to the on-failure queue."""
        source = shard.source
        pending: deque[tuple[list[Record], int]] = deque([(batch, 0)])
        while pending:
            records, attempt = pending.popleft()
            if expired := self._expired(source, records):
                self._send_failure(shard, expired, "RecordAgeExceeded", attempt, None)
                records = records[len(expired) :]
                if not records:
                    continue
            error, retry_from = self._invoke(source, records)
            if error is None and retry_from is None:
                continue
            if error is not None and source.bisect and len(records) > 1:  # a split is no retry
                half = len(records) // 2
                pending.extendleft([(records[half:], attempt), (records[:half], attempt)])
                continue
            remaining = records[retry_from or 0 :]
            if attempt >= (source.max_retries if source.max_retries != -1 else MAX_RETRIES):
                self._send_failure(shard, remaining, "RetryAttemptsExhausted", attempt + 1, error)
                continue
            pending.appendleft((remaining, attempt + 1))

    def _invoke(self, source: StreamSource, records: list[Record]) -> tuple[str | None, int | None]:
        """(function error, None) when the invocation failed; (None, index) when the function reported the
        records from ``index`` on failed; (None, None) when the batch succeeded."""
        try:
            result = self.host.invoke(source.function_id, {"Records": records})
        except Exception as exc:  # the function error Lambda sees
            return f"{type(exc).__name__}: {exc}", None
        if not source.report_failures or not isinstance(result, dict) or not result.get("batchItemFailures"):
            return None, None
        sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
        reported = [f.get("itemIdentifier") for f in result["batchItemFailures"] if isinstance(f, dict)]
        if len(reported) != len(result["batchItemFailures"]) or not all(s in sequences for s in reported):
            return "InvalidBatchItemFailures", None  # Lambda treats the whole batch as failed
        return None, min(sequences.index(s) for s in reported)

    def _expired(self, source: StreamSource, records: list[Record]) -> list[Record]:
        if source.max_record_age == -1:
            return []
        oldest_allowed = time.time() - source.max_record_age
        expired = []
        for record in records:
            if record["dynamodb"]["ApproximateCreationDateTime"] >= oldest_allowed:
                break
            expired.append(record)
        return expired

    def _send_failure(
        self, shard: _Shard, records: list[Record], condition: str, invokes: int, error: str | None
    ) -> None:
        """Lambda's on-failure record for a stream batch: metadata only (the records stay in the stream for
        its retention, 24 hours; docs/operations.md says how to replay them)."""
        self.failed_batches += 1
        source = shard.source
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.region}:000000000000:function:{source.function_id}",
                "condition": condition,
                "approximateInvokeCount": invokes,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": "Unhandled"} if error else {}),
            },
            "version": "1.0",
            "timestamp": _iso(time.time(), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"]),
                "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"]),
                "batchSize": len(records),
                "streamArn": shard.stream_arn,
            },
        }
        if source.on_failure is None:
            return  # no destination: Lambda discards the batch
        with _as(source.function_id):
            self._sqs.send_message(QueueUrl=self.physical[source.on_failure], MessageBody=json.dumps(message))


def lambda_record(record: Record, stream_arn: str) -> Record:
    """A DynamoDB Streams record (GetRecords) as Lambda hands it to the function."""
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        "dynamodb": data,
        "eventSourceARN": stream_arn,
    }


def _iso(epoch: float, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"


@contextmanager
def _as(function_id: str) -> Iterator[None]:
    """Calls made here are the function's (its role allows them in AWS; tests/deploy checks it)."""
    token = RUNNING_FUNCTION.set(function_id)
    try:
        yield
    finally:
        RUNNING_FUNCTION.reset(token)


def _forget_iterators(region: str) -> None:
    """moto keeps every shard iterator it hands out; a poller that reads five times a second would grow the
    server's memory without end. Drop them (the poller never reuses one), when moto runs in this process
    (the tests and ``make local`` run it so)."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from tools.resources import MOTO_ACCOUNT_ID

    dynamodbstreams_backends[MOTO_ACCOUNT_ID][region].shard_iterators.clear()
