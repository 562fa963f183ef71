"""A share counts as a promotion once per link, channel and UTC hour (counters, the promoter's task history,
per-day stats, ranking dirty marks, channel-task quotas), however many shares are posted and however often
the stream is replayed; the shares themselves are still written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine

from tests.helpers.tasks import create_product, link_for, promoter

HOUR = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
PROMOTIONS_TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 48,
    "target_promotions": 5,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
    "coupon_threshold": 0,
    "coupon_value_minor": 100,
}


@pytest.fixture
def clock():
    with time_machine.travel(HOUR, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(api, clock):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    seller = promoter(api)
    return merchant, product, seller, link_for(api, seller, product["product_id"])


def _share(api, seller, link, channel="wechat"):
    response = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": channel}, as_user=seller)
    assert response.status == 201, response.text
    return response.json()


def _promotions(api, merchant):
    return api.get("/merchant/products", as_user=merchant).json()["items"][0]["counters"]["promotions"]


def _item(stack, table, pk_sk):
    from tuishou.dal.dynamo import from_item, key

    return from_item(boto3.client("dynamodb").get_item(TableName=stack.physical[table], Key=key(*pk_sk)).get("Item"))


def _shares_written(stack, link):
    from tuishou.dal import keys

    items = boto3.client("dynamodb").query(
        TableName=stack.physical["TrackingTable"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.share(link["link_id"], "x")[0]}},
    )["Items"]
    return [item for item in items if item["sk"]["S"].startswith(keys.share(link["link_id"], "")[1])]


def test_two_shares_of_a_link_on_a_channel_in_one_hour_are_one_promotion(api, stack, clock, setup):
    merchant, _product, seller, link = setup
    # When the promoter shares the link on wechat twice within the hour
    first, second = _share(api, seller, link), _share(api, seller, link)
    clock.shift(timedelta(minutes=59))
    _share(api, seller, link)
    stack.drain_streams()
    # Then each share is written (its own id), and the product counts one promotion
    assert len({first["share_id"], second["share_id"]}) == 2
    assert len(_shares_written(stack, link)) == 3
    assert _promotions(api, merchant) == 1


def test_the_next_hour_and_another_channel_are_promotions_of_their_own(api, stack, clock, setup):
    merchant, product, seller, link = setup
    # When the promoter shares on wechat at 08:00 and 09:00 (UTC hours) and on qq at 09:00
    _share(api, seller, link)
    stack.drain_streams()  # within the streams' one-hour record age
    clock.shift(timedelta(hours=1))
    merchant, seller = api.signed_in(merchant), api.signed_in(seller)  # an ID token lasts an hour
    _share(api, seller, link)
    _share(api, seller, link, "qq")
    stack.drain_streams()
    # Then they are three promotions: two hours of wechat, one of qq
    assert _promotions(api, merchant) == 3
    stats = api.get(f"/merchant/products/{product['product_id']}/stats", as_user=merchant).json()
    assert {c["channel"]: c["promotions"] for c in stats["top_channels"]} == {"wechat": 2, "qq": 1}


def test_a_replayed_stream_counts_no_promotion_more(api, stack, clock, setup):
    from tuishou.dal import keys

    merchant, product, seller, link = setup
    # Given two promotions counted (wechat and qq, each shared twice)
    for channel in ("wechat", "wechat", "qq", "qq"):
        _share(api, seller, link, channel)
    stack.drain_streams()
    # When every stream record is delivered again
    stack.replay_streams()
    # Then nothing more is counted anywhere
    assert _promotions(api, merchant) == 2
    history = _item(stack, "TrackingTable", keys.promoter_task_history(seller.sub, product["product_id"]))
    assert history["promotions"] == 2


def test_farmed_shares_move_the_ranking_and_the_channel_quota_by_one(api, stack, clock, setup):
    from tuishou import clock as tuishou_clock
    from tuishou.dal import keys

    merchant, product, seller, link = setup
    # Given a wechat task of 5 promotions, and the first share of the hour counted (product marked dirty)
    created = api.post("/admin/channel-task-templates", PROMOTIONS_TEMPLATE, as_user=api.admin)
    assert created.status == 201, created.text
    template = created.json()
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=seller).status == 201
    _share(api, seller, link)
    stack.drain_streams()
    dirty = keys.ranking_dirty(tuishou_clock.hour_bucket(HOUR), product["product_id"])
    assert _item(stack, "CatalogTable", dirty) is not None
    boto3.client("dynamodb").delete_item(TableName=stack.physical["CatalogTable"], Key=_key(dirty))
    # When a script posts 99 more shares within the hour (every 30 s: under the share rate limit)
    for _ in range(99):
        clock.shift(timedelta(seconds=30))
        _share(api, seller, link)
    stack.drain_streams()
    # Then the farmed shares marked nothing dirty again, counted no promotion and moved no quota
    assert _item(stack, "CatalogTable", dirty) is None
    assert _promotions(api, merchant) == 1
    [task] = [t for t in api.get("/promoter/channel-tasks", as_user=seller).json()["items"] if t["channel"] == "wechat"]
    assert (task["status"], task["progress"]["promotions"]) == ("active", 1)
    # And the next hour's share is the task's second promotion
    clock.move_to(HOUR + timedelta(hours=1))
    seller = api.signed_in(seller)  # an ID token lasts an hour
    _share(api, seller, link)
    stack.drain_streams()
    [task] = [t for t in api.get("/promoter/channel-tasks", as_user=seller).json()["items"] if t["channel"] == "wechat"]
    assert task["progress"]["promotions"] == 2


def _key(pk_sk):
    from tuishou.dal.dynamo import key

    return key(*pk_sk)
