"""Builders of ledger stream records for driving ``tuishou.logic.ledger_changes.derive`` directly: the
``Change`` a DynamoDB stream would deliver for an item as it is stored."""

from __future__ import annotations

import itertools
from typing import Any

from tests.helpers.payments import PaymentsKit, Seeded, dynamodb_table
from tuishou import clock
from tuishou.dal import dynamo, keys
from tuishou.dal.streams import Change

_sequence = itertools.count(1)


def change(name: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None) -> Change:
    number = next(_sequence)
    return Change(event_id=f"evt-{number}", sequence=f"{number:021d}", name=name, new=new, old=old)  # type: ignore[arg-type]


def settlement(payments: PaymentsKit, payment_id: str, provider: str = "stripe") -> dict[str, Any]:
    found = payments.item("ledger", keys.settlement(provider, payment_id))
    assert found is not None, f"no settlement for {provider}:{payment_id}"
    return found


def inserted(payments: PaymentsKit, payment_id: str, provider: str = "stripe") -> Change:
    """The INSERT record of a payment's settlement."""
    return change("INSERT", settlement(payments, payment_id, provider))


def event_inserted(payments: PaymentsKit, event_id: str) -> Change:
    """The INSERT record of a rewardable event (e.g. ``channel_bonus:{task_id}``)."""
    found = payments.item("ledger", keys.rewardable_event(event_id))
    assert found is not None, f"no event {event_id}"
    return change("INSERT", found)


def click_now(payments: PaymentsKit, promoter_id: str, channel: str = "wechat") -> Seeded:
    """A click made now (after any task the promoter accepted), as the redirect writes it."""
    seeded = payments.seed_click(promoter_id=promoter_id, channel=channel)
    dynamo.client().update_item(
        TableName=dynamodb_table("tracking"),
        Key=dynamo.key(*keys.click(seeded.click_id)),
        UpdateExpression="SET created_at = :now",
        ExpressionAttributeValues={":now": {"S": clock.iso()}},
    )
    return seeded
