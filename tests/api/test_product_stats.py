"""GET /merchant/products/{product_id}/stats against a hand-built history of real shares, clicks and
signed Stripe payments over two days."""

from __future__ import annotations

import time_machine

from tests.helpers.insights import click, pay
from tests.helpers.tasks import create_product, promoter, share
from tuishou.ids import new_id

ZERO = {
    "clicks": 0,
    "promotions": 0,
    "transactions": 0,
    "revenue_minor": 0,
    "commission_minor": 0,
    "conversion_rate": None,
    "conversion_rate_bps": None,
}


def test_stats_match_a_hand_computed_history(api, stack, payments, dynamo_calls):
    with time_machine.travel("2030-04-10T22:30:00Z", tick=True) as traveller:
        # Given a 10 % task and promoters A and B
        merchant = api.user("merchant")
        product = create_product(api, merchant, price_minor=10000)
        pid = product["product_id"]
        a, b = promoter(api), promoter(api)
        # Day 1: A shares on wechat twice, an hour apart (a link's shares on a channel count once an hour),
        # B on weibo once
        share(api, a, pid, "wechat")
        stack.drain_streams()  # within the streams' one-hour record age
        traveller.move_to("2030-04-10T23:30:00Z")
        merchant, a, b = (api.signed_in(user) for user in (merchant, a, b))  # an ID token lasts an hour
        link_a = share(api, a, pid, "wechat")
        link_b = share(api, b, pid, "weibo")
        # 3 wechat clicks and 1 direct click on A's link, 1 weibo click on B's
        a_wechat = [click(api, link_a["code"], "wechat") for _ in range(3)]
        click(api, link_a["code"])
        b_weibo = click(api, link_b["code"], "weibo")
        # Two of A's wechat clicks pay 100.00, B's pays 50.00
        for click_id, amount in ((a_wechat[0], 10000), (a_wechat[1], 10000), (b_weibo, 5000)):
            assert pay(payments, click_id, amount)["outcome"] == "settled"
        # Day 2 (40 minutes later): 2 more wechat clicks on A's link, one pays 80.00
        traveller.move_to("2030-04-11T00:10:00Z")
        day2 = [click(api, link_a["code"], "wechat") for _ in range(2)]
        assert pay(payments, day2[0], 8000)["outcome"] == "settled"

        # When the merchant asks for the default 7-day window (after the streams derived the counts)
        stack.drain_streams()
        dynamo_calls.clear()
        response = api.get(f"/merchant/products/{pid}/stats", as_user=merchant)
        assert response.status == 200, response.text
        assert [op for op, _ in dynamo_calls] == ["GetItem", "Query"]
        stats = response.json()

    # Then every number is the hand-computed one
    assert (stats["days"], stats["first_day"], stats["last_day"], stats["currency"]) == (
        7,
        "2030-04-05",
        "2030-04-11",
        "CNY",
    )
    assert stats["totals"] == {
        "clicks": 7,
        "promotions": 3,
        "transactions": 4,
        "revenue_minor": 33000,
        "commission_minor": 3300,
        "conversion_rate": "0.5714",
        "conversion_rate_bps": 5714,
    }
    assert [d["day"] for d in stats["per_day"]] == [f"2030-04-{d:02d}" for d in range(5, 12)]
    assert all({k: v for k, v in d.items() if k != "day"} == ZERO for d in stats["per_day"][:5])
    assert stats["per_day"][5] == {
        "day": "2030-04-10",
        "clicks": 5,
        "promotions": 3,
        "transactions": 3,
        "revenue_minor": 25000,
        "commission_minor": 2500,
        "conversion_rate": "0.6000",
        "conversion_rate_bps": 6000,
    }
    assert stats["per_day"][6] == {
        "day": "2030-04-11",
        "clicks": 2,
        "promotions": 0,
        "transactions": 1,
        "revenue_minor": 8000,
        "commission_minor": 800,
        "conversion_rate": "0.5000",
        "conversion_rate_bps": 5000,
    }
    assert stats["top_promoters"] == [
        {
            "promoter_id": a.sub,
            "clicks": 6,
            "promotions": 2,
            "transactions": 3,
            "revenue_minor": 28000,
            "commission_minor": 2800,
            "conversion_rate": "0.5000",
            "conversion_rate_bps": 5000,
        },
        {
            "promoter_id": b.sub,
            "clicks": 1,
            "promotions": 1,
            "transactions": 1,
            "revenue_minor": 5000,
            "commission_minor": 500,
            "conversion_rate": "1.0000",
            "conversion_rate_bps": 10000,
        },
    ]
    assert [
        (c["channel"], c["clicks"], c["promotions"], c["transactions"], c["revenue_minor"])
        for c in stats["top_channels"]
    ] == [("wechat", 5, 2, 3, 28000), ("weibo", 1, 1, 1, 5000), ("direct", 1, 0, 0, 0)]


def test_a_one_day_window_shows_only_today(api, stack, payments):
    with time_machine.travel("2030-04-10T23:40:00Z", tick=True) as traveller:
        merchant = api.user("merchant")
        product = create_product(api, merchant)
        seller = promoter(api)
        link = share(api, seller, product["product_id"], "qq")
        click(api, link["code"], "qq")
        traveller.move_to("2030-04-11T00:05:00Z")
        pay(payments, click(api, link["code"], "qq"), 3000)
        stack.drain_streams()
        stats = api.get(f"/merchant/products/{product['product_id']}/stats", as_user=merchant, query={"days": 1}).json()
    assert [d["day"] for d in stats["per_day"]] == ["2030-04-11"]
    assert (stats["totals"]["clicks"], stats["totals"]["promotions"], stats["totals"]["transactions"]) == (1, 0, 1)


def test_stats_are_for_the_owner_only_and_days_are_bounded(api):
    owner, other = api.user("merchant"), api.user("merchant")
    product = create_product(api, owner)
    path = f"/merchant/products/{product['product_id']}/stats"
    assert api.get(path, as_user=other).status == 404
    assert api.get(f"/merchant/products/{new_id('prd')}/stats", as_user=owner).status == 404
    assert api.get(path, as_user=promoter(api)).status == 403
    for days in (0, 91, "x"):
        response = api.get(path, as_user=owner, query={"days": days})
        assert response.status == 422 and response.json()["error"]["field"] == "days", response.text
    assert api.get(path, as_user=owner, query={"days": 90}).json()["days"] == 90
    bad = api.get("/merchant/products/nope/stats", as_user=owner)
    assert bad.status == 422 and bad.json()["error"]["field"] == "product_id"
