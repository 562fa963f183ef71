"""Account statements (balances and entries) and the admin lists of unattributed payments and rejected
notifications."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

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

Row = TypeVar("Row", bound=BaseModel)


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
    return UnattributedPaymentsResponse(items=_rows(UnattributedPayment, items), next_cursor=next_cursor)


def rejected_notifications(limit: int, cursor: str | None) -> RejectedNotificationsResponse:
    items, next_cursor = payments_dal.rejected(limit, cursor)
    return RejectedNotificationsResponse(items=_rows(RejectedNotification, items), next_cursor=next_cursor)


def _rows(row_type: type[Row], items: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Each listed item as a row of the admin list: the row's fields, absent ones as None."""
    return [row_type.model_validate({name: item.get(name) for name in row_type.model_fields}) for item in items]
