"""Settling provider payments: attribution, the commission split, the ledger transaction, refunds.

Exactly once: every money movement is ONE TransactWriteItems whose first item is conditional on the
payment's state (the settlement record must not exist; a refund must find the cumulative refunded
amount it read). Duplicates, reordering, concurrent deliveries and crashes all end in that condition,
never in an in-memory check. See docs/payments.md for the argument.

A settlement writes the money, its grant and the rewardable event, and nothing else. The settlement
record carries everything its consequences need (promoter, product, category, channel, click, coupon,
amounts, payment time): the ledger stream consumer (``tuishou.logic.ledger_changes``) counts the sale,
moves channel-task progress and redeems the click's coupon from it, without reading again."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from enum import StrEnum

from tuishou import clock, money, settings
from tuishou.dal import holds as holds_dal
from tuishou.dal import ledger as ledger_dal
from tuishou.dal import payments as payments_dal
from tuishou.dal.dynamo import TransactItem
from tuishou.dal.holds import HoldRecord
from tuishou.dal.payments import (
    AttributedProduct,
    PendingRefund,
    ReceivedPayment,
    RefundStep,
    RejectedNotification,
    SaleSettlement,
    SettlementRecord,
    SettlementTerms,
)
from tuishou.dal.tracking import ClickRecord
from tuishou.dal.users import ProfileRecord
from tuishou.errors import ServiceUnavailable
from tuishou.logic import faults
from tuishou.logic.fraud import is_self_purchase
from tuishou.logic.ledger import (
    REFUND_TRANSACTION_PREFIX,
    SALE_COMMISSION,
    grant_items,
    money_transaction,
    moves_money,
    record_event,
    sale_credit_state,
    sale_event_id,
)
from tuishou.logic.rewards import ApplicableRule, applicable_rule, override_for
from tuishou.models.ledger import (
    PAYMENT_CLEARING,
    PLATFORM_FEES,
    LedgerState,
    LedgerTransaction,
    Posting,
    RewardableEvent,
)
from tuishou.observability import logger
from tuishou.providers import PaymentEvent, UnreadableNotification

MAX_ATTEMPTS = 4


class Outcome(StrEnum):
    SETTLED = "settled"
    DUPLICATE = "duplicate"
    UNATTRIBUTED = "unattributed"
    REFUND_APPLIED = "refund_applied"
    REFUND_PENDING = "refund_pending"
    REFUND_RECORDED = "refund_recorded"
    IGNORED = "ignored"
    REJECTED = "rejected"


def record_rejected(provider: str, body: bytes, problem: UnreadableNotification) -> Outcome:
    """A verified notification that does not parse: recorded for admins (``GET /admin/payments/rejected``) and
    acknowledged, since the provider would resend it forever; no money moves."""
    record = RejectedNotification(
        provider=provider,
        notification_id=hashlib.sha256(body).hexdigest()[:32],
        reason=problem.message[:300],
        field=(problem.field or "body")[:100],
        provider_event_id=problem.provider_event_id,
        received_at=clock.iso(),
    )
    payments_dal.record_rejected(record)
    logger.warning(
        "unreadable payment notification",
        extra={"provider": provider, "field": record.field, "notification_id": record.notification_id},
    )
    return Outcome.REJECTED


@dataclass(frozen=True)
class Attribution:
    click: ClickRecord
    product: AttributedProduct
    rule: ApplicableRule
    coupon: bool = False
    profile: ProfileRecord | None = None


@dataclass(frozen=True)
class Unattributed:
    reason: str
    flagged: bool = False


@dataclass(frozen=True)
class Clawback:
    """Cumulative amounts taken back once ``refunded_minor`` of the payment has been refunded."""

    refunded_minor: int
    commission_minor: int
    fee_minor: int
    merchant_minor: int


def handle(event: PaymentEvent) -> Outcome:
    if event.kind == "paid":
        return settle(event)
    return apply_refund(event)


# ---------------------------------------------------------------- payments
GRANT_ITEM = 2  # settlement_put, pending guard, then ``grant_items`` (its grant record first)


class _Money:
    """Who moves the sale's money in this settlement, decided once per delivery: this transaction (the
    normal path), nobody yet (the ``grant.skip`` fault fired: the compensation scan will), or nobody
    because the scan already did (the grant record exists). The grant record is the one decision."""

    def __init__(self) -> None:
        self.skipped: bool | None = None
        self.granted_elsewhere = False

    def grant_here(self) -> bool:
        if self.granted_elsewhere:
            return False
        if self.skipped is None:
            self.skipped = faults.fire(faults.GRANT_SKIP)
        return not self.skipped

    @property
    def how(self) -> str:
        return "compensation" if self.granted_elsewhere else "skipped" if self.skipped else "settlement"


def settle(event: PaymentEvent) -> Outcome:
    mover = _Money()
    for attempt in range(MAX_ATTEMPTS):
        state = payments_dal.load_state(event.provider, event.payment_id, event.click_id)
        if state.settlement is not None:
            return Outcome.DUPLICATE
        attribution = _attribute(event, state.click, state.coupon_issued)
        pending = state.pending_refund
        try:
            if isinstance(attribution, Unattributed):
                _record_unattributed(event, attribution, pending)
                return Outcome.UNATTRIBUTED
            _settle_attributed(event, attribution, pending, mover)
            return Outcome.SETTLED
        except ledger_dal.Cancelled as cancelled:
            if cancelled.failed(0):
                return Outcome.DUPLICATE  # another delivery settled it first: success, nothing more to do
            if cancelled.failed(GRANT_ITEM) and not mover.granted_elsewhere:
                mover.granted_elsewhere = True  # a compensation scan moved the sale's money first
                continue
            if not (cancelled.failed(1) or cancelled.conflicted):
                raise
            _backoff(attempt)  # a refund arrived meanwhile, or a concurrent transaction: read again
    raise ServiceUnavailable("payment is being processed concurrently, retry")


def _attribute(event: PaymentEvent, click: ClickRecord | None, coupon: bool = False) -> Attribution | Unattributed:
    if not event.click_id:
        return Unattributed("missing_click_id")
    if click is None:
        return Unattributed("unknown_click")
    product, profile = payments_dal.load_attribution(click.product_id, click.promoter_id)
    if product is None:
        return Unattributed("unknown_product")
    if product.currency != event.currency:
        return Unattributed("currency_mismatch", flagged=True)
    if profile is None or profile.role != "promoter":
        return Unattributed("unknown_promoter")
    applicable = applicable_rule(
        product.reward_rules,
        profile.tags or ("standard",),
        event.amount_minor,
        override_for(profile, product.product_id),
    )
    if applicable is None:
        return Unattributed("no_reward_rule")
    return Attribution(click, product, applicable, coupon, profile)


def _received(event: PaymentEvent, received_at: str) -> ReceivedPayment:
    return ReceivedPayment(
        provider=event.provider,
        payment_id=event.payment_id,
        amount_minor=event.amount_minor,
        currency=event.currency,
        click_id=event.click_id,
        payer=event.payer,
        provider_event_id=event.provider_event_id,
        occurred_at=clock.iso(event.occurred_at),
        received_at=received_at,
    )


def _pending_total(event: PaymentEvent, pending: PendingRefund | None) -> int:
    """The refund that arrived before this payment, if it can apply (same currency), capped at the amount."""
    if not pending:
        return 0
    if pending.currency != event.currency:
        logger.warning(
            "pending refund currency differs from the payment; not applied",
            extra={"provider": event.provider, "payment_id": event.payment_id},
        )
        return 0
    return min(pending.refunded_minor, event.amount_minor)


def _record_unattributed(event: PaymentEvent, why: Unattributed, pending: PendingRefund | None) -> None:
    record = payments_dal.unattributed_put(
        _received(event, clock.iso()), why.reason, why.flagged, _pending_total(event, pending)
    )
    logger.warning(
        "unattributed payment", extra={"provider": event.provider, "payment_id": event.payment_id, "reason": why.reason}
    )
    ledger_dal.write([record, _pending_guard(event, pending)])


def _pending_guard(event: PaymentEvent, pending: PendingRefund | None) -> TransactItem:
    seen = pending.refunded_minor if pending else None
    return payments_dal.pending_refund_guard(event.provider, event.payment_id, seen)


def _settle_attributed(
    event: PaymentEvent, attribution: Attribution, pending: PendingRefund | None, mover: _Money
) -> None:
    click, product, rule = attribution.click, attribution.product, attribution.rule.rule
    promoter_id, merchant_id = click.promoter_id, product.merchant_id
    split = money.split_payment(event.amount_minor, rule.type, int(rule.value), settings.payments().platform_fee_bps)
    event_id = sale_event_id(event.provider, event.payment_id)
    # The rewardable event comes first: the compensation scan finds every sale, settled or not yet. The
    # first recorded version wins, so every path (and a scan) moves the same amounts.
    sale_event = record_event(
        RewardableEvent(
            event_id=event_id,
            kind=SALE_COMMISSION,
            user_id=promoter_id,
            amount_minor=split.commission_minor,
            currency=event.currency,
            occurred_at=event.occurred_at,
            details={
                "provider": event.provider,
                "payment_id": event.payment_id,
                "product_id": product.product_id,
                "merchant_id": merchant_id,
                "click_id": event.click_id,
                "channel": click.channel,
                "amount_minor": split.amount_minor,
                "merchant_minor": split.merchant_minor,
                "platform_fee_minor": split.platform_fee_minor,
                "payer": event.payer,
                "self_purchase": is_self_purchase(event.payer, attribution.profile),
                "holding_days": product.holding_days,
            },
        )
    )
    recorded = sale_event.details
    split = money.Split(
        int(recorded["amount_minor"]),
        sale_event.amount_minor,
        int(recorded.get("platform_fee_minor", 0)),
        int(recorded["merchant_minor"]),
    )
    now = clock.iso()
    sale = money_transaction(sale_event, now)
    terms = SettlementTerms(
        provider=event.provider,
        payment_id=event.payment_id,
        currency=event.currency,
        amount_minor=event.amount_minor,
        commission_minor=split.commission_minor,
        platform_fee_minor=split.platform_fee_minor,
        promoter_id=promoter_id,
        merchant_id=merchant_id,
    )
    grant_here = moves_money(sale_event) and mover.grant_here()
    settled = SaleSettlement(
        promoter_id=promoter_id,
        merchant_id=merchant_id,
        product_id=product.product_id,
        channel=click.channel,
        link_id=click.link_id,
        category=product.category,
        coupon=attribution.coupon,
        # Providers stamp payments to the second; a payment never precedes its click (ms precision).
        paid_at=clock.iso(max(event.occurred_at, clock.parse_iso(click.created_at))),
        rule=rule,
        rule_overridden=attribution.rule.overridden,
        commission_minor=split.commission_minor,
        merchant_minor=split.merchant_minor,
        platform_fee_minor=split.platform_fee_minor,
        transaction_id=sale.transaction_id,
        event_id=event_id,
        settled_at=now,
        money_by=mover.how if moves_money(sale_event) else "nothing",
    )
    clawed = Clawback(0, 0, 0, 0)
    refunds, extra_items = [], []
    refunded = _pending_total(event, pending)
    if refunded:
        # The refund that overtook its payment is applied in the same transaction, as its own entries —
        # when the sale's money is posted. Otherwise it is only recorded: nothing to take back yet.
        posted = grant_here or mover.granted_elsewhere
        claw = clawback_for(terms, refunded) if posted else Clawback(refunded, 0, 0, 0)
        state = sale_credit_state(sale_event)
        refund_txn = _refund_transaction(terms, Clawback(0, 0, 0, 0), claw, now, state) if posted else None
        refunds += [refund_txn] if refund_txn else []
        clawed = claw
        extra_items.append(
            payments_dal.refund_put(
                _refund_step(terms, refund_txn, claw, 0, pending.last_refund_id if pending else None, now)
            )
        )
    if grant_here:
        money_items = grant_items(sale_event, *refunds, created_at=now)
    elif mover.granted_elsewhere:
        money_items = ledger_dal.posting_items(*refunds)
    else:  # nothing posted: the scan may grant later, net of what is refunded by then
        money_items = [
            ledger_dal.grant_absent_check(event_id),
            *([ledger_dal.event_refunded_update(event_id, refunded)] if refunded else []),
        ]
    ledger_dal.write(
        [
            # item 0: the exactly-once condition of the payment
            payments_dal.settled_put(_received(event, now), settled, _clawed_fields(clawed)),
            _pending_guard(event, pending),  # item 1: no refund slipped in since the read
            *money_items,  # item 2 (GRANT_ITEM): the grant record, the sale's money
            *extra_items,
        ]
    )
    logger.info(
        "payment settled",
        extra={
            "provider": event.provider,
            "payment_id": event.payment_id,
            "commission_minor": split.commission_minor,
            "refunded_minor": refunded,
            "money_by": mover.how,
        },
    )


# ---------------------------------------------------------------- refunds
def clawback_for(settlement: SettlementTerms, refunded_minor: int) -> Clawback:
    """Cumulative clawback after ``refunded_minor`` of the payment is refunded, by the split's rounding rule
    (round-half-even of the proportional share). Computed from the cumulative total, never summed from
    steps, so several partial refunds never claw back more than the sale paid."""
    amount = settlement.amount_minor
    refunded = min(refunded_minor, amount)
    commission = money.proportional_minor(refunded, settlement.commission_minor, amount)
    fee = min(money.proportional_minor(refunded, settlement.platform_fee_minor, amount), refunded - commission)
    return Clawback(refunded, commission, fee, refunded - commission - fee)


def _clawed_fields(claw: Clawback) -> dict[str, int]:
    return {
        "refunded_minor": claw.refunded_minor,
        "clawed_commission_minor": claw.commission_minor,
        "clawed_fee_minor": claw.fee_minor,
        "clawed_merchant_minor": claw.merchant_minor,
    }


def _clawed_so_far(settlement: SettlementRecord) -> Clawback:
    return Clawback(
        settlement.refunded_minor,
        settlement.clawed_commission_minor,
        settlement.clawed_fee_minor,
        settlement.clawed_merchant_minor,
    )


def _refund_transaction(
    settlement: SettlementTerms, before: Clawback, after: Clawback, now: str, state: LedgerState
) -> LedgerTransaction:
    """The clawback of one refund step, taken from where the sale's money is: ``pending`` while its hold
    runs, ``available`` once released (an available balance may go negative: it blocks payouts)."""
    reference = f"{settlement.provider}:{settlement.payment_id}"
    transaction_id = f"{REFUND_TRANSACTION_PREFIX}{reference}:{after.refunded_minor}"
    return LedgerTransaction.of(
        transaction_id,
        settlement.currency,
        now,
        reference,
        [
            Posting(PAYMENT_CLEARING, after.refunded_minor - before.refunded_minor, "refund_payment"),
            Posting(
                settlement.promoter_id, -(after.commission_minor - before.commission_minor), "refund_commission", state
            ),
            Posting(settlement.merchant_id, -(after.merchant_minor - before.merchant_minor), "refund_revenue", state),
            Posting(PLATFORM_FEES, -(after.fee_minor - before.fee_minor), "refund_platform_fee"),
        ],
    )


def _refund_step(
    settlement: SettlementTerms,
    txn: LedgerTransaction | None,
    after: Clawback,
    previous_total: int,
    refund_id: str | None,
    now: str,
) -> RefundStep:
    """One refund step; ``transaction_id`` is absent when the sale's money was not posted (nothing clawed)."""
    return RefundStep(
        provider=settlement.provider,
        payment_id=settlement.payment_id,
        refunded_total_minor=after.refunded_minor,
        refund_minor=after.refunded_minor - previous_total,
        refund_id=refund_id,
        transaction_id=txn.transaction_id if txn else None,
        currency=settlement.currency,
        applied_at=now,
    )


def apply_refund(event: PaymentEvent) -> Outcome:
    for attempt in range(MAX_ATTEMPTS):
        state = payments_dal.load_state(
            event.provider, event.payment_id, None, grant_of=sale_event_id(event.provider, event.payment_id)
        )
        try:
            if state.settlement is None:
                return _keep_pending(event, state.pending_refund)
            return _refund_settled(event, state.settlement, state.granted, state.hold)
        except ledger_dal.Cancelled as cancelled:
            if not (cancelled.failed(0) or cancelled.failed(1) or cancelled.conflicted):
                raise
            _backoff(attempt)  # the payment, another refund step or the release landed meanwhile: read again
    raise ServiceUnavailable("refund is being processed concurrently, retry")


def _keep_pending(event: PaymentEvent, pending: PendingRefund | None) -> Outcome:
    if pending and pending.refunded_minor >= event.amount_minor:
        return Outcome.DUPLICATE
    try:
        ledger_dal.write(
            [
                payments_dal.settlement_absent_check(event.provider, event.payment_id),
                payments_dal.pending_refund_raise(
                    event.provider, event.payment_id, event.amount_minor, event.currency, event.refund_id
                ),
            ]
        )
    except ledger_dal.Cancelled as cancelled:
        if cancelled.failed(1) and not cancelled.failed(0):
            return Outcome.DUPLICATE  # an equal or larger refund is already pending
        raise
    logger.info(
        "refund before its payment kept pending", extra={"provider": event.provider, "payment_id": event.payment_id}
    )
    return Outcome.REFUND_PENDING


def _refund_settled(
    event: PaymentEvent, settlement: SettlementRecord, granted: bool, hold: HoldRecord | None
) -> Outcome:
    if event.currency != settlement.currency:
        logger.warning(
            "refund currency differs from the payment; ignored",
            extra={"provider": event.provider, "payment_id": event.payment_id},
        )
        return Outcome.IGNORED
    before = _clawed_so_far(settlement)
    if min(event.amount_minor, settlement.amount_minor) <= before.refunded_minor:
        return Outcome.DUPLICATE
    if settlement.status != "settled":
        total = min(event.amount_minor, settlement.amount_minor)
        ledger_dal.write(
            [
                payments_dal.settlement_refund_update(
                    event.provider, event.payment_id, before.refunded_minor, {"refunded_minor": total}
                )
            ]
        )
        return Outcome.REFUND_RECORDED
    if not granted:
        return _refund_unposted(event, settlement, before)
    after = clawback_for(settlement, event.amount_minor)
    now = clock.iso()
    held = hold is not None and hold.released_at is None
    txn = _refund_transaction(settlement, before, after, now, "pending" if held else "available")
    ledger_dal.write(
        [
            payments_dal.settlement_refund_update(
                event.provider, event.payment_id, before.refunded_minor, _clawed_fields(after)
            ),
            # item 1: the hold as read (a release racing this refund cancels it, and the retry reads again)
            *([_held_refund(hold, before, after)] if hold is not None and held else []),
            payments_dal.refund_put(_refund_step(settlement, txn, after, before.refunded_minor, event.refund_id, now)),
            *ledger_dal.posting_items(txn),
        ]
    )
    logger.info(
        "refund applied",
        extra={"provider": event.provider, "payment_id": event.payment_id, "refunded_minor": after.refunded_minor},
    )
    return Outcome.REFUND_APPLIED


def _held_refund(hold: HoldRecord, before: Clawback, after: Clawback) -> TransactItem:
    return holds_dal.held_refund_update(
        hold,
        hold.refunded_commission_minor + after.commission_minor - before.commission_minor,
        hold.refunded_merchant_minor + after.merchant_minor - before.merchant_minor,
    )


def _refund_unposted(event: PaymentEvent, settlement: SettlementRecord, before: Clawback) -> Outcome:
    """A refund may only reverse what was posted. The sale's money was not (its grant was dropped by a fault
    or held by the scan), so nothing is clawed back: the refund is recorded on the settlement and on the
    event, in one transaction that requires the grant to be still absent (item 1: a grant that lands
    meanwhile cancels it, and the retry claws back from the posted sale). A later grant posts the sale net
    of this refund; a full refund leaves the scan nothing to grant."""
    total = min(event.amount_minor, settlement.amount_minor)
    after = Clawback(total, 0, 0, 0)
    event_id = sale_event_id(event.provider, event.payment_id)
    ledger_dal.write(
        [
            payments_dal.settlement_refund_update(
                event.provider, event.payment_id, before.refunded_minor, {"refunded_minor": total}
            ),
            ledger_dal.grant_absent_check(event_id),
            ledger_dal.event_refunded_update(event_id, total),
            payments_dal.refund_put(
                _refund_step(settlement, None, after, before.refunded_minor, event.refund_id, clock.iso())
            ),
        ]
    )
    logger.info(
        "refund of a sale never posted recorded", extra={"provider": event.provider, "payment_id": event.payment_id}
    )
    return Outcome.REFUND_RECORDED


# ---------------------------------------------------------------- the scan's grant of a sale
def sale_grant_items(event: RewardableEvent, refunded_minor: int, created_at: str) -> tuple[list[TransactItem], int]:
    """The items that grant a sale the normal path did not (the compensation scan), net of what was
    refunded before it was posted, and the commission this credits. The sale and the clawback of
    ``refunded_minor`` are posted together (netted per balance); the settlement's clawback fields are set in
    the same transaction, conditional on its refunded amount still being ``refunded_minor``."""
    d = event.details  # the sale's facts as recorded with its event (an open-ended map per event kind)
    terms = SettlementTerms(
        provider=d["provider"],
        payment_id=d["payment_id"],
        currency=event.currency,
        amount_minor=int(d["amount_minor"]),
        commission_minor=event.amount_minor,
        platform_fee_minor=int(d.get("platform_fee_minor", 0)),
        promoter_id=event.user_id,
        merchant_id=d["merchant_id"],
    )
    if not refunded_minor:
        return [
            *grant_items(event, created_at=created_at),
            payments_dal.settlement_refunded_check(d["provider"], d["payment_id"], 0),
        ], event.amount_minor
    claw = clawback_for(terms, refunded_minor)
    refund_txn = _refund_transaction(terms, Clawback(0, 0, 0, 0), claw, created_at, sale_credit_state(event))
    update = payments_dal.settlement_refund_update(d["provider"], d["payment_id"], refunded_minor, _clawed_fields(claw))
    return [*grant_items(event, refund_txn, created_at=created_at), update], event.amount_minor - claw.commission_minor


def _backoff(attempt: int) -> None:
    time.sleep(0.02 * (attempt + 1))
