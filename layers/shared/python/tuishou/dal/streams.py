"""DynamoDB Streams records as the dal's ``Change`` values, and Lambda's partial-batch answer.

A stream consumer (``functions/*_stream``) turns its event into ``Change`` values, hands them in order to
one derive function, and answers ``report``'s ``batchItemFailures``: the first record of the first chunk
that failed (or fails the invocation when nothing succeeded, so Lambda bisects). Lambda then retries from
that record (everything before it is checkpointed), which is why every derive function must be idempotent
by the record's own fact id."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tuishou.dal.dynamo import from_item
from tuishou.observability import logger

ChangeName = Literal["INSERT", "MODIFY", "REMOVE"]


@dataclass(frozen=True)
class Change:
    """One stream record: its ``eventID``, ``SequenceNumber``, kind and the item's images (plain values,
    storage keys included: only the dal reads them)."""

    event_id: str
    sequence: str
    name: ChangeName
    new: dict[str, Any] | None
    old: dict[str, Any] | None

    @property
    def image(self) -> dict[str, Any]:
        """The item after the change, or before it for a REMOVE."""
        return self.new or self.old or {}

    @property
    def key(self) -> tuple[str, str]:
        return str(self.image.get("pk", "")), str(self.image.get("sk", ""))


def changes(event: dict[str, Any]) -> list[Change]:
    """The records of a DynamoDB Streams event, in stream order."""
    found = []
    for record in event.get("Records") or []:
        data = record.get("dynamodb") or {}
        found.append(
            Change(
                event_id=str(record.get("eventID", "")),
                sequence=str(data.get("SequenceNumber", "")),
                name=record.get("eventName", "MODIFY"),
                new=from_item(data["NewImage"]) if data.get("NewImage") else None,
                old=from_item(data["OldImage"]) if data.get("OldImage") else None,
            )
        )
    return found


Derive = Callable[[Sequence[Change]], None]


def report(found: Sequence[Change], derive: Derive, chunk: int = 25) -> dict[str, list[dict[str, str]]]:
    """Derive ``found`` chunk by chunk, in order. The first chunk that raises stops the batch: when chunks
    before it succeeded, it is reported as failed from its first record (Lambda's ``ReportBatchItemFailures``
    for streams: everything before it is checkpointed, the rest retried); when it is the batch's first chunk
    the error is raised, so that Lambda splits the batch in two (``BisectBatchOnFunctionError``) and, half
    by half, isolates a poison record, which alone ends in the on-failure queue after its retries."""
    for start in range(0, len(found), chunk):
        part = found[start : start + chunk]
        try:
            derive(part)
        except Exception:  # any failure: Lambda retries from this chunk's first record
            if start == 0:
                raise
            logger.exception("stream chunk failed", extra={"retry_from": part[0].sequence})
            return {"batchItemFailures": [{"itemIdentifier": part[0].sequence}]}
    return {"batchItemFailures": []}
