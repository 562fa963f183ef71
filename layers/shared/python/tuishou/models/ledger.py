"""Ledger records: postings, balanced transactions and rewardable events (domain values, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

# System accounts (user accounts are the Cognito sub of the promoter or merchant).
SYSTEM_PREFIX = "system:"
PAYMENT_CLEARING = f"{SYSTEM_PREFIX}payment_clearing"
PLATFORM_FEES = f"{SYSTEM_PREFIX}platform_fees"
PROMOTION_EXPENSE = f"{SYSTEM_PREFIX}promotion_expense"
PLATFORM_INCENTIVES = f"{SYSTEM_PREFIX}platform_incentives"  # pays merchants the discounts of redeemed coupons

# Where a user's money is in its lifecycle (docs/payouts.md): credited ``pending`` while a sale's holding
# period runs, ``available`` once released (what a payout may take), ``in_payout`` while a payout is with its
# provider, ``paid`` once it left the platform. Every user entry carries one; system accounts carry none.
LedgerState = Literal["pending", "available", "in_payout", "paid"]
LEDGER_STATES: tuple[LedgerState, ...] = ("pending", "available", "in_payout", "paid")
# A held sale's commission, until an admin's review decision moves it to the promoter or the merchant.
COMMISSIONS_UNDER_REVIEW = f"{SYSTEM_PREFIX}commissions_under_review"


@dataclass(frozen=True)
class Posting:
    """One side of a transaction on one account. Sign convention: positive = credit (Tuishou owes the
    account holder more), negative = debit. A transaction balances when its postings sum to zero."""

    account_id: str
    amount_minor: int
    kind: str
    state: LedgerState | None = None


@dataclass(frozen=True)
class LedgerTransaction:
    transaction_id: str
    currency: str
    created_at: str
    reference: str
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        if sum(p.amount_minor for p in self.postings) != 0:
            raise ValueError(f"transaction {self.transaction_id} does not balance")

    @classmethod
    def of(
        cls, transaction_id: str, currency: str, created_at: str, reference: str, postings: list[Posting]
    ) -> LedgerTransaction:
        """Zero postings are dropped: an entry that moves nothing is noise in a statement."""
        return cls(transaction_id, currency, created_at, reference, tuple(p for p in postings if p.amount_minor))


@dataclass(frozen=True)
class RewardableEvent:
    """Something that earns ``user_id`` money: written (conditionally) before any money moves, granted into
    the ledger at most once (the grant record keyed by ``event_id``)."""

    event_id: str
    kind: str
    user_id: str
    amount_minor: int
    currency: str
    occurred_at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Zero is legal (a commission may round to 0); a negative reward is not a reward.
        if self.amount_minor < 0:
            raise ValueError(f"event {self.event_id} has a negative amount")


AuditRule = Literal[
    "unbalanced_transaction", "balance_mismatch", "state_mismatch", "posted_twice", "refund_exceeds_posted"
]


class LedgerViolation(BaseModel):
    rule: AuditRule
    subject: str = Field(description="The transaction, account or `payment reference / account` concerned.")
    detail: str


class LedgerAuditReport(BaseModel):
    ok: bool = Field(description="True when no rule is violated.")
    transactions: int = Field(description="Distinct ledger transactions checked.")
    entries: int
    accounts: int = Field(description="Distinct (account, currency) balances checked.")
    payments: int = Field(description="Distinct payment references with sale or refund entries.")
    violation_count: int
    violations: list[LedgerViolation] = Field(description="The first violations found (at most 100).")
