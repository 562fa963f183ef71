"""Builders and fakes for the stream tests: items written straight to a table (the facts a request would
write), a derive function that records what it saw and fails where told, a function host that scripts a
consumer's answers, and the on-failure queue's messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from tools.gateway import RUNNING_FUNCTION
from tuishou.dal import keys
from tuishou.dal.streams import Change


@contextmanager
def _the_tests_own() -> Iterator[None]:
    """Writes the test makes, even from inside a fake derive: no function's (tests/deploy/test_least_privilege.py
    judges each function's calls against its role, and a fake's calls say nothing about it)."""
    token = RUNNING_FUNCTION.set(None)
    try:
        yield
    finally:
        RUNNING_FUNCTION.reset(token)


def put(stack: Any, table_id: str, key: tuple[str, str], **attributes: Any) -> None:
    """One item, written as a request would (a stream record follows)."""
    item = {"pk": {"S": key[0]}, "sk": {"S": key[1]}}
    item.update({name: {"N": str(v)} if isinstance(v, int) else {"S": str(v)} for name, v in attributes.items()})
    with _the_tests_own():
        boto3.client("dynamodb").put_item(TableName=stack.physical[table_id], Item=item)


def add(stack: Any, table_id: str, key: tuple[str, str], attribute: str, amount: int = 1) -> None:
    """An ``ADD`` to a counter attribute (an INSERT when the item is new, else a MODIFY)."""
    with _the_tests_own():
        boto3.client("dynamodb").update_item(
            TableName=stack.physical[table_id],
            Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}},
            UpdateExpression="ADD #a :n",
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues={":n": {"N": str(amount)}},
        )


def clicks(stack: Any, count: int, prefix: str = "clk") -> list[str]:
    """``count`` clicks in the tracking table, in this order; returns their ids."""
    ids = [f"{prefix}{n:03d}" for n in range(count)]
    for click_id in ids:
        put(stack, "TrackingTable", keys.click(click_id), channel="web")
    return ids


def click_id(change: Change) -> str:
    return change.key[0].removeprefix("CLICK#")


@dataclass
class RecordingDerive:
    """A derive function: records each chunk it is given; raises while a chunk holds a poisoned key, or
    for the first ``fail_times`` chunks that hold a flaky key."""

    poison: set[str] = field(default_factory=set)
    flaky: set[str] = field(default_factory=set)
    fail_times: int = 1
    chunks: list[list[Change]] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # click ids of the chunks that succeeded
    also: Callable[[Sequence[Change]], None] | None = None

    def __call__(self, changes: Sequence[Change]) -> None:
        self.chunks.append(list(changes))
        ids = {click_id(c) for c in changes}
        if ids & self.poison:
            raise ValueError(f"poison record in {sorted(ids & self.poison)}")
        if ids & self.flaky and self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("flaky dependency")
        if self.also is not None:
            self.also(changes)
        self.done += [click_id(c) for c in changes]

    @property
    def seen(self) -> list[str]:
        """Click ids in delivery order, repeats included."""
        return [click_id(c) for chunk in self.chunks for c in chunk]


@dataclass
class ScriptedHost:
    """Stands in for the FunctionHost: records each invocation's records and answers with ``answer``."""

    answer: Callable[[str, list[dict[str, Any]]], Any]
    invocations: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        self.invocations.append((function_id, event["Records"]))
        return self.answer(function_id, event["Records"])

    def sizes(self) -> list[int]:
        return [len(records) for _, records in self.invocations]


def sequence(record: dict[str, Any]) -> str:
    return record["dynamodb"]["SequenceNumber"]


def pk(record: dict[str, Any]) -> str:
    return record["dynamodb"]["Keys"]["pk"]["S"]


def failure_messages(stack: Any) -> list[dict[str, Any]]:
    """Everything in the StreamFailureQueue (Lambda's on-failure records), oldest first; consumed."""
    sqs = boto3.client("sqs")
    found = []
    while batch := sqs.receive_message(QueueUrl=stack.physical["StreamFailureQueue"], MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=stack.physical["StreamFailureQueue"], ReceiptHandle=message["ReceiptHandle"])
    return found


def stream_arn(stack: Any, table_id: str) -> str:
    table = boto3.client("dynamodb").describe_table(TableName=stack.physical[table_id])["Table"]
    return str(table["LatestStreamArn"])
