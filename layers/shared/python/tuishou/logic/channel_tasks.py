"""Channel bonus tasks: templates, offers, acceptance, progress hooks, completion with an exactly-once
bonus and notice, reversal of a refunded sale with the bonus clawback rule, and the at-risk reminder scan.

Where progress lives: while a task is active, its terms and counts sit on the promoter×channel counter
item (TrackingTable, see ``tuishou.dal.channel_tasks``). A flow that already read that item passes it to
``active_task_from`` and knows, with zero extra requests, whether a task is active on the channel. Each
counted event is a small item of its own (with a TTL), written in the same transaction as the count, so
the counter item stays small however many events count.

Integration points (see docs/incentives.md): the share flow's ``record_channel_promotion``; the ledger
stream consumer's ``record_channel_transaction``, ``reverse_channel_transaction`` and ``bonus_recorded``;
``offer_for_channel`` and, in ``tuishou.logic.coupons``, ``coupon_for_click`` / ``redeem_coupon_for_click``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from tuishou import clock, ids
from tuishou.dal import channel_tasks as store
from tuishou.dal import ledger as ledger_dal
from tuishou.dal.channel_tasks import ChannelPointer, ChannelTaskRecord, ReplacedTask, TaskTerms
from tuishou.dal.dynamo import ConditionFailed, TransactItem
from tuishou.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from tuishou.logic.ledger import CHANNEL_BONUS, GrantOutcome, grant_recorded_event
from tuishou.logic.notifications import notify
from tuishou.models.channel_tasks import (
    ChannelTaskList,
    ChannelTaskTemplate,
    ChannelTaskTemplateIn,
    ChannelTaskTemplateList,
    ChannelTaskView,
    Counts,
)
from tuishou.models.ledger import PROMOTION_EXPENSE, LedgerTransaction, Posting, RewardableEvent
from tuishou.observability import logger

TEMPLATE_PREFIX, TASK_PREFIX = "ctt", "ctk"
DEFAULT_REMINDER_LOOKBACK_HOURS = 6
CHANNEL_BONUS_CLAWBACK = "channel_bonus_clawback"
CLAWBACK_WINDOW = timedelta(days=7)
"""A sale refunded in full within this time after its task completed takes the bonus back (once)."""
REF_MARGIN = timedelta(days=2)
"""Counted-event items outlive the clawback window by more than a stream's 24-hour retention."""
REF_DIMENSIONS = {"tx:": "transactions", "pr:": "promotions"}
"""A counted event's ref starts with its dimension's prefix: ``tx:{provider}:{payment}``, ``pr:{promotion}`` (a
link's promotion on the channel in one UTC hour, ``counting.promotion_id``)."""
TX_REF, PROMOTION_REF = REF_DIMENSIONS
MAX_COUNT_ATTEMPTS = 5


Grant = Callable[[RewardableEvent], bool]
"""The ledger port (``grant_bonus`` unless a test passes another): credit an already recorded event's
``amount_minor`` to ``event.user_id`` once per ``event_id`` (conditional write in the same DynamoDB
transaction as the entries). True when it granted now, False otherwise."""


def grant_bonus(event: RewardableEvent) -> bool:
    """The real port: the normal-path grant of a recorded event (with the ``grant.skip`` fault point)."""
    return grant_recorded_event(event) is GrantOutcome.GRANTED


@dataclass(frozen=True)
class ActiveTask:
    """The active task on a promoter×channel, with its live counts (from the counter item)."""

    promoter_id: str
    channel: str
    task_id: str
    template_id: str
    accepted_at: str
    deadline_at: str
    target_transactions: int | None
    target_promotions: int | None
    bonus_minor: int
    currency: str
    coupon_threshold: int
    coupon_value_minor: int
    transactions: int
    promotions: int

    def open_at(self, at: str) -> bool:
        return self.accepted_at <= at < self.deadline_at

    @property
    def met(self) -> bool:
        return (self.target_transactions is None or self.transactions >= self.target_transactions) and (
            self.target_promotions is None or self.promotions >= self.target_promotions
        )

    def remaining(self) -> tuple[int, int]:
        return (
            max(0, (self.target_transactions or 0) - self.transactions),
            max(0, (self.target_promotions or 0) - self.promotions),
        )


class Unread:
    def __repr__(self) -> str:
        return "UNREAD"


UNREAD: Final = Unread()
"""Default of the hooks' ``active`` argument: the hook reads the pointer itself (one GetItem)."""


@dataclass(frozen=True)
class Progress:
    outcome: Literal["no_task", "not_counted", "counted", "completed"]
    task_id: str | None = None
    transactions: int | None = None
    promotions: int | None = None


# ---------------------------------------------------------------- templates (admin)
def create_template(body: ChannelTaskTemplateIn) -> ChannelTaskTemplate:
    if body.target_transactions is None and body.target_promotions is None:
        raise Unprocessable("give target_transactions and/or target_promotions", field="target_transactions")
    if body.coupon_threshold and body.target_transactions is None:
        raise Unprocessable(
            "coupons rescue a transaction quota: set target_transactions or coupon_threshold 0",
            field="coupon_threshold",
        )
    template = ChannelTaskTemplate(template_id=ids.new_id(TEMPLATE_PREFIX), created_at=clock.iso(), **body.model_dump())
    store.put_template(template)
    return template


def list_templates() -> ChannelTaskTemplateList:
    return ChannelTaskTemplateList(items=store.list_templates())


def _offer_view(template: ChannelTaskTemplate) -> ChannelTaskView:
    return ChannelTaskView(
        template_id=template.template_id,
        channel=template.channel,
        status="offered",
        targets=Counts(transactions=template.target_transactions, promotions=template.target_promotions),
        progress=Counts(
            transactions=_zero_if(template.target_transactions), promotions=_zero_if(template.target_promotions)
        ),
        duration_hours=template.duration_hours,
        bonus_minor=template.bonus_minor,
        currency=template.currency,
    )


def _zero_if(target: int | None) -> int | None:
    return None if target is None else 0


def offer_for_channel(channel: str) -> ChannelTaskView | None:
    """The channel's current offer (one GetItem)."""
    return offer_from(store.get_offer(channel))


def offer_from(offer: ChannelTaskTemplate | None) -> ChannelTaskView | None:
    """The share response's ``channel_task_offer`` from an offer already read (no request)."""
    return _offer_view(offer) if offer else None


# ---------------------------------------------------------------- accept and list (promoter)
def accept(promoter_id: str, template_id: str) -> ChannelTaskView:
    """Start the task: deadline = now + duration; counting starts now. 409 when a task from this template is
    active or completed, or another task is active on the channel. Requests: 2 GetItem + 1 TransactWriteItems."""
    if not ids.is_id(template_id, TEMPLATE_PREFIX):
        raise NotFound("no such channel task template", field="template_id")
    template = store.get_template(template_id)
    if template is None:
        raise NotFound("no such channel task template", field="template_id")
    now = clock.now()
    now_iso = clock.iso(now)
    deadline = now + timedelta(hours=template.duration_hours)
    remind_at = max(now, deadline - timedelta(hours=template.reminder_threshold_hours))
    task_id = ids.new_id(TASK_PREFIX)
    terms = TaskTerms(
        task_id=task_id,
        template_id=template_id,
        accepted_at=now_iso,
        deadline_at=clock.iso(deadline),
        target_transactions=template.target_transactions,
        target_promotions=template.target_promotions,
        bonus_minor=template.bonus_minor,
        currency=template.currency,
        coupon_threshold=template.coupon_threshold,
        coupon_value_minor=template.coupon_value_minor,
    )
    task = ChannelTaskRecord(
        **asdict(terms),
        promoter_id=promoter_id,
        channel=template.channel,
        task_status="active",
        duration_hours=template.duration_hours,
        reminder_threshold_hours=template.reminder_threshold_hours,
        remind_at=clock.iso(remind_at),
    )
    replaced = _expired_holder(
        store.get_pointer(promoter_id, template.channel), promoter_id, template.channel, template_id, now_iso
    )
    store.start_task(task, terms, now_iso, replaced)
    logger.info(
        "channel task accepted", extra={"task_id": task_id, "template_id": template_id, "channel": template.channel}
    )
    return _task_view(task, None, now_iso)


def _expired_holder(
    pointer: ChannelPointer | None, promoter_id: str, channel: str, template_id: str, now: str
) -> ReplacedTask | None:
    """The task holding the channel pointer when it is past its deadline (a live one makes accept a 409)."""
    active = active_task_of(pointer, promoter_id, channel)
    if active is None:
        return None
    if active.deadline_at > now:
        raise Conflict(
            "this task is already active"
            if active.template_id == template_id
            else "another task is active on this channel",
            field="template_id",
        )
    return ReplacedTask(active.task_id, active.template_id, active.transactions, active.promotions)


def list_for_promoter(promoter_id: str) -> ChannelTaskList:
    """Offers plus the promoter's tasks, one item per template. Requests: 2 Query (+1 BatchGetItem for live
    progress when a task is active)."""
    now = clock.iso()
    tasks = store.list_tasks(promoter_id)
    live_channels = [t.channel for t in tasks if t.task_status == "active"]
    pointers = store.get_pointers(promoter_id, live_channels)
    views = [
        _task_view(t, active_task_of(pointers.get(t.channel), promoter_id, t.channel), now)
        for t in sorted(tasks, key=lambda t: t.accepted_at, reverse=True)
    ]
    taken = {t.template_id for t in tasks}
    offers = sorted(store.list_offers(), key=lambda o: o.channel)
    views += [_offer_view(o) for o in offers if o.template_id not in taken]
    return ChannelTaskList(items=views)


def _task_view(task: ChannelTaskRecord, live: ActiveTask | None, now: str) -> ChannelTaskView:
    status = task.task_status
    if live is not None and live.task_id == task.task_id:
        transactions, promotions = live.transactions, live.promotions
    else:  # the task left the pointer: its final progress (none recorded when it never counted)
        transactions, promotions = task.progress_transactions or 0, task.progress_promotions or 0
    if status == "active" and task.deadline_at <= now:
        status = "expired"
    targets = Counts(transactions=task.target_transactions, promotions=task.target_promotions)
    return ChannelTaskView(
        template_id=task.template_id,
        task_id=task.task_id,
        channel=task.channel,
        status=status,
        targets=targets,
        progress=Counts(
            transactions=None if targets.transactions is None else transactions,
            promotions=None if targets.promotions is None else promotions,
        ),
        accepted_at=task.accepted_at,
        deadline=task.deadline_at,
        duration_hours=task.duration_hours,
        bonus_minor=task.bonus_minor,
        currency=task.currency,
        completed_at=task.completed_at,
    )


# ---------------------------------------------------------------- the active-task pointer
def active_task_of(pointer: ChannelPointer | None, promoter_id: str, channel: str) -> ActiveTask | None:
    """The active task a promoter×channel pointer carries, or None. Costs no request."""
    if pointer is None:
        return None
    terms = pointer.terms
    return ActiveTask(
        promoter_id=promoter_id,
        channel=channel,
        task_id=terms.task_id,
        template_id=terms.template_id,
        accepted_at=terms.accepted_at,
        deadline_at=terms.deadline_at,
        target_transactions=terms.target_transactions,
        target_promotions=terms.target_promotions,
        bonus_minor=terms.bonus_minor,
        currency=terms.currency,
        coupon_threshold=terms.coupon_threshold,
        coupon_value_minor=terms.coupon_value_minor,
        transactions=pointer.transactions,
        promotions=pointer.promotions,
    )


def active_task_from(counter_item: Mapping[str, Any] | None, promoter_id: str, channel: str) -> ActiveTask | None:
    """The active task carried by a promoter×channel counter item a flow already holds (as returned by an
    UpdateItem with ``ReturnValues=ALL_NEW``, or a stream image), or None. Costs no request."""
    return active_task_of(store.pointer_of(counter_item), promoter_id, channel)


def active_task(promoter_id: str, channel: str) -> ActiveTask | None:
    """One GetItem of the pointer."""
    return active_task_of(store.get_pointer(promoter_id, channel), promoter_id, channel)


def active_tasks(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ActiveTask | None]:
    """The active tasks of several (promoter, channel) pairs: one BatchGetItem per 100 pairs (a stream
    consumer reads a chunk's pointers at once)."""
    return {pair: active_task_of(pointer, *pair) for pair, pointer in store.pointers_of(pairs).items()}


def resolve_active(promoter_id: str, channel: str, active: ActiveTask | Unread | None) -> ActiveTask | None:
    return active_task(promoter_id, channel) if isinstance(active, Unread) else active


# ---------------------------------------------------------------- progress hooks
def record_channel_promotion(
    promoter_id: str,
    channel: str,
    at: datetime,
    *,
    grant: Grant = grant_bonus,
    event_ref: str | None = None,
    active: ActiveTask | Unread | None = UNREAD,
) -> Progress:
    """Hook for the share flow: one promotion on ``channel`` at ``at``. ``event_ref`` (the promotion: link,
    channel and hour) makes a retried call, and every other share of that promotion, count once. Requests: 0
    when ``active`` is given and no task counts promotions there, else ≤ 1 GetItem (only when ``active`` is
    not given) + 1 TransactWriteItems (the event's ref item and the count; a conditional UpdateItem without
    ``event_ref``), + 1 GetItem and a retry when the count moved since it was read; on completion (once per
    task) + 1 TransactWriteItems + the ledger grant + notify."""
    return _record(
        promoter_id, channel, at, "promotions", f"{PROMOTION_REF}{event_ref}" if event_ref else None, grant, active
    )


def record_channel_transaction(
    promoter_id: str,
    channel: str,
    at: datetime,
    event_ref: str,
    *,
    grant: Grant = grant_bonus,
    active: ActiveTask | Unread | None = UNREAD,
) -> Progress:
    """Hook for the ledger stream consumer: one settled sale on ``channel`` at ``at`` (the payment time).
    ``event_ref`` (provider:payment id) makes replayed records count once. Requests as for promotions."""
    if not event_ref:
        raise ValueError("event_ref is required: it makes duplicate settlements count once")
    return _record(promoter_id, channel, at, "transactions", f"{TX_REF}{event_ref}", grant, active)


def _record(
    promoter_id: str,
    channel: str,
    at: datetime,
    dimension: str,
    ref: str | None,
    grant: Grant,
    active: ActiveTask | Unread | None,
) -> Progress:
    task = resolve_active(promoter_id, channel, active)
    at_iso = clock.iso(at)
    for _ in range(MAX_COUNT_ATTEMPTS):
        if task is None:
            return Progress("no_task")
        if task.met:  # a completion a crash interrupted (counted, not completed): any later event finishes it
            return _completed(task, grant) or Progress("not_counted", task.task_id)
        target = task.target_transactions if dimension == "transactions" else task.target_promotions
        seen = task.transactions if dimension == "transactions" else task.promotions
        if target is None or not task.open_at(at_iso) or seen >= target:
            return Progress("not_counted", task.task_id)
        counted = _count(task, dimension, target, seen, at_iso, ref)
        if counted is store.Counted.ALREADY:
            return Progress("not_counted", task.task_id)
        if counted is store.Counted.COUNTED:
            now_task = (
                replace(task, transactions=seen + 1)
                if dimension == "transactions"
                else replace(task, promotions=seen + 1)
            )
            if now_task.met:
                return _completed(now_task, grant) or Progress("counted", task.task_id, *_counts(now_task))
            return Progress("counted", now_task.task_id, *_counts(now_task))
        task = active_task(promoter_id, channel)  # the pointer moved since it was read: read it again
    raise ServiceUnavailable("channel task progress is changing concurrently, retry")


def _counts(task: ActiveTask) -> tuple[int, int]:
    return task.transactions, task.promotions


def _count(task: ActiveTask, dimension: str, target: int, seen: int, at: str, ref: str | None) -> store.Counted:
    if ref is None:
        return store.count_unreferenced(task.promoter_id, task.channel, task.task_id, dimension, target, seen, at)
    kept = _ref_expiry(task.deadline_at)
    progress_ref = store.ProgressRef(ref, task.task_id, task.template_id, dimension, clock.iso(), kept)
    return store.count_progress(task.promoter_id, task.channel, dimension, target, seen, at, progress_ref)


def legacy_refs(promoter_id: str, channel: str, counter_item: Mapping[str, Any]) -> list[store.ProgressRef]:
    """The events the active task's pointer counted while refs were a string set on the counter item
    (``store.LEGACY_REFS``), as the ref items counting writes now (a refunded sale's reversal reads them);
    counted no later than the task's acceptance as far as anyone can tell. Costs no request."""
    task = active_task_from(counter_item, promoter_id, channel)
    if task is None:
        return []
    return [
        store.ProgressRef(
            ref,
            task.task_id,
            task.template_id,
            REF_DIMENSIONS[ref[:3]],
            task.accepted_at,
            _ref_expiry(task.deadline_at),
        )
        for ref in sorted(counter_item.get(store.LEGACY_REFS) or ())
        if ref[:3] in REF_DIMENSIONS
    ]


def _ref_expiry(deadline_at: str) -> int:
    """Refs are kept past the deadline, the clawback window and a stream's retention, then expire (TTL)."""
    return int((clock.parse_iso(deadline_at) + CLAWBACK_WINDOW + REF_MARGIN).timestamp())


def _completed(task: ActiveTask, grant: Grant) -> Progress | None:
    if _complete(task, grant):
        return Progress("completed", task.task_id, task.transactions, task.promotions)
    return None


def bonus_event(task: ActiveTask, completed_at: str) -> RewardableEvent:
    return RewardableEvent(
        event_id=f"{CHANNEL_BONUS}:{task.task_id}",
        kind=CHANNEL_BONUS,
        user_id=task.promoter_id,
        amount_minor=task.bonus_minor,
        currency=task.currency,
        occurred_at=clock.parse_iso(completed_at),
        details={"task_id": task.task_id, "template_id": task.template_id, "channel": task.channel},
    )


def _complete(task: ActiveTask, grant: Grant) -> bool:
    """The quota is met: complete once — the task, the channel pointer and the ``channel_bonus`` rewardable
    event in one conditional transaction — then grant through the ledger, exactly once by event id, and
    notify, once by a notification id derived from the event. A crash (or the ``grant.skip`` fault) between
    completion and grant leaves an ungranted event that the compensation scan finds by its hour bucket and
    grants (docs/compensation.md); the event's own stream record re-runs grant and notice
    (``bonus_recorded``), both idempotent."""
    completed_at = clock.iso()
    event = bonus_event(task, completed_at)
    won = store.complete_task(
        task.promoter_id,
        task.template_id,
        task.channel,
        task.task_id,
        (task.transactions, task.promotions),
        completed_at,
        ledger_dal.event_put(event),
    )
    if not won:
        return False
    _grant_and_notify(event, grant)
    logger.info("channel task completed", extra={"task_id": task.task_id, "event_id": event.event_id})
    return True


def bonus_recorded(event: RewardableEvent) -> None:
    """A ``channel_bonus`` event was recorded (its ledger stream record): grant it and notify the promoter,
    both once (a replay, or the completion that already did both, changes nothing)."""
    if event.kind == CHANNEL_BONUS:
        _grant_and_notify(event, grant_bonus)


def _grant_and_notify(event: RewardableEvent, grant: Grant) -> None:
    granted_now = grant(event)
    logger.info("channel bonus grant", extra={"event_id": event.event_id, "granted_now": granted_now})
    details = event.details
    try:
        notify(
            event.user_id,
            "channel_bonus_completed",
            {
                "task_id": details["task_id"],
                "template_id": details["template_id"],
                "channel": details["channel"],
                "bonus_minor": event.amount_minor,
                "currency": event.currency,
            },
            notification_id=ids.stable_id("ntf", event.occurred_at, event.event_id),
        )
    except ConditionFailed:  # this completion was notified before (its inbox item exists): not again
        logger.info("channel bonus already notified", extra={"event_id": event.event_id})


# ---------------------------------------------------------------- refunds: reversal and clawback
@dataclass(frozen=True)
class Reversal:
    outcome: Literal["not_counted", "reversed", "already_reversed", "final"]
    task_id: str | None = None
    clawed_back_minor: int = 0


def reverse_channel_transaction(promoter_id: str, channel: str, refunded_at: str, event_ref: str) -> Reversal:
    """A refunded sale (``event_ref`` = provider:payment id) no longer counts toward the task it counted
    for, once (a reversal item next to the counted ref). A task still active loses the count; a completed
    task loses it from its recorded progress within ``CLAWBACK_WINDOW`` of its completion, and then its
    bonus is clawed back, once per task (docs/incentives.md); after the window the task is final. Requests:
    1 GetItem (the ref) + 1 GetItem (pointer) + 1 TransactWriteItems, or + 1 GetItem (the task) +
    1 TransactWriteItems for a completed task."""
    ref = store.get_progress_ref(promoter_id, channel, f"{TX_REF}{event_ref}")
    if ref is None:
        return Reversal("not_counted")
    expires_at = _ref_expiry(clock.iso(clock.parse_iso(refunded_at)))
    for _ in range(MAX_COUNT_ATTEMPTS):
        live = active_task(promoter_id, channel)
        if live is None or live.task_id != ref.task_id:
            return _reverse_completed(promoter_id, channel, ref, refunded_at, expires_at)
        if (live.transactions if ref.dimension == "transactions" else live.promotions) == 0:
            return Reversal("final", ref.task_id)  # nothing left to take back
        done = store.reverse_on_pointer(promoter_id, channel, ref, refunded_at, expires_at)
        if done is not store.Reversed.MOVED:
            return Reversal("reversed" if done is store.Reversed.REVERSED else "already_reversed", ref.task_id)
    raise ServiceUnavailable("channel task progress is changing concurrently, retry")


def _reverse_completed(
    promoter_id: str, channel: str, ref: store.ProgressRef, refunded_at: str, expires_at: int
) -> Reversal:
    task = store.get_task(promoter_id, ref.template_id)
    if task is None or task.task_id != ref.task_id or task.task_status != "completed" or task.completed_at is None:
        return Reversal("final", ref.task_id)  # expired or replaced: its progress no longer matters
    if not within_clawback_window(task.completed_at, refunded_at):
        return Reversal("final", ref.task_id)
    claw = _clawback_items(task, refunded_at)
    done = store.reverse_on_task(promoter_id, channel, ref, refunded_at, expires_at, claw)
    if done is store.Reversed.REFUSED:  # clawed back before (another refund), or the bonus is not posted
        claw = []
        done = store.reverse_on_task(promoter_id, channel, ref, refunded_at, expires_at, claw)
    if done is store.Reversed.REVERSED:
        clawed = task.bonus_minor if claw else 0
        logger.info("channel task progress reversed", extra={"task_id": ref.task_id, "clawed_back_minor": clawed})
        return Reversal("reversed", ref.task_id, clawed)
    return Reversal("already_reversed" if done is store.Reversed.ALREADY else "final", ref.task_id)


def within_clawback_window(completed_at: str, refunded_at: str) -> bool:
    """The rule's window: a full refund recorded no later than ``CLAWBACK_WINDOW`` after the task completed
    (or before it: a refund can be recorded while its sale's progress is still being derived)."""
    return clock.parse_iso(refunded_at) <= clock.parse_iso(completed_at) + CLAWBACK_WINDOW


def clawback_id(task_id: str) -> str:
    return f"{CHANNEL_BONUS_CLAWBACK}:{task_id}"


def _clawback_items(task: ChannelTaskRecord, at: str) -> list[TransactItem]:
    """The bonus taken back, once per task (a grant record keyed by the clawback's own id) and only when
    the bonus was posted (its grant record exists): the mirror of the bonus grant."""
    bonus_id = f"{CHANNEL_BONUS}:{task.task_id}"
    amount = task.bonus_minor
    txn = LedgerTransaction.of(
        f"clawback:{bonus_id}",
        task.currency,
        at,
        bonus_id,
        [
            Posting(PROMOTION_EXPENSE, amount, CHANNEL_BONUS_CLAWBACK),
            Posting(task.promoter_id, -amount, CHANNEL_BONUS_CLAWBACK, "available"),
        ],
    )
    return [
        ledger_dal.grant_put(clawback_id(task.task_id), txn.transaction_id),
        store.grant_present_check(bonus_id),
        *ledger_dal.posting_items(txn),
    ]


# ---------------------------------------------------------------- at-risk reminders
@dataclass
class ReminderScan:
    buckets: int = 0
    due: int = 0
    sent: int = 0
    lost_race: int = 0
    expired: int = 0
    already_met: int = 0


def scan_reminders(now: datetime | None = None, lookback_hours: int = DEFAULT_REMINDER_LOOKBACK_HOURS) -> ReminderScan:
    """Remind each active task whose reminder time has come (remaining < threshold) and whose quota is
    unmet, once. Reads only the reminder-hour buckets from ``now − lookback_hours`` to ``now`` (one Query
    each; tasks leave the index when reminded, completed or found expired), so items read ≈ tasks due."""
    now = now or clock.now()
    now_iso = clock.iso(now)
    result = ReminderScan()
    for hours_back in range(lookback_hours, -1, -1):
        result.buckets += 1
        bucket = clock.hour_bucket(now - timedelta(hours=hours_back))
        for task in store.due_reminders(bucket, f"{now_iso}~"):
            result.due += 1
            _remind(task, now_iso, result)
    return result


def _remind(task: ChannelTaskRecord, now_iso: str, result: ReminderScan) -> None:
    promoter_id, template_id, task_id = task.promoter_id, task.template_id, task.task_id
    if task.task_status != "active" or task.deadline_at <= now_iso:
        store.drop_from_reminders(promoter_id, template_id, task_id)
        result.expired += 1
        return
    if not store.claim_reminder(promoter_id, template_id, task_id, task.reminder_threshold_hours, now_iso):
        result.lost_race += 1
        return
    live = active_task(promoter_id, task.channel)
    if live is None or live.task_id != task_id or live.met:
        result.already_met += 1
        return
    sales, shares = live.remaining()
    notify(
        promoter_id,
        "deadline_reminder",
        {
            "task_id": task_id,
            "template_id": template_id,
            "channel": live.channel,
            "deadline": live.deadline_at,
            "remaining_transactions": sales,
            "remaining_promotions": shares,
        },
    )
    result.sent += 1
