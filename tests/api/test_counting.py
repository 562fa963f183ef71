"""Counting a chunk of facts by group commit: a claim (conditional PutItem) per fact, then few transactions
(the chunk record and the chunk's ADDs merged per item, at most 100 items each); each fact once however often
it is delivered, even when a chunk dies between its claims and its transaction; a visitor's repeat within the
hour dropped without failing the rest of the chunk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou.dal import counters
from tuishou.dal.counters import MAX_TRANSACTION_ITEMS, Addition, Fact, pack
from tuishou.logic.counting import CountedEvent, count

T0 = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


def click(
    n: int, product: str = "prd_a", visitor: str | None = None, minutes: int = 0, promoter: str = "promoter-1"
) -> CountedEvent:
    return CountedEvent(
        event_id=f"clk_{n}",
        field="clicks",
        promoter_id=promoter,
        product_id=product,
        channel="wechat",
        at=T0 + timedelta(minutes=minutes),
        visit=("lnk_1", visitor) if visitor else None,
    )


def product_clicks(product_id: str) -> int:
    from tuishou.dal.catalog import counters_of

    return counters_of([product_id])[product_id]["clicks"]


@pytest.fixture
def requests(stack) -> list[tuple[str, dict]]:
    """Every DynamoDB request made through the shared client during the test: (operation, parameters)."""
    from tuishou.dal import dynamo

    made: list[tuple[str, dict]] = []

    def _record(params, model, **_kwargs) -> None:
        made.append((model.name, params))

    dynamo.client().meta.events.register("provide-client-params.dynamodb", _record)
    return made


def transactions(requests) -> list[int]:
    """The number of items of each TransactWriteItems made."""
    return [len(params["TransactItems"]) for op, params in requests if op == "TransactWriteItems"]


def puts(requests) -> int:
    return sum(1 for op, _ in requests if op == "PutItem")


def test_a_chunk_on_one_product_is_one_transaction_and_counts_once(stack, requests):
    # Given 25 clicks of different visitors on one link
    events = [click(n, visitor=f"v{n}") for n in range(25)]
    # When the chunk is counted: 25 claims, then one transaction (the chunk record, a product counter shard and
    # the promoter's day aggregate)
    requests.clear()
    assert count(events) == 25
    assert (puts(requests), transactions(requests)) == (25, [3])
    assert product_clicks("prd_a") == 25
    # And delivered again (a replay): nothing counts, the claims fail and no transaction is made
    requests.clear()
    assert count(events) == 0
    assert transactions(requests) == []
    assert product_clicks("prd_a") == 25


def test_a_chunk_over_the_transaction_limit_is_split_and_counts_everything(stack, requests):
    # Given 60 clicks of 60 promoters on 60 products (2 items each: 120 items)
    events = [click(n, product=f"prd_{n:02d}", promoter=f"promoter-{n}") for n in range(60)]
    requests.clear()
    # Then they are counted in 2 transactions of at most 100 items (the chunk record + 49 facts x 2, then 11)
    assert count(events) == 60
    assert transactions(requests) == [99, 23]
    assert all(product_clicks(f"prd_{n:02d}") == 1 for n in range(60))


class Crash(Exception):
    pass


def test_a_chunk_that_dies_after_its_claims_is_taken_over_and_can_never_commit_late(stack, monkeypatch):
    from tuishou.dal import dynamo

    # Given a chunk that claims its facts, then dies before its transaction (the items it would have sent kept)
    events = [click(n, visitor=f"v{n}") for n in range(3)] + [click(9)]
    died: list[list[dict]] = []

    def dies(items):
        died.append(items)
        raise Crash

    monkeypatch.setattr(counters, "transact", dies)
    with pytest.raises(Crash):
        count(events)
    monkeypatch.undo()
    assert product_clicks("prd_a") == 0
    # When the stream delivers the records again: the retry takes the claims over and counts every fact once
    assert count(events) == 4
    assert product_clicks("prd_a") == 4
    # Then the dead chunk can never commit late (its record says abandoned), and another delivery counts nothing
    with pytest.raises(dynamo.Cancelled):
        dynamo.transact(died[0])
    assert count(events) == 0
    assert product_clicks("prd_a") == 4


def test_a_fact_claimed_by_a_chunk_that_committed_is_not_taken_over(stack):
    # Given a fact counted by a chunk whose invocation died after its transaction (before reporting success)
    assert count([click(1)]) == 1
    # When the same record is delivered within a bigger chunk: only the new fact counts
    assert count([click(1), click(2)]) == 1
    assert product_clicks("prd_a") == 2


def test_a_repeat_visit_in_the_chunk_is_dropped_and_the_rest_commit(stack):
    # Given one visitor clicking at 0, 30 and 70 minutes, another once, and a click already counted
    assert count([click(0, visitor="other")]) == 1
    events = [
        click(1, visitor="v"),
        click(2, visitor="v", minutes=30),
        click(3, visitor="v", minutes=70),
        click(0, visitor="other"),  # replayed
        click(4, visitor="w", minutes=5),
    ]
    # Then the repeat within the hour and the replay are dropped; the rest count
    assert count(events) == 3
    assert product_clicks("prd_a") == 4


def test_a_sale_adds_revenue_commission_and_its_category(stack):
    import boto3

    from tuishou.dal import keys
    from tuishou.dal.dynamo import from_item

    sale = CountedEvent(
        event_id="sale:stripe:pi_1",
        field="transactions",
        promoter_id="promoter-1",
        product_id="prd_s",
        channel="qq",
        at=T0,
        revenue_minor=9900,
        commission_minor=990,
        category="beauty/skincare",
    )
    assert count([sale, sale]) == 1
    found = boto3.client("dynamodb").query(
        TableName=stack.physical["TrackingTable"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.product_stats("prd_s")}},
    )["Items"]
    [day] = [from_item(i) for i in found if keys.DAY_PROMOTER_MARK in i["sk"]["S"]]
    assert (day["transactions"], day["revenue_minor"], day["commission_minor"]) == (1, 9900, 990)
    assert (day["transactions@qq"], day["revenue_minor@qq"], day["commission_minor@qq"]) == (1, 9900, 990)
    assert day["expires_at"] == int(datetime(2030, 6, 1, tzinfo=UTC).timestamp())  # the day + 92 days


def test_a_fact_reported_days_late_keeps_its_marker_past_the_streams_retention(stack):
    import boto3

    from tuishou import clock
    from tuishou.dal import keys
    from tuishou.dal.dynamo import from_item

    # Given a sale that happened five days ago and is counted now (a late webhook)
    sale = CountedEvent(
        "sale:stripe:pi_late", "transactions", "promoter-1", "prd_l", "qq", clock.now() - timedelta(days=5)
    )
    assert count([sale]) == 1
    # Then its marker expires two days from now, not three days ago: a replay within the stream's 24 hours
    # still finds it
    marker = from_item(
        boto3.client("dynamodb").get_item(
            TableName=stack.physical["TrackingTable"],
            Key={"pk": {"S": keys.counted(sale.event_id)[0]}, "sk": {"S": "COUNTED"}},
        )["Item"]
    )
    assert marker["expires_at"] >= int((clock.now() + timedelta(days=2) - timedelta(minutes=5)).timestamp())
    assert count([sale]) == 0


facts = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 9), st.sampled_from(["a", "b", None])),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(facts)
def test_packing_keeps_order_fits_the_limit_and_never_repeats_a_marker(drawn):
    # Given facts touching 1..9 items of a shared pool, some sharing a visit marker
    built = [
        Fact(
            event_id=f"e{index}",
            at=T0,
            marker_expires_at=0,
            additions=[Addition("tracking", (f"P#{(item + k) % 45}", "S"), {"clicks": 1}) for k in range(width)],
            visit=("lnk", visitor) if visitor else None,
        )
        for index, (item, width, visitor) in enumerate(drawn)
    ]
    groups = pack(built)
    # Then every fact is in exactly one group, in order; each group's transaction (its chunk record and the
    # items touched) fits; no group holds two facts with the same marker
    assert [f.event_id for group in groups for f in group] == [f.event_id for f in built]
    for group in groups:
        touched = set().union(*(f.item_keys() for f in group))
        assert 1 + len(touched) <= MAX_TRANSACTION_ITEMS
        assert len({f.marker_key for f in group}) == len(group)
