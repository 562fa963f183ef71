"""Counting a chunk of facts: few transactions (a marker per fact, the chunk's ADDs merged per item, at most
100 items each), each fact once however often it is delivered, a visitor's repeat within the hour dropped
without failing the rest of the chunk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

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


def transactions(dynamo_calls) -> int:
    return sum(1 for op, _ in dynamo_calls if op == "TransactWriteItems")


def test_a_chunk_on_one_product_is_one_transaction_and_counts_once(stack, dynamo_calls):
    # Given 25 clicks of different visitors on one link
    events = [click(n, visitor=f"v{n}") for n in range(25)]
    # When the chunk is counted: one transaction (25 markers + 4 merged items)
    dynamo_calls.clear()
    assert count(events) == 25
    assert transactions(dynamo_calls) == 1
    assert product_clicks("prd_a") == 25
    # And delivered again (a replay): nothing counts, the markers fail and are dropped
    assert count(events) == 0
    assert product_clicks("prd_a") == 25


def test_a_chunk_over_the_transaction_limit_is_split_and_counts_everything(stack, dynamo_calls):
    # Given 30 clicks of 30 promoters on 30 products (a marker + 4 items each: 150 items)
    events = [click(n, product=f"prd_{n:02d}", promoter=f"promoter-{n}") for n in range(30)]
    dynamo_calls.clear()
    # Then they are counted in 2 transactions of at most 100 items (20 facts = 100 items, then 10)
    assert count(events) == 30
    assert transactions(dynamo_calls) == 2
    assert all(product_clicks(f"prd_{n:02d}") == 1 for n in range(30))


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
    [totals] = [from_item(i) for i in found if keys.DAY_TOTALS_MARK in i["sk"]["S"]]
    assert (totals["transactions"], totals["revenue_minor"], totals["commission_minor"]) == (1, 9900, 990)
    assert totals["expires_at"] == int(datetime(2030, 6, 1, tzinfo=UTC).timestamp())  # the day + 92 days


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
    # Then every fact is in exactly one group, in order; each group fits one transaction; no group holds
    # two facts with the same marker
    assert [f.event_id for group in groups for f in group] == [f.event_id for f in built]
    for group in groups:
        touched = set().union(*(f.item_keys() for f in group))
        assert len(group) + len(touched) <= MAX_TRANSACTION_ITEMS
        assert len({f.marker_key for f in group}) == len(group)
