"""Rewardable events and their grants into the double-entry ledger, exactly once.

One store, one shape: every rewardable event (``sale_commission``, ``channel_bonus``, ``invite_signup``) is
recorded in LedgerTable by ``tuishou.dal.ledger.event_item`` — conditionally, first version wins — BEFORE
its grant is attempted, indexed by UTC hour for the compensation scan.

One grant decision: the grant record ``EVENT#{id}`` / ``GRANT`` (``attribute_not_exists``) in the SAME
TransactWriteItems as the money (``grant_items``). The normal path (settlement, channel completion,
invites) and the compensation scan both build their transaction from ``grant_items``, so whichever
commits second is cancelled on that condition and moves nothing. See docs/compensation.md."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tuishou import clock
from tuishou.dal import ledger as ledger_dal
from tuishou.errors import ServiceUnavailable
from tuishou.logic import faults
from tuishou.models.ledger import (
    PAYMENT_CLEARING,
    PLATFORM_FEES,
    PROMOTION_EXPENSE,
    LedgerTransaction,
    Posting,
    RewardableEvent,
)

SALE_COMMISSION = "sale_commission"
CHANNEL_BONUS = "channel_bonus"
INVITE_SIGNUP = "invite_signup"
EVENT_KINDS = (SALE_COMMISSION, CHANNEL_BONUS, INVITE_SIGNUP)
GRANT_INDEX = 0  # the grant record is item 0 of ``grant_items``


class GrantOutcome(StrEnum):
    GRANTED = "granted"  # this call moved the money
    ALREADY = "already_granted"  # someone else did, before
    SKIPPED = "skipped"  # the ``grant.skip`` fault point fired: the scan will find it


def sale_event_id(provider: str, payment_id: str) -> str:
    """Deterministic: every delivery of one payment names the same event (and so the same grant)."""
    return f"{SALE_COMMISSION}:{provider}:{payment_id}"


def grant_transaction_id(event_id: str) -> str:
    return f"grant:{event_id}"


def event_from_item(item: dict[str, Any]) -> RewardableEvent:
    return RewardableEvent(event_id=item["event_id"], kind=item["kind"], user_id=item["user_id"],
                           amount_minor=int(item["amount_minor"]), currency=item["currency"],
                           occurred_at=clock.parse_iso(item["occurred_at"]), details=item.get("details") or {})


def record_event(event: RewardableEvent) -> RewardableEvent:
    """Record ``event`` (1 conditional PutItem) and return the version stored (the first one wins)."""
    return event_from_item(ledger_dal.put_event_if_absent(event))


def money_transaction(event: RewardableEvent, created_at: str) -> LedgerTransaction:
    """The money an event moves. A sale is the whole balanced sale from its recorded split (clearing ->
    promoter commission + merchant revenue + platform fee), identical whoever grants it; a fixed-amount
    event is paid from the promotion expense account."""
    if event.kind == SALE_COMMISSION:
        d = event.details
        reference = f"{d['provider']}:{d['payment_id']}"
        return LedgerTransaction.of(f"sale:{reference}", event.currency, created_at, reference, [
            Posting(PAYMENT_CLEARING, -int(d["amount_minor"]), "sale_payment"),
            Posting(event.user_id, event.amount_minor, "sale_commission"),
            Posting(d["merchant_id"], int(d["merchant_minor"]), "sale_revenue"),
            Posting(PLATFORM_FEES, int(d.get("platform_fee_minor", 0)), "platform_fee")])
    return LedgerTransaction.of(grant_transaction_id(event.event_id), event.currency, created_at, event.event_id, [
        Posting(PROMOTION_EXPENSE, -event.amount_minor, event.kind),
        Posting(event.user_id, event.amount_minor, event.kind)])


def grant_items(event: RewardableEvent, *also: LedgerTransaction,
                created_at: str | None = None) -> list[dict[str, Any]]:
    """Item 0: the grant record (the exactly-once condition); then the event's granted stamp (which also
    requires the event to exist) and the entries and balances of the event's money plus ``also`` (netted:
    one update per balance item)."""
    if event.amount_minor <= 0:
        raise ValueError("a rewardable event grants a positive amount")
    now = created_at or clock.iso()
    txn = money_transaction(event, now)
    return [ledger_dal.grant_put(event.event_id, txn.transaction_id),
            ledger_dal.event_granted_update(event.event_id, txn.transaction_id, now),
            *ledger_dal.posting_items(txn, *also)]


def write_grant(items: list[dict[str, Any]]) -> bool:
    """Commit a transaction built on ``grant_items`` (at ``GRANT_INDEX``). False when the event was granted
    before; a transient conflict is retried, then 503."""
    for attempt in range(3):
        try:
            ledger_dal.write(items)
            return True
        except ledger_dal.Cancelled as cancelled:
            if cancelled.failed(GRANT_INDEX):
                return False
            if not cancelled.conflicted or attempt == 2:
                raise ServiceUnavailable() from cancelled
    raise ServiceUnavailable()


def grant_recorded_event(event: RewardableEvent) -> GrantOutcome:
    """The normal path, after the event is recorded: the ``grant.skip`` fault point, then the grant."""
    if faults.fire(faults.GRANT_SKIP):
        return GrantOutcome.SKIPPED
    return GrantOutcome.GRANTED if write_grant(grant_items(event)) else GrantOutcome.ALREADY


def grant_event(event: RewardableEvent) -> bool:
    """Record ``event`` and grant it (normal path). True when this call granted it; False otherwise
    (granted before, or skipped by the fault point — then the compensation scan grants it)."""
    return grant_recorded_event(record_event(event)) is GrantOutcome.GRANTED
