"""Granting rewardable events into the double-entry ledger, exactly once.

A rewardable event is first recorded (conditional put, first version wins), then granted in ONE
TransactWriteItems: the grant record keyed by the event id (``attribute_not_exists``), the balanced
entries and the balance updates. A redelivery, a retry after a crash, or a second scanner finds the
grant record and moves nothing. Settlement (``tuishou.logic.settlement``) grants ``sale_commission``
events through the same items inside its own transaction; later features (channel bonuses, the
compensation scan) call ``grant_event``."""

from __future__ import annotations

from tuishou import clock
from tuishou.dal import ledger as ledger_dal
from tuishou.errors import ServiceUnavailable
from tuishou.models.ledger import PROMOTION_EXPENSE, LedgerTransaction, Posting, RewardableEvent

SALE_COMMISSION = "sale_commission"


def sale_event_id(provider: str, payment_id: str) -> str:
    """Deterministic: every delivery of one payment names the same event (and so the same grant)."""
    return f"{SALE_COMMISSION}:{provider}:{payment_id}"


def grant_transaction_id(event_id: str) -> str:
    return f"grant:{event_id}"


def record_event(event: RewardableEvent) -> None:
    ledger_dal.put_event_if_absent(event)


def grant_event(event: RewardableEvent, funding_account: str = PROMOTION_EXPENSE) -> bool:
    """Record ``event`` and credit ``event.user_id`` with its amount, debiting ``funding_account``.
    True when this call granted it; False when it had already been granted (nothing written)."""
    if event.amount_minor <= 0:
        raise ValueError("a rewardable event grants a positive amount")
    record_event(event)
    txn = LedgerTransaction.of(grant_transaction_id(event.event_id), event.currency, clock.iso(), event.event_id, [
        Posting(funding_account, -event.amount_minor, event.kind),
        Posting(event.user_id, event.amount_minor, event.kind)])
    try:
        ledger_dal.write([ledger_dal.grant_put(event.event_id, txn.transaction_id), *ledger_dal.posting_items(txn)])
    except ledger_dal.Cancelled as cancelled:
        if cancelled.failed(0):
            return False
        raise ServiceUnavailable() from cancelled
    return True
