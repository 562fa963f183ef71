"""The chaos switch's storage: the SSM parameter ``/tuishou/faults`` (what to inject, and its version)
and the DynamoDB counter items that make "skip the next k" exact under concurrency."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tuishou.dal import dynamo, keys


@cache
def _ssm() -> Any:
    return boto3.client("ssm")


def reset() -> None:
    _ssm.cache_clear()


def read_parameter(name: str) -> tuple[str | None, int]:
    """(value, version) of the parameter; (None, 0) when it does not exist. One GetParameter."""
    try:
        found = _ssm().get_parameter(Name=name)["Parameter"]
    except ClientError as exc:
        if dynamo.error_code(exc) == "ParameterNotFound":
            return None, 0
        raise
    return found["Value"], int(found.get("Version", 0))


def write_parameter(name: str, value: str) -> int:
    """Overwrite the parameter (local stack and tests); returns the new version."""
    return int(_ssm().put_parameter(Name=name, Value=value, Type="String", Overwrite=True)["Version"])


def claim(fault: str, version: int, budget: int) -> bool:
    """Take one firing of ``fault`` from the budget of this parameter version: one conditional UpdateItem,
    so k concurrent callers and more get exactly ``budget`` True answers."""
    return dynamo.conditional_update(
        TableName=dynamo.table("ledger"), Key=dynamo.key(*keys.fault_counter(fault, version)),
        UpdateExpression="ADD fired :one SET budget = :budget",
        ConditionExpression="attribute_not_exists(fired) OR fired < :budget",
        ExpressionAttributeValues={":one": {"N": "1"}, ":budget": {"N": str(budget)}}) is not None

