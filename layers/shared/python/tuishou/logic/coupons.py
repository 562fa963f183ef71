"""Quota-rescue coupons: when an active task counting transactions is within ``coupon_threshold`` sales of
its target, each click on the promoter's link on that channel gets a single-use coupon bound to the click;
the payment for that click redeems it.

Where the decision is made: the link-code item carries, per channel, the promoter's active task pointer and
whether a coupon is open (``pointer_summary``, kept current by the tracking stream consumer), so the redirect
draws the code with no extra read (``draw_code``) and stores it on the click item. The tracking consumer
records the coupon from the click's INSERT (``record_drawn``) and tells the promoter, once per task and
hour.

A coupon is valid for ``TUISHOU_COUPON_VALID_DAYS`` (default 7) from its click; a payment after that does not
redeem it. Redeeming it posts the platform's incentive to the merchant of the coupon's product in the same
transaction (``PLATFORM_INCENTIVES`` −value, merchant +value): the merchant, who gave the shopper the
discount, is made whole exactly once. ``merchant_coupon`` is the merchant's lookup by code."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from tuishou import clock, ids, settings
from tuishou.dal import coupons as store
from tuishou.dal import ledger as ledger_dal
from tuishou.dal import notifications as notifications_dal
from tuishou.dal import tracking
from tuishou.dal.coupons import CouponRecord
from tuishou.dal.dynamo import TransactItem
from tuishou.dal.tracking import ClickRecord, PointerSummary
from tuishou.errors import NotFound, Unprocessable
from tuishou.logic.channel_tasks import UNREAD, ActiveTask, Unread, active_task, resolve_active
from tuishou.logic.notifications import notify_coalesced
from tuishou.models.channel_tasks import Coupon, MerchantCoupon
from tuishou.models.ledger import PLATFORM_INCENTIVES, LedgerTransaction, Posting
from tuishou.observability import logger

COUPON_CODE_LENGTH = 12
COUPON_INCENTIVE = "coupon_incentive"  # the kind of both entries of a redeemed coupon's incentive
COUPON_TRANSACTION_PREFIX = "coupon:"
_CLICK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_COUPON_CODE = re.compile(rf"^[0-9A-HJKMNP-TV-Z]{{{COUPON_CODE_LENGTH}}}$")  # ``ids.new_code``, upper case


def _check_click_id(click_id: str) -> None:
    if not _CLICK_ID.match(click_id or ""):
        raise Unprocessable("not a click id", field="click_id")


def coupon_open(task: ActiveTask | None) -> bool:
    """True exactly when 0 < target − counted ≤ coupon_threshold (the window aside)."""
    if task is None or task.target_transactions is None or task.coupon_threshold <= 0:
        return False
    remaining = task.target_transactions - task.transactions
    return 0 < remaining <= task.coupon_threshold


def coupon_due(task: ActiveTask | None, at: str) -> bool:
    """True exactly when target − counted ≤ coupon_threshold, the target is not yet met and ``at`` is in
    the task's window."""
    return task is not None and coupon_open(task) and task.open_at(at)


def pointer_summary(task: ActiveTask | None) -> PointerSummary | None:
    """What the link-code items carry of a promoter's active task on a channel: its window and whether a
    coupon is open (with its value), or None without a task. Equal summaries need no fan-out."""
    if task is None:
        return None
    return PointerSummary(
        task_id=task.task_id,
        accepted_at=task.accepted_at,
        deadline_at=task.deadline_at,
        coupon_open=coupon_open(task),
        coupon_value_minor=task.coupon_value_minor,
        currency=task.currency,
    )


@dataclass(frozen=True)
class DrawnCoupon:
    """A coupon the redirect drew for a click: a fresh code, the task it rescues and its value."""

    code: str
    task_id: str
    value_minor: int
    currency: str


def draw_code(summary: PointerSummary | None, at: str) -> DrawnCoupon | None:
    """The redirect's decision, from the link-code item alone: the coupon to store on the click when a
    coupon is open on the channel and ``at`` is in the task's window, else None. Costs no request."""
    if summary is None or not summary.coupon_open or not summary.accepted_at <= at < summary.deadline_at:
        return None
    return DrawnCoupon(
        code=ids.new_code(COUPON_CODE_LENGTH).upper(),
        task_id=summary.task_id,
        value_minor=summary.coupon_value_minor,
        currency=summary.currency,
    )


def coupon_for_click(
    promoter_id: str, channel: str, click_id: str, at: datetime, *, active: ActiveTask | Unread | None = UNREAD
) -> Coupon | None:
    """Issue the click's coupon when one is due, else None (≤ 1 GetItem when ``active`` is not given; when
    due, 1 TransactWriteItems + the coalesced notice)."""
    _check_click_id(click_id)
    task = resolve_active(promoter_id, channel, active)
    at_iso = clock.iso(at)
    if task is None or not coupon_due(task, at_iso):
        return None
    coupon = CouponRecord(
        code=ids.new_code(COUPON_CODE_LENGTH).upper(),
        click_id=click_id,
        promoter_id=promoter_id,
        task_id=task.task_id,
        value_minor=task.coupon_value_minor,
        currency=task.currency,
        issued_at=at_iso,
        channel=channel,
        valid_until=_valid_until(at_iso),
    )
    return _issue(coupon, task, at)


def record_drawn(click: ClickRecord) -> Coupon | None:
    """The tracking consumer's part for a click INSERT whose redirect drew a coupon: record it (once, by
    click id) and, the first time, tell the promoter. Requests: 1 TransactWriteItems (+1 GetItem of the
    task's progress and the coalesced notice when new; a replay stops after the transaction)."""
    drawn = _drawn_record(click)
    if drawn is None:
        return None
    return _issue(drawn, None, clock.parse_iso(click.created_at))


def _issue(record: CouponRecord, task: ActiveTask | None, at: datetime) -> Coupon | None:
    if not store.put_coupon(record):
        existing = store.get_click_coupon(record.click_id)
        return _coupon(existing) if existing else None
    channel = record.channel or ""
    if record.coupon_status == "issued":
        live = task or active_task(record.promoter_id, channel)
        _tell_promoter(record, channel, live if live is not None and live.task_id == record.task_id else None, at)
    return _coupon(record)


def _valid_until(issued_at: str) -> str:
    return clock.iso(clock.parse_iso(issued_at) + timedelta(days=settings.tracking().coupon_valid_days))


def expires_at(coupon: CouponRecord) -> str:
    """When the coupon stops being redeemable; coupons recorded before expiry existed get the default."""
    return coupon.valid_until or _valid_until(coupon.issued_at)


def _expired(coupon: CouponRecord, at: str) -> bool:
    return clock.parse_iso(at) >= clock.parse_iso(expires_at(coupon))


def _tell_promoter(coupon: CouponRecord, channel: str, task: ActiveTask | None, at: datetime) -> None:
    """Clicks are anonymous and cheap to repeat: one coupon per click is fine, but the promoter hears about
    them once per task and UTC hour (the inbox item counts them), and never by SMS."""
    hour = clock.hour_bucket(at)
    remaining = task.target_transactions - task.transactions if task and task.target_transactions else 0

    def data_for(count: int) -> dict[str, Any]:
        return {
            "task_id": coupon.task_id,
            "channel": channel,
            "value_minor": coupon.value_minor,
            "currency": coupon.currency,
            "coupons": count,
            "hour": hour,
            "remaining_transactions": remaining,
        }

    notify_coalesced(
        coupon.promoter_id,
        "coupon_issued",
        notifications_dal.coupon_notice(coupon.promoter_id, coupon.task_id, hour),
        data_for,
    )


def redeem_coupon_for_click(
    click_id: str, at: datetime | None = None, payment_ref: str | None = None, merchant_id: str | None = None
) -> Coupon | None:
    """Hook for settlement: mark the click's coupon redeemed by a payment made ``at``, once, and post the
    platform's incentive to the merchant in the same transaction. Returns the redeemed coupon, or None when
    the click has no coupon, it was redeemed before, or it had expired by ``at``. ``merchant_id`` (the sale's)
    stands in for coupons recorded without their merchant. Requests: 1 GetItem of the coupon + 1
    TransactWriteItems; when the stream has not recorded the coupon yet, +1 GetItem of the click, and the
    transaction records it redeemed."""
    _check_click_id(click_id)
    redeemed_at = clock.iso(at)
    for _ in range(2):  # a second round when the stream recorded the coupon meanwhile
        stored = store.get_click_coupon(click_id)
        if stored is not None:
            if stored.coupon_status != "issued" or _expired(stored, redeemed_at):
                return None
            redeemed = _redeemed(stored, redeemed_at, payment_ref)
            incentive = _incentive_items(redeemed, merchant_id)
            return _coupon(redeemed) if store.redeem_coupon(stored, redeemed_at, payment_ref, incentive) else None
        click = tracking.get_click(click_id)
        drawn = None if click is None else _drawn_record(click)
        if drawn is None or _expired(drawn, redeemed_at):
            return None
        redeemed = _redeemed(drawn, redeemed_at, payment_ref)
        if store.put_coupon(redeemed, _incentive_items(redeemed, merchant_id)):
            return _coupon(redeemed)
    return None


def _redeemed(coupon: CouponRecord, redeemed_at: str, payment_ref: str | None) -> CouponRecord:
    return replace(coupon, coupon_status="redeemed", redeemed_at=redeemed_at, payment_ref=payment_ref or None)


def _incentive_items(coupon: CouponRecord, sale_merchant_id: str | None) -> list[TransactItem]:
    """The ledger entries of the coupon's incentive: the platform pays the merchant the discount the shopper
    got (the merchant's credit is ``available`` at once). None without a merchant to credit."""
    merchant_id = coupon.merchant_id or sale_merchant_id
    if merchant_id is None:
        logger.warning("coupon redeemed without a merchant to credit", extra={"code": coupon.code})
        return []
    transaction = LedgerTransaction.of(
        f"{COUPON_TRANSACTION_PREFIX}{coupon.code}",
        coupon.currency,
        clock.iso(),
        coupon.payment_ref or coupon.code,
        [
            Posting(PLATFORM_INCENTIVES, -coupon.value_minor, COUPON_INCENTIVE),
            Posting(merchant_id, coupon.value_minor, COUPON_INCENTIVE, state="available"),
        ],
    )
    return ledger_dal.posting_items(transaction)


def merchant_coupon(merchant_id: str, code: str) -> MerchantCoupon:
    """A coupon as the merchant of its product sees it at checkout: valid, redeemed or expired. 404 for an
    unknown code and for another merchant's coupon alike (a code says nothing about other merchants).
    Requests: 2 GetItem (+1 GetItem of the click for a coupon recorded without its product)."""
    code = code.upper()
    coupon = store.get_coupon_by_code(code) if _COUPON_CODE.match(code) else None
    if coupon is not None and coupon.merchant_id is None:
        click = tracking.get_click(coupon.click_id)
        coupon = None if click is None else replace(coupon, merchant_id=click.merchant_id, product_id=click.product_id)
    if coupon is None or coupon.merchant_id != merchant_id or coupon.product_id is None:
        raise NotFound("no such coupon")
    status: Literal["valid", "redeemed", "expired"] = (
        "redeemed" if coupon.coupon_status == "redeemed" else "expired" if _expired(coupon, clock.iso()) else "valid"
    )
    return MerchantCoupon(
        code=coupon.code,
        status=status,
        value_minor=coupon.value_minor,
        currency=coupon.currency,
        product_id=coupon.product_id,
        expires_at=expires_at(coupon),
        redeemed_at=coupon.redeemed_at,
        payment_id=coupon.payment_ref.split(":", 1)[-1] if coupon.payment_ref else None,
    )


def _drawn_record(click: ClickRecord) -> CouponRecord | None:
    """The coupon record of a click that drew one (as stored by ``tuishou.dal.coupons``), else None."""
    if (
        not click.coupon_code
        or click.coupon_task_id is None
        or click.coupon_value_minor is None
        or click.coupon_currency is None
    ):
        return None
    return CouponRecord(
        code=click.coupon_code,
        click_id=click.click_id,
        promoter_id=click.promoter_id,
        task_id=click.coupon_task_id,
        value_minor=click.coupon_value_minor,
        currency=click.coupon_currency,
        issued_at=click.created_at,
        channel=click.channel,
        product_id=click.product_id,
        merchant_id=click.merchant_id,
        valid_until=_valid_until(click.created_at),
    )


def coupon_of_click(click_id: str) -> Coupon | None:
    _check_click_id(click_id)
    item = store.get_click_coupon(click_id)
    return _coupon(item) if item else None


def _coupon(record: CouponRecord) -> Coupon:
    return Coupon(
        code=record.code,
        click_id=record.click_id,
        promoter_id=record.promoter_id,
        task_id=record.task_id,
        value_minor=record.value_minor,
        currency=record.currency,
        status=record.coupon_status,
        issued_at=record.issued_at,
        redeemed_at=record.redeemed_at,
    )
