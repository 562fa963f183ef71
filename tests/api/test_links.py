"""Tracking links, shares and clicks: idempotency, counting, the 302 with tsclid, ownership, bad input."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests.helpers.tasks import create_product, link_for, promoter


def _get(stack, table, pk_sk):
    import boto3

    from tuishou.dal.dynamo import from_item, key

    item = boto3.client("dynamodb").get_item(TableName=stack.physical[table], Key=key(*pk_sk)).get("Item")
    return from_item(item)


def _product_counters(api, merchant):
    return api.get("/merchant/products", as_user=merchant).json()["items"][0]["counters"]


def _stats(api, merchant, product):
    return api.get(f"/merchant/products/{product['product_id']}/stats", as_user=merchant).json()


@pytest.fixture
def setup(api):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    return merchant, product, promoter(api)


def test_link_is_201_then_the_same_link_with_200(api, stack, setup):
    _, product, seller = setup
    first = api.post(f"/promoter/tasks/{product['product_id']}/links", as_user=seller)
    second = api.post(f"/promoter/tasks/{product['product_id']}/links", as_user=seller)
    assert first.status == 201, first.text
    assert second.status == 200
    assert first.json() == second.json()
    link = first.json()
    assert link["url"] == f"{stack.api_url}/l/{link['code']}"


def test_each_promoter_gets_their_own_link(api, setup):
    _, product, seller = setup
    other = promoter(api)
    assert link_for(api, seller, product["product_id"])["code"] != link_for(api, other, product["product_id"])["code"]


def test_link_for_a_product_without_a_rule_for_the_tag_is_403(api, setup):
    merchant, _, seller = setup
    gold_only = create_product(api, merchant, reward_rules=[{"promoter_tag": "gold", "type": "fixed", "value": 9}])
    assert api.post(f"/promoter/tasks/{gold_only['product_id']}/links", as_user=seller).status == 403
    assert api.post(f"/promoter/tasks/{gold_only['product_id']}/links", as_user=promoter(api, ["gold"])).status == 201


def test_link_errors(api, setup):
    _, product, seller = setup
    assert api.post("/promoter/tasks/prd_0000000000aaaaaaaaaa/links", as_user=seller).status == 404
    malformed = api.post("/promoter/tasks/nope/links", as_user=seller)
    assert malformed.status == 422 and malformed.json()["error"]["field"] == "product_id"
    assert api.post(f"/promoter/tasks/{product['product_id']}/links", as_user=api.user("promoter")).status == 403
    assert api.post(f"/promoter/tasks/{product['product_id']}/links", as_user=api.user("merchant")).status == 403


def test_share_is_201_with_the_channel_url_and_counts_one_promotion_everywhere(api, stack, setup):
    from tuishou.dal import keys

    merchant, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    with time_machine.travel(datetime.now(UTC).replace(hour=8, minute=30), tick=False) as clock:
        # When the promoter shares on wechat twice (in two UTC hours: a link's shares on a channel count once
        # an hour) and on weibo once
        responses = []
        for channel in ("wechat", "wechat", "weibo"):
            seller = api.signed_in(seller)  # a token of this (travelled) hour
            responses.append(
                api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": channel}, as_user=seller)
            )
            stack.drain_streams()  # within the streams' one-hour record age
            clock.shift(timedelta(hours=1))
        merchant = api.signed_in(merchant)
        # Then each share is recorded with its channel URL
        assert [r.status for r in responses] == [201, 201, 201]
        assert responses[0].json()["share_url"] == f"{stack.api_url}/l/{link['code']}?ch=wechat"
        assert responses[2].json()["channel"] == "weibo"
        assert len({r.json()["share_id"] for r in responses}) == 3
        # And, once the tracking stream is derived, counted for the task (all promoters), the promoter's task
        # history and the channel
        stack.drain_streams()
        assert _product_counters(api, merchant)["promotions"] == 3
        history = _get(stack, "TrackingTable", keys.promoter_task_history(seller.sub, product["product_id"]))
        assert history["promotions"] == 3
        channels = _stats(api, merchant, product)["top_channels"]
        assert {c["channel"]: c["promotions"] for c in channels} == {"wechat": 2, "weibo": 1}


def test_unknown_channel_is_422_and_counts_nothing(api, stack, setup):
    merchant, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    response = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "myspace"}, as_user=seller)
    assert response.status == 422
    assert response.json()["error"]["field"] == "channel"
    stack.drain_streams()
    assert _product_counters(api, merchant)["promotions"] == 0


def test_another_promoters_link_is_404(api, stack, setup):
    merchant, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    response = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "qq"}, as_user=promoter(api))
    assert response.status == 404
    assert api.post("/promoter/links/lnk_0000000000aaaaaaaaaa/shares", {"channel": "qq"}, as_user=seller).status == 404
    malformed = api.post("/promoter/links/xyz/shares", {"channel": "qq"}, as_user=seller)
    assert malformed.status == 422 and malformed.json()["error"]["field"] == "link_id"
    stack.drain_streams()
    assert _product_counters(api, merchant)["promotions"] == 0


def test_click_redirects_302_with_tsclid_and_records_the_click(api, stack, setup):
    from tuishou.dal import keys

    merchant, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    # When an anonymous visitor opens the weibo share URL
    response = api.get(f"/l/{link['code']}", query={"ch": "weibo"})
    # Then it is sent to the landing URL (its own query kept) with a click id
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example.com", "/serum")
    query = parse_qs(location.query)
    assert query["src"] == ["ts"]
    [click_id] = query["tsclid"]
    # And the click keeps link, promoter, product, merchant, channel and time
    click = _get(stack, "TrackingTable", keys.click(click_id))
    assert {
        k: click[k] for k in ("click_id", "link_id", "code", "promoter_id", "product_id", "merchant_id", "channel")
    } == {
        "click_id": click_id,
        "link_id": link["link_id"],
        "code": link["code"],
        "promoter_id": seller.sub,
        "product_id": product["product_id"],
        "merchant_id": merchant.sub,
        "channel": "weibo",
    }
    assert click["created_at"].endswith("Z")
    # And, once the tracking stream is derived, it is counted for the product, its channel and the promoter
    # (the per-day aggregates the stats read); clicks never score, so the promoter's task history is not written
    stack.drain_streams()
    assert _product_counters(api, merchant)["clicks"] == 1
    stats = _stats(api, merchant, product)
    assert [(c["channel"], c["clicks"]) for c in stats["top_channels"]] == [("weibo", 1)]
    assert [(p["promoter_id"], p["clicks"]) for p in stats["top_promoters"]] == [(seller.sub, 1)]
    assert _get(stack, "TrackingTable", keys.promoter_task_history(seller.sub, product["product_id"])) is None


def test_click_without_marker_is_direct_and_a_made_up_marker_is_other(api, stack, setup):
    from tuishou.dal import keys

    _, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    for query, channel in ((None, "direct"), ({"ch": "friendster"}, "other")):
        click_id = parse_qs(urlsplit(api.get(f"/l/{link['code']}", query=query).headers["Location"]).query)["tsclid"][0]
        assert _get(stack, "TrackingTable", keys.click(click_id))["channel"] == channel


def test_every_click_is_its_own_click(api, stack, setup):
    merchant, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    # When four visitors (four browsers) follow the link
    locations = {
        api.get(f"/l/{link['code']}", headers={"User-Agent": f"Mozilla/5.0 (browser {n})"}).headers["Location"]
        for n in range(4)
    }
    # Then each gets its own click id, and each click counts
    assert len(locations) == 4
    stack.drain_streams()
    assert _product_counters(api, merchant)["clicks"] == 4


def test_unknown_code_is_a_404_page_and_paused_product_410_without_counting(api, stack, setup):
    merchant, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    for code in ("zzzzzzzz", "NOT-A-CODE"):
        missing = api.get(f"/l/{code}")
        assert missing.status == 404
        assert missing.headers["Content-Type"].startswith("text/html")
    api.post(f"/merchant/products/{product['product_id']}/pause", as_user=merchant)
    stack.drain_streams()  # the pause reaches the link-code item through the catalog stream
    gone = api.get(f"/l/{link['code']}", query={"ch": "qq"})
    assert gone.status == 410
    assert "Location" not in gone.headers
    stack.drain_streams()
    assert _product_counters(api, merchant)["clicks"] == 0


def test_click_costs_two_requests_and_share_three(api, setup, dynamo_calls):
    _, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    dynamo_calls.clear()
    api.get(f"/l/{link['code']}")
    assert [op for op, _ in dynamo_calls] == ["GetItem", "PutItem"]
    dynamo_calls.clear()
    # A share URL's click too: the link-code item says whether a quota-rescue coupon is open on the channel
    api.get(f"/l/{link['code']}", query={"ch": "sms"})
    assert [op for op, _ in dynamo_calls] == ["GetItem", "PutItem"]
    dynamo_calls.clear()
    # A share counts in the promoter's rate-limit window (one UpdateItem, every write route does), reads link and
    # channel offer in one batch and writes the share alone (progress is derived)
    api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "sms"}, as_user=seller)
    assert [op for op, _ in dynamo_calls] == ["UpdateItem", "BatchGetItem", "PutItem"]
    dynamo_calls.clear()
    link_for(api, seller, product["product_id"])
    assert [op for op, _ in dynamo_calls] == ["UpdateItem", "BatchGetItem"]


def test_share_of_a_paused_product_is_410_and_counts_nothing(api, stack, setup):
    merchant, product, seller = setup
    link = link_for(api, seller, product["product_id"])
    api.post(f"/merchant/products/{product['product_id']}/pause", as_user=merchant)
    stack.drain_streams()
    response = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "douyin"}, as_user=seller)
    assert response.status == 410
    stack.drain_streams()
    assert _product_counters(api, merchant)["promotions"] == 0


def test_a_repeated_or_comma_joined_marker_still_redirects_counting_the_first_known_channel(api, stack, setup):
    from tests.helpers.events import api_event
    from tuishou.dal import keys

    _, product, seller = setup
    code = link_for(api, seller, product["product_id"])["code"]
    # Given the HTTP API's payload v2, which joins a repeated ?ch= into one comma-separated value
    event = api_event("GET", f"/l/{code}", query={"ch": "friendster,wechat,qq"})
    assert event["queryStringParameters"] == {"ch": "friendster,wechat,qq"}
    # When the redirect gets it, or a visitor sends the markers repeated or comma-joined through the gateway
    responses = [
        stack.host.invoke("RedirectFunction", event),
        api.get(f"/l/{code}?ch=friendster&ch=wechat&ch=qq"),
        api.get(f"/l/{code}?ch=friendster,wechat,qq"),
    ]
    # Then each is redirected, and the click counts the first known channel
    locations = [r["headers"]["Location"] if isinstance(r, dict) else r.headers["Location"] for r in responses]
    assert [r["statusCode"] if isinstance(r, dict) else r.status for r in responses] == [302, 302, 302]
    for location in locations:
        [click_id] = parse_qs(urlsplit(location).query)["tsclid"]
        assert _get(stack, "TrackingTable", keys.click(click_id))["channel"] == "wechat"
