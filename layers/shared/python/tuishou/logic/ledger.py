"""Rewardable events and their grants into the double-entry ledger, exactly once.

One store, one shape: every rewardable event (``sale_commission``, ``channel_bonus``, ``invite_signup``) is
recorded in LedgerTable by ``tuishou.dal.ledger.event_item`` — conditionally, first version wins — BEFORE
its grant is attempted, indexed by UTC hour for the compensation scan.

One grant decision: the grant record ``EVENT#{id}`` / ``GRANT`` (``attribute_not_exists``) in the SAME
TransactWriteItems as the money (``grant_items``). The normal path (settlement, channel completion,
invites) and the compensation scan both build their transaction from ``grant_items``, so whichever
commits second is cancelled on that condition and moves nothing. See docs/compensation.md."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum

from tuishou import clock
from tuishou.dal import holds as holds_dal
from tuishou.dal import ledger as ledger_dal
from tuishou.dal.dynamo import TransactItem
from tuishou.dal.holds import HoldRecord
from tuishou.errors import ServiceUnavailable
from tuishou.logic import faults
from tuishou.models.ledger import (
    LEDGER_STATES,
    PAYMENT_CLEARING,
    PLATFORM_FEES,
    PROMOTION_EXPENSE,
    SYSTEM_PREFIX,
    LedgerAuditReport,
    LedgerState,
    LedgerTransaction,
    LedgerViolation,
    Posting,
    RewardableEvent,
)
from tuishou.models.tasks import DEFAULT_HOLDING_DAYS

SALE_COMMISSION = "sale_commission"
CHANNEL_BONUS = "channel_bonus"
INVITE_SIGNUP = "invite_signup"
SALE_TRANSACTION_PREFIX, REFUND_TRANSACTION_PREFIX = "sale:", "refund:"
GRANT_INDEX = 0  # the grant record is item 0 of ``grant_items``


class GrantOutcome(StrEnum):
    GRANTED = "granted"  # this call moved the money
    ALREADY = "already_granted"  # someone else did, before
    SKIPPED = "skipped"  # the ``grant.skip`` fault point fired: the scan will find it
    NOTHING = "nothing_to_grant"  # the event moves no money


def sale_event_id(provider: str, payment_id: str) -> str:
    """Deterministic: every delivery of one payment names the same event (and so the same grant)."""
    return f"{SALE_COMMISSION}:{provider}:{payment_id}"


def grant_transaction_id(event_id: str) -> str:
    return f"grant:{event_id}"


def record_event(event: RewardableEvent) -> RewardableEvent:
    """Record ``event`` (1 conditional PutItem) and return the version stored (the first one wins)."""
    return ledger_dal.put_event_if_absent(event)


def holding_days(event: RewardableEvent) -> int:
    """The product's holding period as recorded with the sale (first version wins, so every granter agrees);
    a sale recorded before products had one holds for the default."""
    return int(event.details.get("holding_days", DEFAULT_HOLDING_DAYS))


def sale_credit_state(event: RewardableEvent) -> LedgerState:
    """Where a sale's commission and revenue are credited: pending during a holding period, else available."""
    return "pending" if holding_days(event) > 0 else "available"


def money_transaction(event: RewardableEvent, created_at: str) -> LedgerTransaction:
    """The money an event moves. A sale is the whole balanced sale from its recorded split (clearing ->
    promoter commission + merchant revenue + platform fee), identical whoever grants it, credited pending
    for the product's holding period; a fixed-amount event is paid from the promotion expense account,
    available at once (the platform's own incentive: nothing a refund can take back)."""
    if event.kind == SALE_COMMISSION:
        d = event.details
        reference = f"{d['provider']}:{d['payment_id']}"
        state = sale_credit_state(event)
        return LedgerTransaction.of(
            f"{SALE_TRANSACTION_PREFIX}{reference}",
            event.currency,
            created_at,
            reference,
            [
                Posting(PAYMENT_CLEARING, -int(d["amount_minor"]), "sale_payment"),
                Posting(event.user_id, event.amount_minor, "sale_commission", state),
                Posting(d["merchant_id"], int(d["merchant_minor"]), "sale_revenue", state),
                Posting(PLATFORM_FEES, int(d.get("platform_fee_minor", 0)), "platform_fee"),
            ],
        )
    return LedgerTransaction.of(
        grant_transaction_id(event.event_id),
        event.currency,
        created_at,
        event.event_id,
        [
            Posting(PROMOTION_EXPENSE, -event.amount_minor, event.kind),
            Posting(event.user_id, event.amount_minor, event.kind, "available"),
        ],
    )


def state_transfer(
    account_id: str,
    currency: str,
    amount_minor: int,
    from_state: LedgerState,
    to_state: LedgerState,
    kind: str,
    transaction_id: str,
    reference: str,
    created_at: str,
) -> LedgerTransaction:
    """Move an account's money from one lifecycle state to another: two entries on the same account
    (balanced, the account's total unchanged), e.g. a release (pending -> available) or a payout."""
    return LedgerTransaction.of(
        transaction_id,
        currency,
        created_at,
        reference,
        [Posting(account_id, -amount_minor, kind, from_state), Posting(account_id, amount_minor, kind, to_state)],
    )


def _hold_of(event: RewardableEvent, sale: LedgerTransaction, also: tuple[LedgerTransaction, ...]) -> HoldRecord | None:
    """The hold a sale's grant starts: the pending money it credits (net of a refund posted with it) and
    when it is released. None when the product holds nothing (credited available) or for any other event."""
    if event.kind != SALE_COMMISSION or sale_credit_state(event) != "pending":
        return None
    merchant_id = event.details["merchant_id"]

    def pending(account_id: str, transactions: tuple[LedgerTransaction, ...]) -> int:
        return sum(
            p.amount_minor
            for txn in transactions
            for p in txn.postings
            if p.account_id == account_id and p.state == "pending"
        )

    created_at = clock.parse_iso(sale.created_at)
    return HoldRecord(
        event_id=event.event_id,
        currency=event.currency,
        release_at=clock.iso(created_at + timedelta(days=holding_days(event))),
        promoter_id=event.user_id,
        commission_minor=pending(event.user_id, (sale,)),
        merchant_id=merchant_id,
        merchant_minor=pending(merchant_id, (sale,)),
        refunded_commission_minor=-pending(event.user_id, also),
        refunded_merchant_minor=-pending(merchant_id, also),
    )


class NothingToGrant(ValueError):
    """The event moves no money (a zero fixed amount, a zero-amount payment): there is no grant to make."""


def moves_money(event: RewardableEvent) -> bool:
    """Zero is a legal commission: a sale whose commission rounds to 0 still moves the merchant's revenue
    (and is granted, without a promoter entry). Only an event whose transaction has no posting at all moves
    nothing; it is never granted and a scan counts it as nothing owed."""
    return bool(money_transaction(event, "").postings)


def grant_items(event: RewardableEvent, *also: LedgerTransaction, created_at: str | None = None) -> list[TransactItem]:
    """Item 0: the grant record (the exactly-once condition); then the event's granted stamp (which also
    requires the event to exist), the entries and balances of the event's money plus ``also`` (netted: one
    update per balance item), and for a sale credited pending, its hold (``tuishou.logic.holds``)."""
    now = created_at or clock.iso()
    txn = money_transaction(event, now)
    if not txn.postings:
        raise NothingToGrant(event.event_id)
    hold = _hold_of(event, txn, also)
    return [
        ledger_dal.grant_put(event.event_id, txn.transaction_id),
        ledger_dal.event_granted_update(event.event_id, txn.transaction_id, now),
        *ledger_dal.posting_items(txn, *also),
        *([holds_dal.hold_put(hold)] if hold else []),
    ]


def write_grant(items: list[TransactItem]) -> bool:
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
    if not moves_money(event):
        return GrantOutcome.NOTHING
    if faults.fire(faults.GRANT_SKIP):
        return GrantOutcome.SKIPPED
    return GrantOutcome.GRANTED if write_grant(grant_items(event)) else GrantOutcome.ALREADY


def grant_event(event: RewardableEvent) -> bool:
    """Record ``event`` and grant it (normal path). True when this call granted it; False otherwise
    (granted before, or skipped by the fault point — then the compensation scan grants it)."""
    return grant_recorded_event(record_event(event)) is GrantOutcome.GRANTED


# ---------------------------------------------------------------- audit
MAX_REPORTED_VIOLATIONS = 100


def audit_ledger() -> LedgerAuditReport:
    """Check the whole ledger (a full Scan: admin and soak use only, see docs/payments.md)."""
    return audit(ledger_dal.scan_money_records())


def audit(records: Iterable[ledger_dal.MoneyRecord]) -> LedgerAuditReport:
    """The ledger's invariants over entries and balances: every transaction sums to zero per currency;
    every balance equals the sum of its entries, and each lifecycle state of a user's balance the sum of its
    entries in that state; no transaction posts twice to one account and state (so no payment is posted
    twice); per payment and account, refunds never take back more than the sale posted."""
    by_transaction: dict[tuple[str, str], int] = defaultdict(int)
    postings: dict[tuple[str, str, str | None], int] = defaultdict(int)
    by_account: dict[tuple[str, str], int] = defaultdict(int)
    by_state: dict[tuple[str, str, LedgerState], int] = defaultdict(int)
    balances: dict[tuple[str, str], int] = {}
    state_balances: dict[tuple[str, str, LedgerState], int] = {}
    sold: dict[tuple[str | None, str], int] = defaultdict(int)
    refunded: dict[tuple[str | None, str], int] = defaultdict(int)
    entries = 0
    for record in records:
        account = (record.account_id, record.currency)
        if isinstance(record, ledger_dal.BalanceRecord):
            balances[account] = record.balance_minor
            if not record.account_id.startswith(SYSTEM_PREFIX):
                state_balances.update({(*account, s): record.in_state(s) for s in LEDGER_STATES})
            continue
        entries += 1
        amount, transaction = record.amount_minor, record.transaction_id
        by_transaction[(transaction, record.currency)] += amount
        postings[(transaction, record.account_id, record.state)] += 1
        by_account[account] += amount
        if record.state:
            by_state[(*account, record.state)] += amount
        if transaction.startswith(SALE_TRANSACTION_PREFIX):
            sold[(record.reference, record.account_id)] += amount
        elif transaction.startswith(REFUND_TRANSACTION_PREFIX):
            refunded[(record.reference, record.account_id)] += amount
    violations = [
        *(
            LedgerViolation(rule="unbalanced_transaction", subject=f"{t} {c}", detail=f"entries sum to {total}")
            for (t, c), total in sorted(by_transaction.items())
            if total
        ),
        *(
            LedgerViolation(
                rule="balance_mismatch",
                subject=f"{a} {c}",
                detail=f"balance {balances.get((a, c), 0)}, entries sum to {by_account.get((a, c), 0)}",
            )
            for a, c in sorted(set(balances) | set(by_account))
            if balances.get((a, c), 0) != by_account.get((a, c), 0)
        ),
        *(
            LedgerViolation(
                rule="state_mismatch",
                subject=f"{a} {c} {s}",
                detail=f"{s} balance {state_balances.get((a, c, s), 0)}, entries sum to {by_state.get((a, c, s), 0)}",
            )
            for a, c, s in sorted(set(state_balances) | set(by_state))
            if state_balances.get((a, c, s), 0) != by_state.get((a, c, s), 0)
        ),
        *(
            LedgerViolation(
                rule="posted_twice", subject=f"{t} / {a}", detail=f"{count} {s or ''} entries in one transaction"
            )
            for (t, a, s), count in sorted(postings.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
            if count > 1
        ),
        *(
            LedgerViolation(
                rule="refund_exceeds_posted",
                subject=f"{r} / {a}",
                detail=f"posted {sold.get((r, a), 0)}, refunds {total}",
            )
            for (r, a), total in sorted(refunded.items())
            if not _within(total, sold.get((r, a), 0))
        ),
    ]
    return LedgerAuditReport(
        ok=not violations,
        transactions=len({t for t, _ in by_transaction}),
        entries=entries,
        accounts=len(set(balances) | set(by_account)),
        payments=len({r for r, _ in [*sold, *refunded]}),
        violation_count=len(violations),
        violations=violations[:MAX_REPORTED_VIOLATIONS],
    )


def _within(refunds: int, posted: int) -> bool:
    """A refund reverses part of what was posted: opposite sign, no larger."""
    return refunds == 0 or (refunds * posted < 0 and abs(refunds) <= abs(posted))
