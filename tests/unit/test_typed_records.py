"""The dal's typed records read back what the dal writes: a recorded event is the event recorded, and a
product written from its record is the very item (and task-index entries) written from its plain fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tuishou.dal import catalog, dynamo, ledger
from tuishou.logic.products import task_entries
from tuishou.models.ledger import RewardableEvent
from tuishou.models.tasks import ProductCreate

NOW = "2030-01-01T00:00:00.000Z"
TAGS = st.lists(st.sampled_from(["standard", "gold", "silver", "vip"]), min_size=1, max_size=4, unique=True)


@given(
    amount=st.integers(min_value=0, max_value=10**9),
    occurred=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    details=st.dictionaries(st.sampled_from(["provider", "payment_id", "task_id"]), st.text(max_size=8)),
)
def test_a_stored_event_reads_back_as_the_event_recorded(amount: int, occurred: datetime, details: dict) -> None:
    # Given an event as the ledger stores it (through DynamoDB's attribute encoding)
    occurred = occurred.replace(microsecond=occurred.microsecond // 1000 * 1000)
    event = RewardableEvent("channel_bonus:t1", "channel_bonus", "u1", amount, "CNY", occurred, details)
    stored = dynamo.from_item(dynamo.to_item(ledger.event_item(event)))
    # When it is read back, Then it is the same event
    assert ledger.rewardable_event(stored) == event


@given(tags=TAGS, values=st.lists(st.integers(min_value=1, max_value=10_000), min_size=4, max_size=4))
def test_a_product_record_writes_the_items_its_plain_fields_write(tags: list[str], values: list[int]) -> None:
    # Given a product body, as a record and as the plain fields bulk seeding builds
    rules = [{"promoter_tag": tag, "type": "percent", "value": value} for tag, value in zip(tags, values, strict=False)]
    body = ProductCreate.model_validate(
        {
            "title": "Serum",
            "category": "beauty/skincare",
            "price_minor": 9900,
            "currency": "CNY",
            "landing_url": "https://shop.example.com/serum",
            "reward_rules": rules,
        }
    )
    stamps: dict[str, Any] = {
        "product_id": "prd_1",
        "merchant_id": "m1",
        "status": "active",
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
    }
    plain = {**body.model_dump(mode="json"), **stamps}
    record = catalog.ProductRecord(
        **body.model_dump(exclude={"reward_rules"}), reward_rules=tuple(body.reward_rules), **stamps
    )
    # Then both write the same product item and the same task-index entries
    assert catalog._product_item(record) == catalog._product_item(plain)
    assert task_entries(record, 7) == task_entries(plain, 7)
    # And the stored item reads back as the record
    assert catalog.as_product_record(dynamo.from_item(catalog._product_item(record))) == record
