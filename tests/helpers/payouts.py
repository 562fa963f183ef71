"""Payout test helpers: a scripted stand-in for ``tuishou.dal.payout_providers`` (same names and shapes)
that counts what it was asked and what it transferred, money made available to a user, the stack's
delivery of payouts and a user's payouts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tuishou import clock
from tuishou.dal import ledger as ledger_dal
from tuishou.models.ledger import PROMOTION_EXPENSE, LedgerTransaction, Posting

ALIPAY = {"type": "alipay", "account": "lin@example.com", "real_name": "林小红"}
STRIPE = {"type": "stripe", "connected_account_id": "acct_1Nv0FGQ9RKHgCVdK"}


class TransferStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PayoutOrder:
    payout_id: str
    currency: str
    amount_minor: int
    method_type: str
    account: str
    real_name: str | None
    title: str


@dataclass(frozen=True)
class TransferResult:
    status: TransferStatus
    provider_reference: str | None = None
    reason: str | None = None


@dataclass
class FakeProviders:
    """``send_outcomes`` are used in order (then ``succeeded``): ``succeeded``, ``failed`` (a permanent refusal),
    ``unknown`` (no transfer made, the answer lost), ``timeout_then_succeed`` (transferred, the answer lost).
    ``query_unknown``: queries fail. A provider honours its idempotency key: a second send of a transferred
    payout id returns the first result without moving money again."""

    send_outcomes: list[str] = field(default_factory=list)
    query_unknown: bool = False
    sends: Counter[str] = field(default_factory=Counter)
    queries: Counter[str] = field(default_factory=Counter)
    transferred: Counter[str] = field(default_factory=Counter)
    orders: list[PayoutOrder] = field(default_factory=list)
    results: dict[str, TransferResult] = field(default_factory=dict)

    PayoutOrder = PayoutOrder
    TransferStatus = TransferStatus
    TransferResult = TransferResult

    def send_transfer(self, order: PayoutOrder) -> TransferResult:
        self.sends[order.payout_id] += 1
        self.orders.append(order)
        if order.payout_id in self.results:
            return self.results[order.payout_id]
        outcome = self.send_outcomes.pop(0) if self.send_outcomes else "succeeded"
        if outcome == "unknown":
            return TransferResult(TransferStatus.UNKNOWN, reason="timeout")
        if outcome == "failed":
            self.results[order.payout_id] = TransferResult(TransferStatus.FAILED, reason="PAYEE_NOT_EXIST")
            return self.results[order.payout_id]
        self.transferred[order.payout_id] += 1
        self.results[order.payout_id] = TransferResult(TransferStatus.SUCCEEDED, f"tr_{order.payout_id[-8:]}")
        if outcome == "timeout_then_succeed":
            return TransferResult(TransferStatus.UNKNOWN, reason="timeout")
        return self.results[order.payout_id]

    def query_transfer(self, order: PayoutOrder) -> TransferResult | None:
        self.queries[order.payout_id] += 1
        if self.query_unknown:
            return TransferResult(TransferStatus.UNKNOWN, reason="query failed")
        return self.results.get(order.payout_id)


def make_available(user_id: str, amount_minor: int, currency: str = "CNY", reference: str | None = None) -> None:
    """Credit ``amount_minor`` to the user's available balance (as a fixed grant is: promotion expense)."""
    reference = reference or f"test-{user_id[:8]}-{amount_minor}-{clock.iso()}"
    ledger_dal.write(
        ledger_dal.posting_items(
            LedgerTransaction(
                f"grant:{reference}",
                currency,
                clock.iso(),
                reference,
                (
                    Posting(PROMOTION_EXPENSE, -amount_minor, "test_grant"),
                    Posting(user_id, amount_minor, "test_grant", "available"),
                ),
            )
        )
    )


def balance(user_id: str, currency: str = "CNY") -> dict[str, Any]:
    found = {b.currency: b for b in ledger_dal.balances(user_id)}.get(currency)
    if found is None:
        return {}
    return {
        "available": found.available_minor,
        "in_payout": found.in_payout_minor,
        "paid": found.paid_minor,
        "total": found.balance_minor,
    }


def deliver(stack: Any) -> None:
    """What AWS does by itself: the ledger stream queues the payout, the worker sends it, the stream tells
    the user."""
    for _ in range(3):
        stack.drain_streams()
        stack.drain_queues(only={"PayoutQueue"})
    stack.drain_streams()


def payouts_of(api: Any, user: Any) -> list[dict[str, Any]]:
    return list(api.get(f"/{user.role}/payouts", as_user=user).json()["items"])
