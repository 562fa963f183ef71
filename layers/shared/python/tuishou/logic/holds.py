"""Releasing held money: when a sale's holding period ends, its commission and the merchant's revenue move
from ``pending`` to ``available`` (net of what refunds took back during the hold), once.

The job reads only the release-hour buckets from ``now − lookback`` to ``now`` (one Query each; a hold leaves
the index when released), so items read ≈ holds due. Each release is one transaction: the hold's
``released_update`` (conditional: not released, the same refunds as read) with the two state transfers, so a
refund racing the release is serialised on the hold item and no money is released twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tuishou import clock
from tuishou.dal import holds as holds_dal
from tuishou.dal import ledger as ledger_dal
from tuishou.dal.holds import HoldRecord
from tuishou.logic.ledger import state_transfer
from tuishou.models.ledger import LedgerTransaction
from tuishou.observability import logger

RELEASE_KIND = "release"
RELEASE_TRANSACTION_PREFIX = "release:"
MAX_ATTEMPTS = 3


@dataclass
class ReleaseRun:
    buckets: int = 0
    due: int = 0
    released: int = 0
    released_minor: int = 0
    raced: int = 0


def release_due(now: datetime | None = None, lookback_hours: int = 72) -> ReleaseRun:
    """Release every hold whose ``release_at`` has come, from the buckets of the last ``lookback_hours``."""
    now = now or clock.now()
    until = clock.iso(now)
    run = ReleaseRun()
    for hours_ago in range(lookback_hours, -1, -1):
        run.buckets += 1
        for hold in holds_dal.due_in_hour(clock.hour_bucket(now - timedelta(hours=hours_ago)), until):
            run.due += 1
            released = release(hold, until)
            run.released += released is not None
            run.released_minor += released or 0
            run.raced += released is None
    logger.info("holds released", extra=vars(run))
    return run


def release_transactions(hold: HoldRecord, at: str) -> list[LedgerTransaction]:
    """The state transfers that end ``hold``: each party's pending money, net of refunds, to available."""
    reference = hold.event_id
    transaction_id = f"{RELEASE_TRANSACTION_PREFIX}{hold.event_id}"
    parts = [
        (hold.promoter_id, hold.releasable_commission_minor),
        (hold.merchant_id, hold.releasable_merchant_minor),
    ]
    return [
        state_transfer(
            account, hold.currency, amount, "pending", "available", RELEASE_KIND, transaction_id, reference, at
        )
        for account, amount in parts
        if amount
    ]


def release(hold: HoldRecord, at: str) -> int | None:
    """Release one hold; the amount released, or None when it was released meanwhile (by another run). A
    refund that landed between the read and the write cancels the transaction: read the hold again."""
    for _ in range(MAX_ATTEMPTS):
        try:
            ledger_dal.write(
                [holds_dal.released_update(hold, at), *ledger_dal.posting_items(*release_transactions(hold, at))]
            )
            return hold.releasable_commission_minor + hold.releasable_merchant_minor
        except ledger_dal.Cancelled as cancelled:
            if not (cancelled.failed(0) or cancelled.conflicted):
                raise
            fresh = holds_dal.get_hold(hold.event_id)
            if fresh is None or fresh.released_at is not None:
                return None
            hold = fresh
    return None
