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
    balances = sorted(ledger_dal.balances(account_id), key=lambda b: b["currency"])
    return AccountResponse(
        balances=[Balance(currency=b["currency"], balance_minor=int(b["balance_minor"])) for b in balances],
        entries=[Entry(**{k: e[k] for k in Entry.model_fields}) for e in items],
        next_cursor=next_cursor,
    )


def unattributed_payments(limit: int, cursor: str | None) -> UnattributedPaymentsResponse:
    items, next_cursor = payments_dal.unattributed(limit, cursor)
    return UnattributedPaymentsResponse(
        items=[
            UnattributedPayment.model_validate({k: i.get(k) for k in UnattributedPayment.model_fields}) for i in items
        ],
        next_cursor=next_cursor,
    )


def rejected_notifications(limit: int, cursor: str | None) -> RejectedNotificationsResponse:
    items, next_cursor = payments_dal.rejected(limit, cursor)
    return RejectedNotificationsResponse(
        items=[
            RejectedNotification.model_validate({k: i.get(k) for k in RejectedNotification.model_fields}) for i in items
        ],
        next_cursor=next_cursor,
    )
