"""Channel bonus tasks data access: templates and channel offers (CatalogTable), a promoter's tasks and
the reminder-bucket index (UsersTable GSI1), the active-task pointer with live progress on the promoter's
channel counter item (TrackingTable) and one small item per counted event and per reversal (TrackingTable,
with a TTL); click-bound coupons are ``tuishou.dal.coupons``. The ``channel_bonus`` rewardable event is the
ledger's (``tuishou.dal.ledger.event_put``), written in the completion transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from tuishou import clock
from tuishou.dal import dynamo, keys
from tuishou.dal.ledger import rewardable_event
from tuishou.dal.streams import Change
from tuishou.errors import Conflict
from tuishou.models.channel_tasks import Channel, ChannelTaskTemplate, TaskStatus
from tuishou.models.ledger import RewardableEvent

# Attributes this feature owns on the promoter×channel counter item (keys.promoter_channel).
POINTER = "chtask"  # map: the active task's fixed terms (task id, window, targets, coupon terms)
POINTER_TX = "chtask_tx"  # transactions counted for it
POINTER_PROMO = "chtask_promo"  # promotions counted for it
LEGACY_REFS = "chtask_refs"  # the string set of counted refs items held before refs became items: removed
POINTER_PROJECTION = f"{POINTER}, {POINTER_TX}, {POINTER_PROMO}"
_PROGRESS_ATTRIBUTE = {"transactions": POINTER_TX, "promotions": POINTER_PROMO}


@dataclass(frozen=True)
class TaskTerms:
    """An accepted task's fixed terms, as its channel pointer carries them (its task item repeats them)."""

    task_id: str
    template_id: str
    accepted_at: str
    deadline_at: str
    bonus_minor: int
    currency: str
    target_transactions: int | None = None
    target_promotions: int | None = None
    coupon_threshold: int = 0
    coupon_value_minor: int = 0


@dataclass(frozen=True)
class ChannelPointer:
    """The active-task attributes of a promoter×channel counter item: the task's terms and its live counts."""

    terms: TaskTerms
    transactions: int = 0
    promotions: int = 0


def pointer_of(counter_item: Mapping[str, Any] | None) -> ChannelPointer | None:
    """The task pointer a promoter×channel counter item carries (as read, as an UpdateItem returned it, or
    a stream image of it), or None. Costs no request."""
    terms = counter_item.get(POINTER) if counter_item is not None else None
    if counter_item is None or not terms:
        return None
    return ChannelPointer(
        dynamo.as_record(TaskTerms, terms),
        int(counter_item.get(POINTER_TX, 0)),
        int(counter_item.get(POINTER_PROMO, 0)),
    )


@dataclass(frozen=True)
class ChannelTaskRecord:
    """A promoter's task of one template as stored: its terms, status, reminder time and, once it left the
    channel pointer (completed or expired), its final progress."""

    task_id: str
    template_id: str
    promoter_id: str
    channel: Channel
    accepted_at: str
    deadline_at: str
    duration_hours: int
    bonus_minor: int
    currency: str
    reminder_threshold_hours: int
    remind_at: str
    task_status: TaskStatus = "active"
    target_transactions: int | None = None
    target_promotions: int | None = None
    coupon_threshold: int = 0
    coupon_value_minor: int = 0
    progress_transactions: int | None = None
    progress_promotions: int | None = None
    completed_at: str | None = None


@dataclass(frozen=True)
class ReplacedTask:
    """An expired task that held the channel pointer when another was accepted, with its final progress."""

    task_id: str
    template_id: str
    transactions: int
    promotions: int


def _stored(record: TaskTerms | ChannelTaskRecord) -> dict[str, Any]:
    """A record's attributes as stored: absent ones (None) are not written."""
    return {name: value for name, value in asdict(record).items() if value is not None}


def _task(item: Mapping[str, Any] | None) -> ChannelTaskRecord | None:
    return None if item is None else dynamo.as_record(ChannelTaskRecord, item)


def template_of(item: Mapping[str, Any]) -> ChannelTaskTemplate:
    """A template or channel-offer item (which repeats its template) as the template."""
    return ChannelTaskTemplate.model_validate({k: item.get(k) for k in ChannelTaskTemplate.model_fields})


def _templates(**kwargs: Any) -> list[ChannelTaskTemplate]:
    return [template_of(item) for item in dynamo.query_all(**kwargs)]


def _transact_unless_failed(items: list[dynamo.TransactItem]) -> bool:
    """One transaction; False (nothing written) when one of its conditions did not hold."""
    try:
        dynamo.transact(items)
    except dynamo.Cancelled as cancelled:
        if cancelled.any_failed:
            return False
        raise
    return True


# ---------------------------------------------------------------- templates and offers
def put_template(template: ChannelTaskTemplate) -> None:
    """The template and its channel's offer (the newest template per channel) in one transaction."""
    record = template.model_dump()
    template_pk, template_sk = keys.channel_task_template(template.template_id)
    offer_pk, offer_sk = keys.channel_offer(template.channel)
    template_item = {
        "pk": template_pk,
        "sk": template_sk,
        "gsi1pk": keys.CHANNEL_TEMPLATES_INDEX,
        "gsi1sk": f"{template.created_at}#{template.template_id}",
        **record,
    }
    offer_item = {
        "pk": offer_pk,
        "sk": offer_sk,
        "gsi1pk": keys.CHANNEL_OFFERS_INDEX,
        "gsi1sk": template.channel,
        **record,
    }
    catalog = dynamo.table("catalog")
    dynamo.transact(
        [
            {
                "Put": {
                    "TableName": catalog,
                    "Item": dynamo.to_item(template_item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": catalog, "Item": dynamo.to_item(offer_item)}},
        ]
    )


def get_template(template_id: str) -> ChannelTaskTemplate | None:
    item = dynamo.get("catalog", keys.channel_task_template(template_id))
    return None if item is None else template_of(item)


def list_templates() -> list[ChannelTaskTemplate]:
    """Newest first; one Query per page of GSI1 ``CHTEMPLATES`` (templates are few: an admin writes them)."""
    return _templates(
        TableName=dynamo.table("catalog"),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.CHANNEL_TEMPLATES_INDEX}},
        ScanIndexForward=False,
    )


def list_offers() -> list[ChannelTaskTemplate]:
    """The current offer of each channel (at most one per channel): one Query of GSI1 ``CHOFFERS``."""
    return _templates(
        TableName=dynamo.table("catalog"),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.CHANNEL_OFFERS_INDEX}},
    )


def get_offer(channel: str) -> ChannelTaskTemplate | None:
    item = dynamo.get("catalog", keys.channel_offer(channel))
    return None if item is None else template_of(item)


# ---------------------------------------------------------------- tasks
def list_tasks(promoter_id: str) -> list[ChannelTaskRecord]:
    pk = keys.channel_task(promoter_id, "")[0]
    items = dynamo.query_all(
        TableName=dynamo.table("users"),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": keys.CHANNEL_TASK_PREFIX}},
    )
    return [dynamo.as_record(ChannelTaskRecord, item) for item in items]


def get_pointer(promoter_id: str, channel: str) -> ChannelPointer | None:
    """The promoter×channel counter item's task attributes (one strongly consistent GetItem)."""
    return pointer_of(
        dynamo.get(
            "tracking", keys.promoter_channel(promoter_id, channel), consistent=True, projection=POINTER_PROJECTION
        )
    )


def get_pointers(promoter_id: str, channels: Sequence[str]) -> dict[str, ChannelPointer]:
    """Pointers of several channels in one BatchGetItem (at most 7 channels)."""
    if not channels:
        return {}
    wanted = [keys.promoter_channel(promoter_id, c) for c in sorted(set(channels))]
    found = dynamo.batch_get({"tracking": wanted}, projection=f"pk, sk, {POINTER_PROJECTION}")
    return {sk.split("#", 1)[1]: pointer for (_, _, sk), item in found.items() if (pointer := pointer_of(item))}


def pointers_of(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ChannelPointer | None]:
    """The pointers of several (promoter, channel) pairs: one BatchGetItem per 100 distinct pairs."""
    distinct = sorted(set(pairs))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(distinct), 100):
        keyed = {keys.promoter_channel(p, c): (p, c) for p, c in distinct[start : start + 100]}
        items = dynamo.batch_get({"tracking": list(keyed)}, projection=f"pk, sk, {POINTER_PROJECTION}")
        for (_, pk, sk), item in items.items():
            found[keyed[(pk, sk)]] = item
    return {pair: pointer_of(found.get(pair)) for pair in distinct}


def start_task(task: ChannelTaskRecord, pointer_terms: TaskTerms, now: str, replaced: ReplacedTask | None) -> None:
    """Accept: the task item (unless one is active or completed), the channel pointer (unless another task is
    active on the channel) and, when an expired task of another template held the pointer, its final
    progress, all in one transaction. The task enters the reminder index (GSI1) in the hour bucket of its
    ``remind_at``."""
    users, tracking = dynamo.table("users"), dynamo.table("tracking")
    pk, sk = keys.channel_task(task.promoter_id, task.template_id)
    remind_at = task.remind_at
    reminder_index = {
        "gsi1pk": keys.reminder_bucket(clock.hour_bucket(clock.parse_iso(remind_at))),
        "gsi1sk": f"{remind_at}#{task.task_id}",
    }
    pointer_values: dict[str, Any] = {":terms": dynamo.to_value(_stored(pointer_terms)), ":zero": {"N": "0"}}
    if replaced:
        pointer_condition = f"{POINTER}.task_id = :previous AND {POINTER}.deadline_at <= :now"
        pointer_values.update({":previous": {"S": replaced.task_id}, ":now": {"S": now}})
    else:
        pointer_condition = f"attribute_not_exists({POINTER})"
    items: list[dynamo.TransactItem] = [
        {
            "Put": {
                "TableName": users,
                "Item": dynamo.to_item({"pk": pk, "sk": sk, **_stored(task), **reminder_index}),
                "ConditionExpression": "attribute_not_exists(pk) OR (task_status = :active AND deadline_at <= :now)",
                "ExpressionAttributeValues": {":active": {"S": "active"}, ":now": {"S": now}},
            }
        },
        {
            "Update": {
                "TableName": tracking,
                "Key": dynamo.key(*keys.promoter_channel(task.promoter_id, task.channel)),
                "UpdateExpression": f"SET {POINTER} = :terms, {POINTER_TX} = :zero, {POINTER_PROMO} = :zero "
                f"REMOVE {LEGACY_REFS}",
                "ConditionExpression": pointer_condition,
                "ExpressionAttributeValues": pointer_values,
            }
        },
    ]
    if replaced and replaced.template_id != task.template_id:
        items.append(
            {
                "Update": {
                    "TableName": users,
                    "Key": dynamo.key(*keys.channel_task(task.promoter_id, replaced.template_id)),
                    "UpdateExpression": (
                        "SET task_status = :expired, progress_transactions = :tx, progress_promotions = :pr "
                        "REMOVE gsi1pk, gsi1sk"
                    ),
                    "ConditionExpression": "task_id = :previous AND task_status = :active",
                    "ExpressionAttributeValues": {
                        ":expired": {"S": "expired"},
                        ":active": {"S": "active"},
                        ":previous": {"S": replaced.task_id},
                        ":tx": {"N": str(replaced.transactions)},
                        ":pr": {"N": str(replaced.promotions)},
                    },
                }
            }
        )
    try:
        dynamo.transact(items)
    except dynamo.Cancelled as cancelled:
        if cancelled.failed(0):
            raise Conflict("this task is already active or completed", field="template_id") from cancelled
        if cancelled.any_failed:
            raise Conflict("another task is active on this channel", field="template_id") from cancelled
        raise


class Counted(StrEnum):
    COUNTED = "counted"  # this call added one
    ALREADY = "already"  # the event's ref was counted before: nothing added
    MOVED = "moved"  # the pointer is not as read (another count, completion, a new task): read it again


@dataclass(frozen=True)
class ProgressRef:
    """An event counted toward a task: which task, and until when its item is kept (``expires_at``,
    epoch seconds, DynamoDB TTL)."""

    ref: str
    task_id: str
    template_id: str
    dimension: str
    counted_at: str
    expires_at: int


def count_progress(
    promoter_id: str, channel: str, dimension: str, target: int, seen: int, at: str, ref: ProgressRef
) -> Counted:
    """Count one transaction or promotion for the active task ``ref.task_id``: the ADD on the pointer holds
    only inside the task's window, for the count ``seen`` that was read (so the caller knows the new count
    without reading again) below the target; the ``ref`` item is put in the same transaction, conditional
    on being new, so an event counts once however often it is delivered. Requests: 1 TransactWriteItems."""
    counter = _PROGRESS_ATTRIBUTE[dimension]
    condition = (
        f"{POINTER}.task_id = :tid AND {POINTER}.accepted_at <= :at AND {POINTER}.deadline_at > :at "
        f"AND {counter} = :seen AND {counter} < :target"
    )
    update = {
        "TableName": dynamo.table("tracking"),
        "Key": dynamo.key(*keys.promoter_channel(promoter_id, channel)),
        "UpdateExpression": f"ADD {counter} :one",
        "ConditionExpression": condition,
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":tid": {"S": ref.task_id},
            ":at": {"S": at},
            ":seen": {"N": str(seen)},
            ":target": {"N": str(target)},
        },
    }
    try:
        dynamo.transact([_ref_put(keys.channel_task_ref(promoter_id, channel, ref.ref), ref), {"Update": update}])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed(0):
            return Counted.ALREADY
        if cancelled.any_failed or cancelled.conflicted:
            return Counted.MOVED
        raise
    return Counted.COUNTED


def count_unreferenced(
    promoter_id: str, channel: str, task_id: str, dimension: str, target: int, seen: int, at: str
) -> Counted:
    """As ``count_progress`` for an event without an id of its own (one conditional UpdateItem)."""
    counter = _PROGRESS_ATTRIBUTE[dimension]
    updated = dynamo.conditional_update(
        TableName=dynamo.table("tracking"),
        Key=dynamo.key(*keys.promoter_channel(promoter_id, channel)),
        UpdateExpression=f"ADD {counter} :one",
        ConditionExpression=f"{POINTER}.task_id = :tid AND {POINTER}.accepted_at <= :at "
        f"AND {POINTER}.deadline_at > :at AND {counter} = :seen AND {counter} < :target",
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":tid": {"S": task_id},
            ":at": {"S": at},
            ":seen": {"N": str(seen)},
            ":target": {"N": str(target)},
        },
    )
    return Counted.MOVED if updated is None else Counted.COUNTED


def _ref_put(key: tuple[str, str], ref: ProgressRef, **extra: Any) -> dynamo.TransactItem:
    item = {
        "pk": key[0],
        "sk": key[1],
        "ref": ref.ref,
        "task_id": ref.task_id,
        "template_id": ref.template_id,
        "dimension": ref.dimension,
        "counted_at": ref.counted_at,
        "expires_at": ref.expires_at,
        **extra,
    }
    return {
        "Put": {
            "TableName": dynamo.table("tracking"),
            "Item": dynamo.to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def restore_progress_ref(promoter_id: str, channel: str, ref: ProgressRef) -> bool:
    """Write the ref item of an event counted before refs were items, unless it exists (1 PutItem; False
    when it did). For upgrading counter items that still hold ``LEGACY_REFS``."""
    put = _ref_put(keys.channel_task_ref(promoter_id, channel, ref.ref), ref)["Put"]
    try:
        dynamo.call("put_item", **put)
    except dynamo.ConditionFailed:
        return False
    return True


def get_progress_ref(promoter_id: str, channel: str, ref: str) -> ProgressRef | None:
    """The task an event was counted toward, or None (never counted, or expired). One GetItem."""
    found = dynamo.get("tracking", keys.channel_task_ref(promoter_id, channel, ref), consistent=True)
    if not found:
        return None
    return ProgressRef(
        ref=found["ref"],
        task_id=found["task_id"],
        template_id=found["template_id"],
        dimension=found["dimension"],
        counted_at=found["counted_at"],
        expires_at=int(found["expires_at"]),
    )


class Reversed(StrEnum):
    REVERSED = "reversed"  # this call took the event's count back
    ALREADY = "already"  # reversed before: nothing changed
    MOVED = "moved"  # the task is not where it was (completed, replaced): read it again
    REFUSED = "refused"  # an extra item (a clawback) did not hold; the rest was not written


def reverse_on_pointer(
    promoter_id: str, channel: str, ref: ProgressRef, reversed_at: str, reversal_expires_at: int
) -> Reversed:
    """Take one count back from the still active task (the pointer), once per ref: the reversal item and
    the ADD −1 in one TransactWriteItems."""
    counter = _PROGRESS_ATTRIBUTE[ref.dimension]
    update = {
        "Update": {
            "TableName": dynamo.table("tracking"),
            "Key": dynamo.key(*keys.promoter_channel(promoter_id, channel)),
            "UpdateExpression": f"ADD {counter} :minus",
            "ConditionExpression": f"{POINTER}.task_id = :tid AND {counter} > :zero",
            "ExpressionAttributeValues": {":minus": {"N": "-1"}, ":tid": {"S": ref.task_id}, ":zero": {"N": "0"}},
        }
    }
    return _reverse(promoter_id, channel, ref, reversed_at, reversal_expires_at, [update])


def reverse_on_task(
    promoter_id: str,
    channel: str,
    ref: ProgressRef,
    reversed_at: str,
    reversal_expires_at: int,
    clawback: list[dynamo.TransactItem],
) -> Reversed:
    """Take one count back from a completed task's recorded progress, once per ref, with the ``clawback``
    items (a grant record and the money, or none) in the same TransactWriteItems."""
    counter = f"progress_{ref.dimension}"
    update = {
        "Update": {
            "TableName": dynamo.table("users"),
            "Key": dynamo.key(*keys.channel_task(promoter_id, ref.template_id)),
            "UpdateExpression": f"SET {counter} = {counter} - :one",
            "ConditionExpression": f"task_id = :tid AND task_status = :completed AND {counter} > :zero",
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":zero": {"N": "0"},
                ":tid": {"S": ref.task_id},
                ":completed": {"S": "completed"},
            },
        }
    }
    return _reverse(promoter_id, channel, ref, reversed_at, reversal_expires_at, [update, *clawback])


def _reverse(
    promoter_id: str,
    channel: str,
    ref: ProgressRef,
    reversed_at: str,
    expires_at: int,
    items: list[dynamo.TransactItem],
) -> Reversed:
    marker_key = keys.channel_task_reversal(promoter_id, channel, ref.ref)
    marker = _ref_put(marker_key, replace(ref, expires_at=expires_at), reversed_at=reversed_at)
    try:
        dynamo.transact([marker, *items])
    except dynamo.Cancelled as cancelled:
        if cancelled.failed(0):
            return Reversed.ALREADY
        if cancelled.failed(1) or cancelled.conflicted:
            return Reversed.MOVED
        if cancelled.any_failed:
            return Reversed.REFUSED
        raise
    return Reversed.REVERSED


def get_task(promoter_id: str, template_id: str) -> ChannelTaskRecord | None:
    """A promoter's task of one template (one strongly consistent GetItem)."""
    return _task(dynamo.get("users", keys.channel_task(promoter_id, template_id), consistent=True))


def grant_present_check(event_id: str) -> dynamo.TransactItem:
    """A transaction item that holds only once the event's grant record exists (its money is posted)."""
    return {
        "ConditionCheck": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.grant(event_id)),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def inserted_event(change: Change) -> RewardableEvent | None:
    """The rewardable event a ledger stream record inserted, or None (another item, or not an insert)."""
    image = change.new
    if change.name != "INSERT" or not image or not image.get("event_id"):
        return None
    return rewardable_event(image) if change.key == keys.rewardable_event(str(image["event_id"])) else None


def complete_task(
    promoter_id: str,
    template_id: str,
    channel: str,
    task_id: str,
    progress: tuple[int, int],
    completed_at: str,
    event_put: dict[str, Any],
) -> bool:
    """Exactly once: the task active→completed, the channel pointer cleared and the ``channel_bonus``
    rewardable event (``event_put``: the ledger's one event item, ``tuishou.dal.ledger.event_put``) written
    in one transaction, the task keeping its final ``progress`` (transactions, promotions). False when
    another caller completed it first."""
    transactions, promotions = progress
    items = [
        {
            "Update": {
                "TableName": dynamo.table("users"),
                "Key": dynamo.key(*keys.channel_task(promoter_id, template_id)),
                "UpdateExpression": "SET task_status = :completed, completed_at = :at, "
                "progress_transactions = :tx, progress_promotions = :pr REMOVE gsi1pk, gsi1sk",
                "ConditionExpression": "task_id = :tid AND task_status = :active",
                "ExpressionAttributeValues": {
                    ":completed": {"S": "completed"},
                    ":active": {"S": "active"},
                    ":at": {"S": completed_at},
                    ":tid": {"S": task_id},
                    ":tx": {"N": str(transactions)},
                    ":pr": {"N": str(promotions)},
                },
            }
        },
        {
            "Update": {
                "TableName": dynamo.table("tracking"),
                "Key": dynamo.key(*keys.promoter_channel(promoter_id, channel)),
                "UpdateExpression": f"REMOVE {POINTER}, {POINTER_TX}, {POINTER_PROMO}, {LEGACY_REFS}",
                "ConditionExpression": f"{POINTER}.task_id = :tid",
                "ExpressionAttributeValues": {":tid": {"S": task_id}},
            }
        },
        event_put,
    ]
    return _transact_unless_failed(items)


# ---------------------------------------------------------------- reminders
def due_reminders(bucket: str, upper: str) -> list[ChannelTaskRecord]:
    """Tasks of one reminder-hour bucket whose reminder time is at or before ``upper``."""
    items = dynamo.query_all(
        TableName=dynamo.table("users"),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk AND gsi1sk <= :upper",
        ExpressionAttributeValues={":pk": {"S": keys.reminder_bucket(bucket)}, ":upper": {"S": upper}},
    )
    return [dynamo.as_record(ChannelTaskRecord, item) for item in items]


def claim_reminder(promoter_id: str, template_id: str, task_id: str, threshold_hours: int, now: str) -> bool:
    """Claim the task's one reminder before sending it: the winner of this conditional update sends."""
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("users"),
            Key=dynamo.key(*keys.channel_task(promoter_id, template_id)),
            UpdateExpression="SET reminded_at = :now, reminded_threshold_hours = :threshold REMOVE gsi1pk, gsi1sk",
            ConditionExpression="task_id = :tid AND task_status = :active AND deadline_at > :now "
            "AND attribute_exists(gsi1pk) AND attribute_not_exists(reminded_at)",
            ExpressionAttributeValues={
                ":now": {"S": now},
                ":tid": {"S": task_id},
                ":active": {"S": "active"},
                ":threshold": {"N": str(threshold_hours)},
            },
        )
        is not None
    )


def drop_from_reminders(promoter_id: str, template_id: str, task_id: str) -> None:
    """A task past its deadline leaves the reminder index unreminded."""
    dynamo.conditional_update(
        TableName=dynamo.table("users"),
        Key=dynamo.key(*keys.channel_task(promoter_id, template_id)),
        UpdateExpression="REMOVE gsi1pk, gsi1sk",
        ConditionExpression="task_id = :tid",
        ExpressionAttributeValues={":tid": {"S": task_id}},
    )
