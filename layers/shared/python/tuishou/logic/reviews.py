"""The review queue of held commissions: opening a review with the held sale, the admins' decision, and the
promoter's view (docs/integrity.md).

A held sale's commission lies in ``COMMISSIONS_UNDER_REVIEW``. A decision is ONE transaction: the review
goes from ``open`` to ``approved`` or ``declined`` (conditional: a decision is final), the decision's grant
record ``EVENT#review:{review_id}`` / ``GRANT`` (``attribute_not_exists``: the ledger's one grant decision,
so the commission leaves the suspense account once), a check that no refund step landed since the
settlement was read, and the entries: what is left of the commission (net of refunds) moves to the promoter
(approved) or to the merchant (declined)."""

from __future__ import annotations

from tuishou import clock, ids
from tuishou.dal import ledger as ledger_dal
from tuishou.dal import payments as payments_dal
from tuishou.dal import reviews as store
from tuishou.dal.dynamo import TransactItem
from tuishou.dal.payments import SettlementTerms
from tuishou.dal.reviews import PromoterReviewRecord, ReviewRecord
from tuishou.errors import Conflict, NotFound, ServiceUnavailable
from tuishou.logic.ledger import SALE_TRANSACTION_PREFIX
from tuishou.logic.notifications import notify
from tuishou.models.ledger import COMMISSIONS_UNDER_REVIEW, LedgerTransaction, Posting, RewardableEvent
from tuishou.models.reviews import (
    CommissionPage,
    CommissionStatus,
    Review,
    ReviewedCommission,
    ReviewPage,
    ReviewStatus,
)
from tuishou.observability import logger

REVIEW_PREFIX = "rev"
DECISION_EVENT_PREFIX = "review:"
# What the promoter is shown for each review status: held while open, then granted or declined.
COMMISSION_STATUS: dict[str, CommissionStatus] = {"open": "held", "approved": "granted", "declined": "declined"}
REVIEW_STATUS: dict[str, ReviewStatus] = {"held": "open", "granted": "approved", "declined": "declined"}


def review_id_for(event_id: str) -> str:
    """The review of a sale is named by its event: settlement, the scan and a refund all compute it."""
    return ids.derived_id(REVIEW_PREFIX, event_id)


def opened(event: RewardableEvent, created_at: str) -> ReviewRecord:
    """The open review of a held sale event (reason and evidence as recorded with the event)."""
    d = event.details
    return ReviewRecord(
        review_id=review_id_for(event.event_id),
        status="open",
        reason=str(d.get("hold_reason") or "held"),
        evidence=dict(d.get("hold_evidence") or {}),
        promoter_id=event.user_id,
        merchant_id=str(d["merchant_id"]),
        product_id=str(d.get("product_id", "")),
        provider=str(d["provider"]),
        payment_id=str(d["payment_id"]),
        event_id=event.event_id,
        amount_minor=int(d["amount_minor"]),
        commission_minor=event.amount_minor,
        currency=event.currency,
        created_at=created_at,
    )


def open_items(event: RewardableEvent, created_at: str) -> list[TransactItem]:
    return store.open_put(opened(event, created_at))


def tell_promoter(event: RewardableEvent) -> None:
    """The promoter learns that a commission is under review: the amount and the day, nothing of why (a
    reason would teach a fraudster which rule to avoid). Once per review (its id names the notification)."""
    try:
        notify(
            event.user_id,
            "commission_under_review",
            {
                "commission_minor": event.amount_minor,
                "currency": event.currency,
                "occurred_at": clock.iso(event.occurred_at),
            },
            notification_id=ids.derived_id("ntf", review_id_for(event.event_id)),
        )
    except Exception:  # the hold is committed; a lost notice must not undo or repeat it
        logger.exception("review notification failed", extra={"event_id": event.event_id})


def commission_account(terms: SettlementTerms, review_status: str | None) -> str:
    """Where a sale's commission lies: with the promoter (never held, or approved), in the suspense account
    (open review), or with the merchant (declined)."""
    if review_status == "open":
        return COMMISSIONS_UNDER_REVIEW
    if review_status == "declined":
        return terms.merchant_id
    return terms.promoter_id


# ---------------------------------------------------------------- the admins' queue
def _review(record: ReviewRecord) -> Review:
    return Review.model_validate(record, from_attributes=True)


def list_reviews(status: ReviewStatus, limit: int, cursor: str | None) -> ReviewPage:
    items, next_cursor = store.with_status(status, limit, cursor)
    return ReviewPage(items=[_review(i) for i in items], next_cursor=next_cursor)


def approve(review_id: str, admin_id: str) -> Review:
    return _decide(review_id, admin_id, "approved", None)


def decline(review_id: str, admin_id: str, reason: str) -> Review:
    return _decide(review_id, admin_id, "declined", reason.strip())


def _decide(review_id: str, admin_id: str, status: ReviewStatus, reason: str | None) -> Review:
    if not ids.is_id(review_id, REVIEW_PREFIX):
        raise NotFound("no such review", field="review_id")
    for _attempt in range(3):
        review = store.get(review_id)
        if review is None:
            raise NotFound("no such review", field="review_id")
        if review.status != "open":
            raise Conflict(f"the review was {review.status} already", field="review_id")
        now = clock.iso()
        try:
            ledger_dal.write(_decision_items(review, status, now, admin_id, reason))
        except ledger_dal.Cancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(2):
                continue  # decided meanwhile (read again: 409), or the decision record exists
            if cancelled.failed(3) or cancelled.failed(4) or cancelled.conflicted:
                continue  # a refund step or the release landed since the read: move what is left now
            raise
        logger.info("review decided", extra={"review_id": review_id, "status": status, "admin": admin_id})
        decided = store.get(review_id)
        assert decided is not None
        return _review(decided)
    raise ServiceUnavailable("the review is being changed concurrently, retry")


def _decision_items(
    review: ReviewRecord, status: ReviewStatus, now: str, admin_id: str, reason: str | None
) -> list[TransactItem]:
    """[review open -> status (0), promoter's copy (1), the decision's grant record (2), no refund since
    the read (3), the sale's hold joined while it runs, entries and balances]. The commission is credited
    ``pending`` and joins the sale's hold while that runs (released with the sale), ``available`` once the
    sale was released."""
    state = payments_dal.load_state(review.provider, review.payment_id, None, grant_of=review.event_id)
    settlement, hold = state.settlement, state.hold
    clawed = settlement.clawed_commission_minor if settlement else 0
    refunded = settlement.refunded_minor if settlement else 0
    remaining = review.commission_minor - clawed
    payee = review.promoter_id if status == "approved" else review.merchant_id
    pending = hold is not None and hold.released_at is None
    reference = f"{review.provider}:{review.payment_id}"
    txn = LedgerTransaction.of(
        # A sale-prefixed id: the audit counts what the decision moves as the sale's (per payment and account).
        f"{SALE_TRANSACTION_PREFIX}{reference}:{status}",
        review.currency,
        now,
        reference,
        [
            Posting(COMMISSIONS_UNDER_REVIEW, -remaining, "commission_under_review"),
            Posting(
                payee,
                remaining,
                "sale_commission" if status == "approved" else "declined_commission",
                "pending" if pending else "available",
            ),
        ],
    )
    joins_hold = []
    if hold is not None and pending and remaining:
        field = "commission_minor" if status == "approved" else "merchant_minor"
        seen = (hold.refunded_commission_minor, hold.refunded_merchant_minor)
        joins_hold = [store.hold_credit(review.event_id, field, remaining, seen)]
    return [
        *store.decision_updates(review, status, now, admin_id, reason),
        ledger_dal.grant_put(f"{DECISION_EVENT_PREFIX}{review.review_id}", txn.transaction_id),
        payments_dal.settlement_refunded_check(review.provider, review.payment_id, refunded),
        *joins_hold,
        *ledger_dal.posting_items(txn),
    ]


# ---------------------------------------------------------------- the promoter's view
def _commission(record: PromoterReviewRecord) -> ReviewedCommission:
    return ReviewedCommission(
        review_id=record.review_id,
        status=COMMISSION_STATUS[record.status],
        product_id=record.product_id,
        payment_id=record.payment_id,
        commission_minor=record.commission_minor,
        currency=record.currency,
        created_at=record.created_at,
        decided_at=record.decided_at,
    )


def promoter_commissions(promoter_id: str, status: CommissionStatus, limit: int, cursor: str | None) -> CommissionPage:
    items, next_cursor = store.of_promoter(promoter_id, REVIEW_STATUS[status], limit, cursor)
    return CommissionPage(items=[_commission(i) for i in items], next_cursor=next_cursor)
