"""Holds in LedgerTable: a granted sale's pending money (the promoter's commission and the merchant's
revenue) and when its holding period ends. Written in the grant's transaction, changed in each refund's
transaction while held, released once by the release job (docs/payouts.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tuishou import clock
from tuishou.dal import dynamo, keys


@dataclass(frozen=True)
class HoldRecord:
    """What a hold keeps pending for whom, and how much of it refunds have taken back so far."""

    event_id: str
    currency: str
    release_at: str
    promoter_id: str
    commission_minor: int
    merchant_id: str
    merchant_minor: int
    refunded_commission_minor: int = 0
    refunded_merchant_minor: int = 0
    released_at: str | None = None

    @property
    def releasable_commission_minor(self) -> int:
        return self.commission_minor - self.refunded_commission_minor

    @property
    def releasable_merchant_minor(self) -> int:
        return self.merchant_minor - self.refunded_merchant_minor


def _ledger() -> str:
    return dynamo.table("ledger")


def hold_put(hold: HoldRecord) -> dynamo.TransactItem:
    """The hold, in its grant's transaction (which the grant record already makes exactly-once)."""
    pk, sk = keys.hold(hold.event_id)
    index = {
        "gsi1pk": keys.releases_in_hour(clock.hour_bucket(clock.parse_iso(hold.release_at))),
        "gsi1sk": f"{hold.release_at}#{hold.event_id}",
    }
    fields = {name: value for name, value in vars(hold).items() if value is not None}
    return {
        "Put": {
            "TableName": _ledger(),
            "Item": dynamo.to_item({"pk": pk, "sk": sk, **fields, **index}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def held_refund_update(hold: HoldRecord, commission_minor: int, merchant_minor: int) -> dynamo.TransactItem:
    """A refund takes back from the pending money: only while the hold is still as read (not released, the
    same refunds so far), so a release and a refund racing each other cannot both count the same money."""
    return {
        "Update": {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.hold(hold.event_id)),
            "UpdateExpression": "SET refunded_commission_minor = :commission, refunded_merchant_minor = :merchant",
            "ConditionExpression": "attribute_not_exists(released_at) AND refunded_commission_minor = :seen_commission "
            "AND refunded_merchant_minor = :seen_merchant",
            "ExpressionAttributeValues": {
                ":commission": dynamo.to_value(commission_minor),
                ":merchant": dynamo.to_value(merchant_minor),
                ":seen_commission": dynamo.to_value(hold.refunded_commission_minor),
                ":seen_merchant": dynamo.to_value(hold.refunded_merchant_minor),
            },
        }
    }


def released_update(hold: HoldRecord, released_at: str) -> dynamo.TransactItem:
    """Release the hold once: it leaves the release index; the same refunds as read must still hold."""
    return {
        "Update": {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.hold(hold.event_id)),
            "UpdateExpression": "SET released_at = :at REMOVE gsi1pk, gsi1sk",
            "ConditionExpression": "attribute_not_exists(released_at) AND refunded_commission_minor = :seen_commission "
            "AND refunded_merchant_minor = :seen_merchant",
            "ExpressionAttributeValues": {
                ":at": {"S": released_at},
                ":seen_commission": dynamo.to_value(hold.refunded_commission_minor),
                ":seen_merchant": dynamo.to_value(hold.refunded_merchant_minor),
            },
        }
    }


def get_hold(event_id: str) -> HoldRecord | None:
    item = dynamo.get("ledger", keys.hold(event_id), consistent=True)
    return None if item is None else dynamo.as_record(HoldRecord, item)


def due_in_hour(hour_bucket: str, until: str) -> Iterator[HoldRecord]:
    """The unreleased holds of one release hour whose ``release_at`` is at most ``until`` (Query GSI1, pages)."""
    for item in dynamo.query_all(
        TableName=_ledger(),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk AND gsi1sk <= :until",
        ExpressionAttributeValues={
            ":pk": {"S": keys.releases_in_hour(hour_bucket)},
            ":until": {"S": f"{until}~"},
        },
    ):
        yield dynamo.as_record(HoldRecord, item)
