"""What the ledger stream derives (``LedgerStreamFunction``): the consequences of a settled sale, of its
full refund, of a recorded channel bonus, and of a payout requested or ended.

- A settlement record that became ``settled`` (written so, or moved there from another status): the sale is
  counted (``tuishou.logic.counting``: counters, per-day aggregates, category, ranking dirty mark), counted
  toward the promoter's active channel task (which may complete it: bonus event, grant, notification) and,
  when its click carried a quota-rescue coupon still valid when the payment was made, the coupon is
  redeemed together with the platform's incentive to the merchant (ledger entries, once).
- A settlement whose cumulative refunds now cover the whole amount: the sale's channel-task progress is
  reversed, and the bonus clawed back by the rule in docs/incentives.md. A partial refund changes no
  progress (the sale still happened).
- A ``channel_bonus`` event inserted (by a task's completion): its grant and notification, both once —
  the completion did them already unless it died first.
- A payout record inserted (a payout requested): a message on the payout queue (``logic.payouts``); a payout
  that became paid or failed: its user's ``payout_paid`` / ``payout_failed`` notification, once.

Everything here is idempotent by the fact's own id — the sale's counted marker (``sale:{provider}:{payment}``),
the task's counted and reversal items (``tx:{provider}:{payment}``), the coupon's status, the bonus and
clawback grant records, the notification id derived from the bonus event — so a replayed record changes
nothing. The records carry all the facts (``tuishou.dal.payments.SettledSale``): no read to interpret them."""

from __future__ import annotations

from collections.abc import Sequence

from tuishou import clock
from tuishou.dal import channel_tasks as channel_tasks_dal
from tuishou.dal import payments as payments_dal
from tuishou.dal import payouts as payouts_dal
from tuishou.dal.payments import SettledSale
from tuishou.dal.streams import Change
from tuishou.logic import channel_tasks, counting, coupons, payouts
from tuishou.logic.counting import CountedEvent
from tuishou.models.tasks import DIRECT_CHANNEL
from tuishou.observability import logger


def derive(changes: Sequence[Change]) -> None:
    """Derive each change in stream order; raises (the chunk is retried) when a derivation fails. The
    pointers of the channels the chunk's new sales count on are read at once (one BatchGetItem)."""
    found = [(payments_dal.settlement_change(change), change) for change in changes]
    counted = [s.after for s, _ in found if s is not None and s.before is None and not s.after.fully_refunded]
    pointers: dict[tuple[str, str], channel_tasks.ActiveTask | None] = (
        channel_tasks.active_tasks([(sale.promoter_id, _channel(sale)) for sale in counted]) if counted else {}
    )
    for settlement, change in found:
        if settlement is None and _payout_change(change):
            continue
        if settlement is None:
            bonus = channel_tasks_dal.inserted_event(change)
            if bonus is not None:
                channel_tasks.bonus_recorded(bonus)
        elif settlement.before is None:
            sale_settled(settlement.after, _pointer(pointers, settlement.after))
        elif settlement.after.fully_refunded and not settlement.before.fully_refunded:
            sale_refunded(settlement.after)


def _payout_change(change: Change) -> bool:
    """A payout record inserted (queued for sending) or ended (its user told); False for anything else."""
    requested = payouts_dal.requested_payout(change)
    if requested is not None:
        payouts.payout_requested(*requested)
        return True
    ended = payouts_dal.ended_payout(change)
    if ended is not None:
        payouts.payout_ended(ended)
        return True
    return False


def _pointer(
    pointers: dict[tuple[str, str], channel_tasks.ActiveTask | None], sale: SettledSale
) -> channel_tasks.ActiveTask | channel_tasks.Unread | None:
    """The chunk's read of the sale's channel pointer: "no task" stays true for the chunk; a task's counts
    change with its first sale, so the pair's later sales read the pointer again."""
    pair = (sale.promoter_id, _channel(sale))
    if pair in pointers and pointers[pair] is None:
        return None
    return pointers.pop(pair, channel_tasks.UNREAD)


def _channel(sale: SettledSale) -> str:
    return sale.channel or DIRECT_CHANNEL


def sale_settled(
    sale: SettledSale, active: channel_tasks.ActiveTask | channel_tasks.Unread | None = channel_tasks.UNREAD
) -> None:
    channel = _channel(sale)
    counting.count(
        [
            CountedEvent(
                event_id=f"sale:{sale.reference}",
                field="transactions",
                promoter_id=sale.promoter_id,
                product_id=sale.product_id,
                channel=channel,
                at=clock.parse_iso(sale.occurred_at),
                revenue_minor=sale.amount_minor,
                commission_minor=sale.commission_minor,
                category=sale.category,
            )
        ]
    )
    if not sale.fully_refunded:  # refunded in full before it settled: it never counts toward a task
        progress = channel_tasks.record_channel_transaction(
            sale.promoter_id, channel, clock.parse_iso(sale.paid_at), sale.reference, active=active
        )
        logger.info("sale counted for channel task", extra={"reference": sale.reference, "outcome": progress.outcome})
    if sale.coupon and sale.click_id:
        coupons.redeem_coupon_for_click(
            sale.click_id, clock.parse_iso(sale.paid_at), payment_ref=sale.reference, merchant_id=sale.merchant_id
        )


def sale_refunded(sale: SettledSale) -> None:
    refunded_at = sale.refund_updated_at or sale.paid_at
    reversal = channel_tasks.reverse_channel_transaction(sale.promoter_id, _channel(sale), refunded_at, sale.reference)
    logger.info(
        "refunded sale reversed for channel task",
        extra={"reference": sale.reference, "outcome": reversal.outcome, "clawed_back": reversal.clawed_back_minor},
    )
