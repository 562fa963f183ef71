"""Payouts: a user's payout method, a payout's request, its delivery to Alipay or Stripe, exactly once, the
lists, the daily automatic payouts and the sweep. docs/payouts.md tells the whole story.

- The request writes the fact, in ONE transaction: the payout record, the open-payout guard of the user and
  currency, and the ledger transfer ``available -> in_payout`` conditional on the available balance.
- The payout record's stream INSERT puts a message on the payout queue (``payout_requested``); the worker
  (``send``) moves the payout to ``sending`` (a conditional update counting the attempt) and calls the
  provider with the payout id as idempotency key. A payout already ``sending`` (an earlier attempt's outcome
  is unknown) is queried first: it is sent again only when the provider has no transfer for it.
- The outcome ends the payout in one transaction (``paid``: ``in_payout -> paid``; ``failed``:
  ``in_payout -> available``), the guard deleted with it; its stream MODIFY notifies the user.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from tuishou import clock, ids, settings
from tuishou.dal import keys
from tuishou.dal import ledger as ledger_dal
from tuishou.dal import payouts as store
from tuishou.dal.dynamo import ConditionFailed, TransactItem
from tuishou.dal.payouts import MethodRecord, PayoutRecord
from tuishou.errors import Conflict, NotFound, ServiceUnavailable, TuishouError, Unprocessable
from tuishou.logic import ledger
from tuishou.logic.notifications import notify
from tuishou.models.payouts import (
    Payout,
    PayoutAccepted,
    PayoutMethod,
    PayoutMethodSummary,
    PayoutMethodUpdate,
    PayoutPage,
    PayoutRequest,
)
from tuishou.money import format_minor
from tuishou.observability import logger

PAYOUT_REQUESTED, PAYOUT_PAID, PAYOUT_RETURNED = "payout_requested", "payout_paid", "payout_returned"
ALIPAY_CURRENCIES = frozenset({"CNY"})  # Alipay transfers pay yuan only
GUARD_INDEX = 1  # the open-payout guard is item 1 of a request's transaction
ENDED_INDEX = 0  # the payout's end is item 0 of a settlement's transaction
METHODS_PER_PAGE = 100


def _providers() -> ModuleType:
    """The payout provider adapters (``tuishou.dal.payout_providers``), imported when a payout is sent: the
    API functions never load them."""
    return importlib.import_module("tuishou.dal.payout_providers")


# ---------------------------------------------------------------- methods
def mask_account(method_type: str, account: str) -> str:
    """``a***@example.com``, ``138****5678``, ``2088********1234``, ``acct_****wxyz``."""
    if method_type == "stripe":
        return f"acct_****{account[-4:]}"
    if "@" in account:
        name, domain = account.split("@", 1)
        return f"{name[:1]}***@{domain}"
    shown = 4 if account.startswith("2088") else 3  # the user-id prefix, or a mobile number's operator
    return account[:shown] + "*" * max(len(account) - shown - 4, 4) + account[-4:]


def _mask_name(name: str | None) -> str | None:
    return None if not name else "*" * (len(name) - 1) + name[-1]


def _method_view(method: MethodRecord) -> PayoutMethod:
    return PayoutMethod(
        type=method.type,  # type: ignore[arg-type]  # stored from a validated PayoutMethodUpdate
        account_masked=mask_account(method.type, method.account),
        real_name_masked=_mask_name(method.real_name),
        auto_payout=method.auto_payout,
        updated_at=method.updated_at,
    )


def set_method(user_id: str, role: str, update: PayoutMethodUpdate) -> PayoutMethod:
    """Replace the user's one payout method (1 PutItem). A payout already requested keeps the method it was
    requested with."""
    account = update.account if update.type == "alipay" else update.connected_account_id
    assert account is not None  # the model requires it for its type
    method = MethodRecord(
        user_id=user_id,
        role=role,
        type=update.type,
        account=account,
        real_name=update.real_name if update.type == "alipay" else None,
        auto_payout=update.auto_payout,
        updated_at=clock.iso(),
    )
    store.put_method(method)
    return _method_view(method)


def method_of(user_id: str) -> PayoutMethod:
    found = store.get_method(user_id)
    if found is None:
        raise NotFound("no payout method: set one with PUT payout-method")
    return _method_view(found)


# ---------------------------------------------------------------- requests
def request_payout(user_id: str, role: str, request: PayoutRequest) -> PayoutAccepted:
    """Refused (4xx, nothing written): 409 without a method or while another payout in the currency is open;
    422 for a currency the method cannot pay, below the currency's minimum or above the available balance.
    Requests: 1 GetItem (method), 1 GetItem (balance), 1 TransactWriteItems."""
    method = store.get_method(user_id)
    if method is None:
        raise Conflict("no payout method: set one with PUT payout-method first", field="payout_method")
    currency = request.currency
    if method.type == "alipay" and currency not in ALIPAY_CURRENCIES:
        raise Unprocessable("an Alipay payout method pays CNY only", field="currency")
    available = store.available_minor(user_id, currency)
    amount = available if request.amount_minor is None else request.amount_minor
    minimum = settings.payouts().minimum(currency)
    if amount < minimum:
        raise Unprocessable(
            f"{format_minor(amount, currency)} is below the minimum payout of {format_minor(minimum, currency)}",
            field="amount_minor",
        )
    if amount > available:
        raise Unprocessable(f"above the available balance of {format_minor(available, currency)}", field="amount_minor")
    now = clock.iso()
    payout = PayoutRecord(
        payout_id=ids.new_id("pout"),
        user_id=user_id,
        role=role,
        currency=currency,
        amount_minor=amount,
        status="requested",
        method_type=method.type,
        account=method.account,
        real_name=method.real_name,
        requested_at=now,
        updated_at=now,
    )
    _write_request(payout)
    logger.info("payout requested", extra={"payout_id": payout.payout_id, "amount_minor": amount})
    return PayoutAccepted(payout_id=payout.payout_id, status="requested")


def _write_request(payout: PayoutRecord) -> None:
    transfer = ledger.state_transfer(
        payout.user_id,
        payout.currency,
        payout.amount_minor,
        "available",
        "in_payout",
        PAYOUT_REQUESTED,
        f"payout:{payout.payout_id}",
        payout.payout_id,
        payout.requested_at,
    )
    items = [
        store.payout_put(payout),
        store.open_payout_put(payout.user_id, payout.currency, payout.payout_id),
        *ledger_dal.posting_items(
            transfer, available_at_least={(payout.user_id, payout.currency): payout.amount_minor}
        ),
    ]
    balance_index = store.balance_update_index(items, payout.user_id, payout.currency)
    try:
        ledger_dal.write(items)
    except ledger_dal.Cancelled as cancelled:
        if cancelled.failed(GUARD_INDEX):
            raise Conflict(f"another {payout.currency} payout is open", field="currency") from cancelled
        if cancelled.failed(balance_index):
            raise Unprocessable("above the available balance", field="amount_minor") from cancelled
        raise ServiceUnavailable() from cancelled


# ---------------------------------------------------------------- lists
def _view(payout: PayoutRecord) -> Payout:
    return Payout.model_validate(
        {
            **{name: getattr(payout, name) for name in Payout.model_fields if hasattr(payout, name)},
            "method": PayoutMethodSummary.model_validate(
                {"type": payout.method_type, "account_masked": mask_account(payout.method_type, payout.account)}
            ),
        }
    )


def user_payouts(user_id: str, limit: int, cursor: str | None) -> PayoutPage:
    found, next_cursor = store.user_payouts(user_id, limit, cursor)
    return PayoutPage(items=[_view(p) for p in found], next_cursor=next_cursor)


def payouts_with_status(status: str, limit: int, cursor: str | None) -> PayoutPage:
    found, next_cursor = store.payouts_with_status(status, limit, cursor)
    return PayoutPage(items=[_view(p) for p in found], next_cursor=next_cursor)


# ---------------------------------------------------------------- delivery
class RetryLater(Exception):
    """The payout's outcome is not known yet (or another worker holds it): its message is retried later."""


def payout_requested(user_id: str, payout_id: str) -> None:
    """The ledger stream saw a new payout record: queue it for sending."""
    store.enqueue(settings.payouts().required("queue_url"), user_id, payout_id)


def _order(payout: PayoutRecord) -> Any:
    return _providers().PayoutOrder(
        payout_id=payout.payout_id,
        currency=payout.currency,
        amount_minor=payout.amount_minor,
        method_type=payout.method_type,
        account=payout.account,
        real_name=payout.real_name,
        title=f"Tuishou payout {payout.payout_id}",
    )


def send(user_id: str, payout_id: str) -> str:
    """Deliver one payout, once: returns what happened (``paid``, ``failed``, ``done`` when it had ended,
    ``missing``); raises ``RetryLater`` while its outcome is unknown."""
    payout = store.get_payout(user_id, payout_id)
    if payout is None:
        logger.warning("payout message without a payout", extra={"payout_id": payout_id})
        return "missing"
    if payout.status in {"paid", "failed"}:
        return "done"
    providers, order = _providers(), _order(payout)
    if payout.status == "sending" and _in_flight(payout):
        raise RetryLater("an attempt may still be in flight")
    if payout.status == "sending":  # an earlier attempt's outcome is unknown: ask before sending again
        found = providers.query_transfer(order)
        if found is not None:
            return _settle(payout, found)
    if not store.start_sending(payout, clock.iso()):
        raise RetryLater("another worker moved the payout on")
    return _settle(payout, providers.send_transfer(order))


def _in_flight(payout: PayoutRecord) -> bool:
    """An attempt started less than the lease ago (longer than the worker's timeout) may still be waiting for
    the provider: another worker asking now could find nothing and send it again."""
    lease = timedelta(seconds=settings.payouts().send_lease_seconds)
    return clock.parse_iso(payout.updated_at) > clock.now() - lease


def _settle(payout: PayoutRecord, result: Any) -> str:
    status = str(result.status)
    if status == "unknown":
        logger.warning("payout outcome unknown", extra={"payout_id": payout.payout_id, "reason": result.reason})
        raise RetryLater(f"payout {payout.payout_id} outcome unknown: {result.reason}")
    paid = status == "succeeded"
    now = clock.iso()
    transfer = ledger.state_transfer(
        payout.user_id,
        payout.currency,
        payout.amount_minor,
        "in_payout",
        "paid" if paid else "available",
        PAYOUT_PAID if paid else PAYOUT_RETURNED,
        f"{PAYOUT_PAID if paid else PAYOUT_RETURNED}:{payout.payout_id}",
        payout.payout_id,
        now,
    )
    reason = None if paid else (result.reason or "failed")
    items: list[TransactItem] = [
        store.payout_end_update(payout, "paid" if paid else "failed", now, result.provider_reference, reason),
        store.open_payout_delete(payout.user_id, payout.currency, payout.payout_id),
        *ledger_dal.posting_items(transfer),
    ]
    try:
        ledger_dal.write(items)
    except ledger_dal.Cancelled as cancelled:
        if cancelled.failed(ENDED_INDEX):
            return "done"  # another worker ended it first, with the same provider outcome
        raise
    logger.info("payout ended", extra={"payout_id": payout.payout_id, "status": status, "reason": reason})
    return "paid" if paid else "failed"


def handle_messages(event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """An SQS event of the payout queue: each payout sent; the messages that must be retried reported."""
    failures = []
    for record in event.get("Records") or []:
        try:
            outcome = send(*store.payout_message(record["body"]))
            logger.info("payout message", extra={"message_id": record.get("messageId"), "outcome": outcome})
        except RetryLater as later:
            logger.info("payout retried later", extra={"message_id": record.get("messageId"), "why": str(later)})
            failures.append({"itemIdentifier": str(record.get("messageId", ""))})
        except Exception:  # retried by the queue (then dead-lettered; the sweep enqueues the payout again)
            logger.exception("payout message failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": str(record.get("messageId", ""))})
    return {"batchItemFailures": failures}


def payout_ended(payout: PayoutRecord) -> None:
    """The ledger stream saw a payout become paid or failed: tell its user, once (the notification id is
    derived from the payout)."""
    kind = "payout_paid" if payout.status == "paid" else "payout_failed"
    data: dict[str, Any] = {
        "payout_id": payout.payout_id,
        "amount_minor": payout.amount_minor,
        "currency": payout.currency,
    }
    if payout.failure_reason:
        data["reason"] = payout.failure_reason
    try:
        notify(
            payout.user_id,
            kind,
            data,
            notification_id=ids.stable_id("ntf", clock.parse_iso(payout.requested_at), f"{kind}:{payout.payout_id}"),
        )
    except ConditionFailed:  # told before (a replayed stream record)
        logger.info("payout already notified", extra={"payout_id": payout.payout_id})


# ---------------------------------------------------------------- scheduled: automatic payouts, the sweep
@dataclass
class AutoPayoutRun:
    users: int = 0
    requested: int = 0
    skipped: int = 0


def auto_payouts() -> AutoPayoutRun:
    """Every opted-in user (the sharded auto-payout index, never a Scan), every currency with an available
    balance at or above its minimum: a payout requested as by the user. A refusal (an open payout, a currency
    the method cannot pay...) skips that currency; it never fails the run."""
    run = AutoPayoutRun()
    for shard in range(keys.AUTO_PAYOUT_SHARDS):
        after: str | None = None
        while True:
            methods, after = store.auto_payout_methods(shard, METHODS_PER_PAGE, after)
            for method in methods:
                run.users += 1
                _auto_payout(method, run)
            if after is None:
                break
    return run


def _auto_payout(method: MethodRecord, run: AutoPayoutRun) -> None:
    config = settings.payouts()
    for balance in ledger_dal.balances(method.user_id):
        if balance.available_minor < config.minimum(balance.currency):
            continue
        try:
            request_payout(method.user_id, method.role, PayoutRequest(currency=balance.currency, amount_minor=None))
            run.requested += 1
        except TuishouError as refused:
            run.skipped += 1
            logger.info(
                "automatic payout skipped",
                extra={"user_id": method.user_id, "currency": balance.currency, "why": refused.message},
            )


def sweep(now: datetime) -> int:
    """Enqueue again every payout left ``requested`` or ``sending`` for longer than the stuck limit (a lost
    stream record or queue message, a dead-lettered unknown outcome): found through the status index. The
    worker decides again from the payout's status (querying the provider first when it was sending)."""
    before = clock.iso(now - timedelta(minutes=settings.payouts().stuck_minutes))
    queue_url = settings.payouts().required("queue_url")
    found = 0
    for status in ("requested", "sending"):
        for user_id, payout_id in store.unchanged_since(status, before):
            store.enqueue(queue_url, user_id, payout_id)
            found += 1
    return found
