"""Quota-rescue coupons (TrackingTable): the coupon bound to one click and its public code lookup. Written
by the tracking stream consumer from the click that drew the code; redeemed by the settlement of that
click's payment, in one transaction with the ledger entries of the platform's incentive to the merchant
(built by the caller), so the incentive is posted exactly when the coupon turns redeemed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tuishou.dal import dynamo, keys


@dataclass(frozen=True)
class CouponRecord:
    """A click's quota-rescue coupon as stored: its code, the task it rescues, its value, the channel of the
    click and whether (and for which payment) it was redeemed."""

    code: str
    click_id: str
    promoter_id: str
    task_id: str
    value_minor: int
    currency: str
    issued_at: str
    channel: str | None = None
    coupon_status: Literal["issued", "redeemed"] = "issued"
    redeemed_at: str | None = None
    payment_ref: str | None = None
    product_id: str | None = None  # the product (and merchant) of the click: None on coupons recorded before
    merchant_id: str | None = None
    valid_until: str | None = None  # ISO 8601 UTC; not ``expires_at``, the table's TTL attribute


def _coupon(item: dict[str, Any] | None) -> CouponRecord | None:
    return None if item is None else dynamo.as_record(CouponRecord, item)


def put_coupon(coupon: CouponRecord, also: Sequence[dynamo.TransactItem] = ()) -> bool:
    """The click's coupon and its code lookup in one transaction (with ``also``: a redemption's ledger
    entries); False when the click already has one."""
    click_pk, click_sk = keys.click_coupon(coupon.click_id)
    code_pk, code_sk = keys.coupon_code(coupon.code)
    tracking = dynamo.table("tracking")
    items = [
        {
            "Put": {
                "TableName": tracking,
                "Item": dynamo.to_item({"pk": click_pk, "sk": click_sk, **asdict(coupon)}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": tracking,
                "Item": dynamo.to_item({"pk": code_pk, "sk": code_sk, "click_id": coupon.click_id}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        *also,
    ]
    try:
        dynamo.transact(items)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed(0) or cancelled.failed(1):
            return False
        raise
    return True


def get_click_coupon(click_id: str) -> CouponRecord | None:
    return _coupon(dynamo.get("tracking", keys.click_coupon(click_id), consistent=True))


def get_coupon_by_code(code: str) -> CouponRecord | None:
    """The coupon of a public code: 2 GetItem (the code lookup, then the click's coupon)."""
    lookup = dynamo.get("tracking", keys.coupon_code(code))
    return None if lookup is None else get_click_coupon(str(lookup["click_id"]))


def redeem_coupon(
    coupon: CouponRecord, redeemed_at: str, payment_ref: str | None, also: Sequence[dynamo.TransactItem] = ()
) -> bool:
    """issued → redeemed, once, with ``also`` (the incentive's ledger entries) in the same transaction. False
    when the coupon is no longer issued (redeemed before) or has expired by ``redeemed_at``."""
    values: dict[str, Any] = {":issued": {"S": "issued"}, ":redeemed": {"S": "redeemed"}, ":at": {"S": redeemed_at}}
    update = "SET coupon_status = :redeemed, redeemed_at = :at"
    if payment_ref:
        update += ", payment_ref = :ref"
        values[":ref"] = {"S": payment_ref}
    redeem: dynamo.TransactItem = {
        "Update": {
            "TableName": dynamo.table("tracking"),
            "Key": dynamo.key(*keys.click_coupon(coupon.click_id)),
            "UpdateExpression": update,
            "ConditionExpression": "coupon_status = :issued "
            "AND (attribute_not_exists(valid_until) OR valid_until > :at)",
            "ExpressionAttributeValues": values,
        }
    }
    try:
        dynamo.transact([redeem, *also])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed(0):
            return False
        raise
    return True
