"""Clicks and shares write one fact; the tracking stream counts them: click → counters, bots and preview
fetchers never counted, a visitor's repeat within the hour counted once, a share-URL click drawing the open
coupon, and replays that change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests.helpers.tasks import create_product, link_for, promoter

T0 = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
COUPON_TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24,
    "target_transactions": 2,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
    "coupon_threshold": 2,  # 2 to go of 2: a coupon is open from the start
    "coupon_value_minor": 300,
}


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(api):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    seller = promoter(api)
    return merchant, product, seller, link_for(api, seller, product["product_id"])


def follow(api, code, user_agent=BROWSER, channel=None):
    response = api.get(f"/l/{code}", query={"ch": channel} if channel else None, headers={"User-Agent": user_agent})
    assert response.status == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)


def clicks_of(api, merchant):
    return api.get("/merchant/products", as_user=merchant).json()["items"][0]["counters"]["clicks"]


def stats_clicks(api, merchant, product_id):
    return api.get(f"/merchant/products/{product_id}/stats", as_user=merchant).json()["totals"]["clicks"]


def accept_coupon_task(api, seller, **overrides):
    template = api.post("/admin/channel-task-templates", {**COUPON_TEMPLATE, **overrides}, as_user=api.admin).json()
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=seller).status == 201
    return template


# ---------------------------------------------------------------- click → counters
def test_a_click_is_counted_by_the_stream_in_counters_and_stats(api, stack, setup):
    merchant, product, _seller, link = setup
    # When a visitor follows the link
    follow(api, link["code"])
    # Then nothing is counted in the request: the click is one fact
    assert clicks_of(api, merchant) == 0
    # And once the tracking stream is derived, the product counters and the day's stats show it
    stack.drain_streams()
    assert clicks_of(api, merchant) == 1
    assert stats_clicks(api, merchant, product["product_id"]) == 1


def test_a_share_is_counted_by_the_stream(api, stack, setup):
    merchant, _product, seller, link = setup
    assert api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "qq"}, as_user=seller).status == 201
    stack.drain_streams()
    counters = api.get("/merchant/products", as_user=merchant).json()["items"][0]["counters"]
    assert counters["promotions"] == 1


# ---------------------------------------------------------------- clicks worth counting
@pytest.mark.parametrize(
    "agent",
    [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; "
        "Bytespider; spider-feedback@bytedance.com)",
        "curl/8.4.0",
        "python-requests/2.31.0",
    ],
)
def test_bots_and_preview_fetchers_are_redirected_without_a_click(api, stack, setup, agent, dynamo_calls):
    merchant, _product, _seller, link = setup
    dynamo_calls.clear()
    # When a link-preview fetcher or a bot follows the link
    response = api.get(f"/l/{link['code']}", headers={"User-Agent": agent})
    # Then it reaches the landing page, without a click id, and nothing is written
    assert response.status == 302
    assert "tsclid" not in parse_qs(urlsplit(response.headers["Location"]).query)
    assert [op for op, _ in dynamo_calls] == ["GetItem"]
    stack.drain_streams()
    assert clicks_of(api, merchant) == 0


def test_in_app_browsers_of_chat_apps_are_visitors(api, stack, setup):
    merchant, _product, _seller, link = setup
    for agent in (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.43 NetType/WIFI",
        "Mozilla/5.0 (Linux; Android 13) Mobile Safari/537.36 Weibo (HUAWEI-NOH-AN00__weibo__13.9.1__android__13)",
        "Mozilla/5.0 (Linux; Android 13) Mobile Safari/537.36 aweme_270400 JsSdk/1.0 NetType/WIFI",
    ):
        assert "tsclid" in follow(api, link["code"], agent)
    stack.drain_streams()
    assert clicks_of(api, merchant) == 3


def test_a_visitors_repeat_within_the_hour_counts_once(api, stack, clock, setup):
    from tuishou.dal.catalog import counters_of

    _merchant, product, _seller, link = setup

    def clicks() -> int:  # read directly: the merchant's token expires an hour after T0
        return counters_of([product["product_id"]])[product["product_id"]]["clicks"]

    # Given a visitor who clicks three times within the hour, and another visitor once
    first = follow(api, link["code"])
    clock.move_to(T0 + timedelta(minutes=30))
    follow(api, link["code"])
    clock.move_to(T0 + timedelta(minutes=59))
    follow(api, link["code"])
    follow(api, link["code"], user_agent=BROWSER + " other")
    # Then every click got its own click id (each can still be attributed), and two are counted
    stack.drain_streams()
    assert clicks() == 2
    # When the first visitor comes back more than an hour after their counted click, it counts again
    clock.move_to(T0 + timedelta(minutes=61))
    follow(api, link["code"])
    stack.drain_streams()
    assert clicks() == 3
    # And no click stores the raw IP address or User-Agent: only the keyed visitor hash
    click = _item(stack, "click", first["tsclid"][0])
    assert BROWSER not in str(click.values()) and "127.0.0.1" not in str(click.values())
    assert len(click["visitor"]) == 32


def test_the_same_visitor_on_another_link_counts(api, stack, setup):
    merchant, product, _seller, link = setup
    other_link = link_for(api, promoter(api), product["product_id"])
    follow(api, link["code"])
    follow(api, other_link["code"])
    stack.drain_streams()
    assert clicks_of(api, merchant) == 2


# ---------------------------------------------------------------- share-URL click → coupon
def test_a_share_url_click_draws_the_open_coupon_recorded_by_the_stream(api, stack, clock, setup, dynamo_calls):
    from tuishou.logic.coupons import coupon_of_click

    _merchant, _product, seller, link = setup
    # Given the promoter (link made before) accepts a wechat task whose coupon is open from the start
    accept_coupon_task(api, seller)
    stack.drain_streams()  # the pointer reaches the promoter's link-code items
    # When a shopper opens the wechat share URL: 2 requests, a coupon in the redirect
    dynamo_calls.clear()
    query = follow(api, link["code"], channel="wechat")
    assert [op for op, _ in dynamo_calls] == ["GetItem", "PutItem"]
    [click_id], [code] = query["tsclid"], query["tscoupon"]
    assert coupon_of_click(click_id) is None  # recorded by the stream, not the request
    # And a click from another channel gets none
    assert "tscoupon" not in follow(api, link["code"], user_agent=BROWSER + " b", channel="weibo")
    # Then, once derived, the coupon is recorded for the click and the promoter is told once
    stack.drain_streams()
    coupon = coupon_of_click(click_id)
    assert (coupon.code, coupon.status, coupon.value_minor, coupon.promoter_id) == (code, "issued", 300, seller.sub)
    issued = [n for n in stack.notifications() if n["kind"] == "coupon_issued"]
    assert [(n["recipient"], n["text"]) for n in issued if n["channel"] == "inapp"] == [
        (seller.sub, "微信的顾客本小时领取了 1 张 ¥3.00 优惠券，还差 2 笔销售")
    ]
    # And a replay of the streams issues nothing twice
    stack.replay_streams()
    assert coupon_of_click(click_id).code == code
    assert len([n for n in stack.notifications() if n["kind"] == "coupon_issued"]) == len(issued)


def test_a_link_made_after_the_task_copies_the_pointer(api, stack, clock):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    seller = promoter(api)
    accept_coupon_task(api, seller)
    stack.drain_streams()
    # When the promoter makes the link after accepting, its code item starts with the task's pointer
    link = link_for(api, seller, product["product_id"])
    assert "tscoupon" in follow(api, link["code"], channel="wechat")


def test_no_coupon_without_an_open_coupon_or_outside_the_window(api, stack, clock, setup):
    _merchant, _product, seller, link = setup
    # Given a task whose coupon opens only 1 sale before a 3-sale target
    accept_coupon_task(api, seller, target_transactions=3, coupon_threshold=1)
    stack.drain_streams()
    assert "tscoupon" not in follow(api, link["code"], channel="wechat")


def test_the_coupon_stops_at_the_deadline(api, stack, clock, setup):
    _merchant, _product, seller, link = setup
    accept_coupon_task(api, seller, duration_hours=1)
    stack.drain_streams()
    clock.move_to(T0 + timedelta(hours=1))
    assert "tscoupon" not in follow(api, link["code"], channel="wechat")


def test_a_coupon_redeemed_before_the_stream_recorded_it_is_recorded_redeemed(api, stack, clock, setup):
    from tuishou.logic.coupons import coupon_of_click, redeem_coupon_for_click

    _merchant, _product, seller, link = setup
    accept_coupon_task(api, seller)
    stack.drain_streams()
    query = follow(api, link["code"], channel="wechat")
    # When the sale's settlement redeems the click's coupon before the stream recorded it
    redeemed = redeem_coupon_for_click(query["tsclid"][0], T0, payment_ref="stripe:pi_1")
    # Then it is recorded redeemed, once, and the stream's later record changes nothing
    assert redeemed.code == query["tscoupon"][0] and redeemed.status == "redeemed"
    stack.drain_streams()
    assert coupon_of_click(query["tsclid"][0]).status == "redeemed"
    assert redeem_coupon_for_click(query["tsclid"][0], T0, payment_ref="stripe:pi_1") is None


# ---------------------------------------------------------------- replays
def test_replaying_the_streams_twice_changes_no_counter(api, stack, clock, setup):
    merchant, product, seller, link = setup
    # Given clicks (two visitors, one repeat) and shares, derived once
    follow(api, link["code"])
    follow(api, link["code"])
    follow(api, link["code"], user_agent=BROWSER + " other", channel="qq")
    for channel in ("wechat", "qq"):
        api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": channel}, as_user=seller)
    stack.drain_streams()
    before = _counters(api, stack, merchant, seller, product["product_id"])
    assert before["product"]["clicks"] == 2 and before["product"]["promotions"] == 2
    # When every stream record is delivered again, twice
    stack.replay_streams()
    stack.replay_streams()
    # Then no counter, aggregate or history moved
    assert _counters(api, stack, merchant, seller, product["product_id"]) == before


def _counters(api, stack, merchant, seller, product_id):
    from tuishou.dal import keys

    return {
        "product": api.get("/merchant/products", as_user=merchant).json()["items"][0]["counters"],
        "stats": api.get(f"/merchant/products/{product_id}/stats", as_user=merchant).json()["totals"],
        "history": _get(stack, keys.promoter_task_history(seller.sub, product_id)),
        "qq": _get(stack, keys.promoter_channel(seller.sub, "qq")),
    }


def _item(stack, kind, ident):
    from tuishou.dal import keys

    return _get(stack, {"click": keys.click}[kind](ident))


def _get(stack, pk_sk):
    import boto3

    from tuishou.dal.dynamo import from_item, key

    found = boto3.client("dynamodb").get_item(TableName=stack.physical["TrackingTable"], Key=key(*pk_sk))
    return from_item(found.get("Item"))


# ---------------------------------------------------------------- share → channel progress → bonus
def test_shares_counted_by_the_stream_complete_a_promotions_task_and_credit_the_bonus_once(api, stack, payments, clock):
    # Given a promoter who accepted a wechat task of 2 promotions
    template = api.post(
        "/admin/channel-task-templates",
        {**COUPON_TEMPLATE, "target_transactions": None, "target_promotions": 2, "coupon_threshold": 0},
        as_user=api.admin,
    ).json()
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    seller = promoter(api)
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=seller).status == 201
    link = link_for(api, seller, product["product_id"])
    # When the promoter shares on wechat in two hours (and once elsewhere), and the stream derives the shares
    for channel in ("wechat", "qq", "wechat"):
        assert api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": channel}, as_user=seller).status == 201
        stack.drain_streams()  # within the streams' one-hour record age
        clock.shift(timedelta(minutes=40))
        seller = api.signed_in(seller)  # an ID token lasts an hour
    stack.drain_streams()
    # Then the task is completed and its bonus credited once, also after the streams are replayed
    [task] = [i for i in api.get("/promoter/channel-tasks", as_user=seller).json()["items"] if i["channel"] == "wechat"]
    assert (task["status"], task["progress"]["promotions"]) == ("completed", 2)
    stack.replay_streams()
    bonus = [e for e in payments.entries() if e.get("kind") == "channel_bonus" and e["amount_minor"] > 0]
    assert [e["amount_minor"] for e in bonus] == [5000]
    payments.assert_ledger_consistent()
