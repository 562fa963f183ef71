"""The AWS side of the dal: one cached boto3 client per service for the whole package (reused across warm
invocations; ``reset()`` forgets them all when tests or the local stack point the process at fresh
endpoints), and ``call``, the one place an AWS ``ClientError`` becomes the dal's or the domain's exception."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tuishou.errors import ServiceUnavailable
from tuishou.observability import trace_aws_calls

_STANDARD_RETRIES = Config(retries={"max_attempts": 3, "mode": "standard"})
CONDITION_FAILED = "ConditionalCheckFailed"
TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


def _client(service: str, config: Config | None = None) -> Any:
    trace_aws_calls()  # before the first client: its calls are traced
    return boto3.client(service, config=config)


@cache
def dynamodb() -> Any:
    return _client("dynamodb", _STANDARD_RETRIES)


@cache
def sns() -> Any:
    return _client("sns", _STANDARD_RETRIES)


@cache
def sqs() -> Any:
    return _client("sqs")


@cache
def ssm() -> Any:
    return _client("ssm")


FACTORIES = (dynamodb, sns, sqs, ssm)  # every client of the package (SnapStart priming creates them all)


def reset() -> None:
    for factory in FACTORIES:
        factory.cache_clear()


class ConditionFailed(Exception):
    """A single-item write whose ConditionExpression did not hold. ``stored`` is the item as stored (DynamoDB
    JSON) when the call asked for it (``ReturnValuesOnConditionCheckFailure="ALL_OLD"``), else None."""

    def __init__(self, stored: dict[str, Any] | None) -> None:
        super().__init__("condition check failed")
        self.stored = stored


class Cancelled(Exception):
    """A TransactWriteItems was cancelled; ``reasons[i]`` is the code for item ``i`` ("None" if it passed)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Item ``index``'s condition did not hold."""
        return index < len(self.reasons) and self.reasons[index] == CONDITION_FAILED

    @property
    def any_failed(self) -> bool:
        return CONDITION_FAILED in self.reasons

    @property
    def conflicted(self) -> bool:
        """Another transaction touched one of the items: retrying may succeed."""
        return "TransactionConflict" in self.reasons


class ParameterNotFound(Exception):
    """An SSM parameter that does not exist."""


class EndpointDisabled(Exception):
    """SNS disabled a push endpoint (the platform rejected its token): the device is gone."""


class EndpointExists(Exception):
    """CreatePlatformEndpoint found the token's endpoint with other attributes (e.g. disabled): ``arn``."""

    def __init__(self, arn: str) -> None:
        super().__init__(f"endpoint exists: {arn}")
        self.arn = arn


_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:\S+) already exists with the same [Tt]oken")


def call(service: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    """One call of ``operation`` on a client of this module, with its errors mapped (``_domain_error``)."""
    with _mapped_errors():
        response: dict[str, Any] = getattr(service, operation)(**kwargs)
    return response


@contextmanager
def unavailable_on_error(message: str) -> Iterator[None]:
    """Any AWS failure inside (a library calling AWS for us, e.g. Powertools Parameters) is a 503 with
    ``message``: the caller cannot do its work without the answer."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise ServiceUnavailable(message) from error


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        mapped = _domain_error(error)
        if mapped is error:
            raise
        raise mapped from error


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: ClientError) -> list[str]:
    """The per-item reasons of a cancelled TransactWriteItems ("None" for items that passed)."""
    reasons = error.response.get("CancellationReasons") or []
    return [r.get("Code", "None") for r in reasons]


def _domain_error(error: ClientError) -> Exception:
    """Failed conditions, cancelled transactions, missing parameters and disabled or existing push endpoints
    become the dal's exceptions; throttling and transient failures ``ServiceUnavailable`` (HTTP 503); anything
    else stays as it is."""
    code = error_code(error)
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(error.response.get("Item"))
    if code == "TransactionCanceledException":
        return Cancelled(cancellation_codes(error))
    if code == "ParameterNotFound":
        return ParameterNotFound(error.response.get("Error", {}).get("Message", "parameter not found"))
    if code == "InvalidParameter" and (existing := _EXISTING_ENDPOINT.search(str(error))):
        return EndpointExists(existing.group(1))
    if code == "EndpointDisabled":
        return EndpointDisabled(error.response.get("Error", {}).get("Message", "endpoint disabled"))
    if code in TRANSIENT_CODES:
        return ServiceUnavailable(retry_after=1)
    return error
