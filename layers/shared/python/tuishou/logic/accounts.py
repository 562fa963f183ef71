"""Account statements (balances and entries) and the admin lists of unattributed payments and rejected
notifications."""

from __future__ import annotations

from tuishou.dal import ledger as ledger_dal
from tuishou.dal import payments as payments_dal
from tuishou.models.payments import (
    AccountResponse,
    Balance,
    Entry,
    RejectedNotification,
    RejectedNotificationsResponse,
    UnattributedPayment,
    UnattributedPaymentsResponse,
)


def statement(account_id: str, limit: int, cursor: str | None) -> AccountResponse:
    """Two Queries: the balances, and one page of entries newest first."""
    items, next_cursor = ledger_dal.entries(account_id, limit, cursor)
    balances = sorted(ledger_dal.balances(account_id), key=lambda b: b.currency)
    return AccountResponse(
        balances=[Balance(currency=b.currency, balance_minor=b.balance_minor) for b in balances],
        entries=[Entry.model_validate(e, from_attributes=True) for e in items],
        next_cursor=next_cursor,
    )


def unattributed_payments(limit: int, cursor: str | None) -> UnattributedPaymentsResponse:
    items, next_cursor = payments_dal.unattributed(limit, cursor)
    rows = [UnattributedPayment.model_validate(item, from_attributes=True) for item in items]
    return UnattributedPaymentsResponse(items=rows, next_cursor=next_cursor)


def rejected_notifications(limit: int, cursor: str | None) -> RejectedNotificationsResponse:
    items, next_cursor = payments_dal.rejected(limit, cursor)
    rows = [RejectedNotification.model_validate(item, from_attributes=True) for item in items]
    return RejectedNotificationsResponse(items=rows, next_cursor=next_cursor)
