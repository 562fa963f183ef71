"""Quota-rescue coupons (TrackingTable): the coupon bound to one click and its public code lookup. Written
by the tracking stream consumer from the click that drew the code; redeemed by the settlement of that
click's payment."""

from __future__ import annotations

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


def _coupon(item: dict[str, Any] | None) -> CouponRecord | None:
    return None if item is None else dynamo.as_record(CouponRecord, item)


def put_coupon(coupon: CouponRecord) -> bool:
    """The click's coupon and its code lookup in one transaction; False when the click already has one."""
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
    ]
    try:
        dynamo.transact(items)
    except dynamo.Cancelled as cancelled:
        if cancelled.any_failed:
            return False
        raise
    return True


def get_click_coupon(click_id: str) -> CouponRecord | None:
    return _coupon(dynamo.get("tracking", keys.click_coupon(click_id), consistent=True))


def redeem_coupon(click_id: str, redeemed_at: str, payment_ref: str | None) -> CouponRecord | None:
    """issued → redeemed, once. None when there is no coupon for the click or it was redeemed already."""
    values: dict[str, Any] = {":issued": {"S": "issued"}, ":redeemed": {"S": "redeemed"}, ":at": {"S": redeemed_at}}
    update = "SET coupon_status = :redeemed, redeemed_at = :at"
    if payment_ref:
        update += ", payment_ref = :ref"
        values[":ref"] = {"S": payment_ref}
    return _coupon(
        dynamo.conditional_update(
            TableName=dynamo.table("tracking"),
            Key=dynamo.key(*keys.click_coupon(click_id)),
            UpdateExpression=update,
            ConditionExpression="coupon_status = :issued",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    )
