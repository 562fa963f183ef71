"""Quota-rescue coupons: when an active task counting transactions is within ``coupon_threshold`` sales of
its target, each click on the promoter's link on that channel gets a single-use coupon bound to the click;
the payment for that click redeems it."""

from __future__ import annotations

import re
from datetime import datetime

from tuishou import clock, ids
from tuishou.dal import channel_tasks as store
from tuishou.dal import notifications as notifications_dal
from tuishou.errors import Unprocessable
from tuishou.logic.channel_tasks import UNREAD, ActiveTask, Unread, resolve_active
from tuishou.logic.notifications import notify_coalesced
from tuishou.models.channel_tasks import Coupon
from tuishou.money import format_minor

COUPON_CODE_LENGTH = 12
_CLICK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _check_click_id(click_id: str) -> None:
    if not _CLICK_ID.match(click_id or ""):
        raise Unprocessable("not a click id", field="click_id")


def coupon_due(task: ActiveTask | None, at: str) -> bool:
    """True exactly when target − counted ≤ coupon_threshold, the target is not yet met and ``at`` is in
    the task's window."""
    if task is None or task.target_transactions is None or task.coupon_threshold <= 0 or not task.open_at(at):
        return False
    remaining = task.target_transactions - task.transactions
    return 0 < remaining <= task.coupon_threshold


def coupon_for_click(
    promoter_id: str, channel: str, click_id: str, at: datetime, *, active: ActiveTask | Unread | None = UNREAD
) -> Coupon | None:
    """Hook for ``GET /l/{code}``: the click's coupon when one is due (the caller appends ``tscoupon=code``
    to the redirect), else None. Requests: 0 when ``active`` is given and no coupon is due (≤ 1 GetItem
    when it is not given); when due, 1 TransactWriteItems + 1 UpdateItem (the task's notice for the hour)
    + notify (first coupon of the hour: 1 BatchGetItem, 1 PutItem, SNS) or 1 UpdateItem (later ones)."""
    _check_click_id(click_id)
    task = resolve_active(promoter_id, channel, active)
    at_iso = clock.iso(at)
    if task is None or not coupon_due(task, at_iso):
        return None
    coupon = Coupon(
        code=ids.new_code(COUPON_CODE_LENGTH).upper(),
        click_id=click_id,
        promoter_id=promoter_id,
        task_id=task.task_id,
        value_minor=task.coupon_value_minor,
        currency=task.currency,
        status="issued",
        issued_at=at_iso,
    )
    record = coupon.model_dump(exclude={"status"}) | {"coupon_status": "issued", "channel": channel}
    if not store.put_coupon(record):
        existing = store.get_click_coupon(click_id)
        return _coupon(existing) if existing else None
    _tell_promoter(promoter_id, channel, task, coupon, at)
    return coupon


def _tell_promoter(promoter_id: str, channel: str, task: ActiveTask, coupon: Coupon, at: datetime) -> None:
    """Clicks are anonymous and cheap to repeat: one coupon per click is fine, but the promoter hears about
    them once per task and UTC hour (the inbox item counts them), and never by SMS."""
    hour = clock.hour_bucket(at)
    remaining = task.target_transactions - task.transactions if task.target_transactions else 0
    to_go = f"{remaining} sale{'s' if remaining != 1 else ''} to go"
    value = format_minor(coupon.value_minor, coupon.currency)

    def render(count: int) -> tuple[str, dict]:
        text = (
            f"A shopper on {channel} got a {value} coupon: {to_go}"
            if count == 1
            else f"Shoppers on {channel} got {count} {value} coupons this hour: {to_go}"
        )
        return text, {
            "task_id": task.task_id,
            "channel": channel,
            "value_minor": coupon.value_minor,
            "currency": coupon.currency,
            "coupons": count,
            "hour": hour,
        }

    notify_coalesced(
        promoter_id, "coupon_issued", notifications_dal.coupon_notice(promoter_id, task.task_id, hour), render
    )


def redeem_coupon_for_click(click_id: str, at: datetime | None = None, payment_ref: str | None = None) -> Coupon | None:
    """Hook for settlement: mark the click's coupon redeemed, once. Returns the redeemed coupon, or None when
    the click has no coupon or it was redeemed before. Requests: 1 conditional UpdateItem."""
    _check_click_id(click_id)
    redeemed = store.redeem_coupon(click_id, clock.iso(at), payment_ref)
    return _coupon(redeemed) if redeemed else None


def coupon_of_click(click_id: str) -> Coupon | None:
    _check_click_id(click_id)
    item = store.get_click_coupon(click_id)
    return _coupon(item) if item else None


def _coupon(item: dict) -> Coupon:
    return Coupon(
        code=item["code"],
        click_id=item["click_id"],
        promoter_id=item["promoter_id"],
        task_id=item["task_id"],
        value_minor=item["value_minor"],
        currency=item["currency"],
        status=item["coupon_status"],
        issued_at=item["issued_at"],
        redeemed_at=item.get("redeemed_at"),
    )
