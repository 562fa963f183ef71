"""Channel bonus tasks wired into the real flows: a share counts a promotion, a share URL's click gets a
quota-rescue coupon at the threshold, a settled payment counts a transaction and redeems the coupon, and
completion credits the bonus in the double-entry ledger exactly once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.helpers import devices
from tests.helpers.payments import account_balance, stripe_checkout_event
from tests.helpers.tasks import create_product, link_for, promoter

TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24,
    "target_transactions": 2,
    "target_promotions": 1,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
    "coupon_threshold": 1,
    "coupon_value_minor": 300,
}


def _follow(api, url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    response = api.get(f"{parts.path}?{parts.query}")
    assert response.status == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)


def _channel_task(api, user) -> dict:
    items = api.get("/promoter/channel-tasks", as_user=user).json()["items"]
    return next(i for i in items if i["channel"] == "wechat")


def test_share_click_and_pay_complete_the_task_and_credit_the_bonus_once(api, payments):
    # Given a wechat bonus template, a product, and a promoter who accepted the task
    template = api.post("/admin/channel-task-templates", TEMPLATE, as_user=api.admin).json()
    merchant = api.user("merchant")
    product = create_product(api, merchant, price_minor=10000)
    seller = promoter(api)
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=seller).status == 201
    link = link_for(api, seller, product["product_id"])

    # When the promoter shares on wechat, the share carries the offer and counts one promotion
    share = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "wechat"}, as_user=seller).json()
    assert share["channel_task_offer"]["template_id"] == template["template_id"]
    api.stack.drain_streams()  # the tracking stream counts the promotion
    assert _channel_task(api, seller)["progress"] == {"transactions": 0, "promotions": 1}

    # A consumer clicks the share URL: two sales to go is above the coupon threshold, so no coupon
    first = _follow(api, share["share_url"])
    assert "tscoupon" not in first
    assert payments.stripe(stripe_checkout_event("pi_first", 10000, click_id=first["tsclid"][0])).status == 200
    api.stack.drain_streams()  # the sale counts toward the task in the ledger stream consumer
    assert _channel_task(api, seller)["progress"]["transactions"] == 1
    api.stack.drain_streams()  # the open coupon reaches the promoter's link codes

    # One sale to go: the next share-URL click gets a coupon bound to its click id
    second = _follow(api, share["share_url"])
    assert "tscoupon" in second
    api.stack.drain_streams()  # the tracking stream records the coupon and tells the promoter
    kinds = [n["kind"] for n in api.stack.notifications() if n["recipient"] == seller.sub]
    assert "coupon_issued" in kinds

    # When that consumer pays (and the provider delivers twice)
    paid = stripe_checkout_event("pi_second", 9700, click_id=second["tsclid"][0])
    assert payments.stripe(paid).status == 200
    assert payments.stripe(paid).json()["outcome"] == "duplicate"
    api.stack.drain_streams()

    # Then the coupon is redeemed, the task completed once and the bonus credited once in the ledger
    from tuishou.logic.coupons import coupon_of_click

    assert coupon_of_click(second["tsclid"][0]).status == "redeemed"
    assert _channel_task(api, seller)["status"] == "completed"
    bonus_entries = [e for e in payments.entries() if e.get("kind") == "channel_bonus"]
    assert [e["amount_minor"] for e in bonus_entries if e["amount_minor"] > 0] == [5000]
    commission = 1000 + 970  # 10 % of each sale
    account = api.get("/promoter/account", as_user=seller).json()
    # the commissions wait out the product's holding period; the bonus is the platform's, available at once
    assert account["balances"] == [account_balance(commission + 5000, pending=commission, available=5000)]
    payments.assert_ledger_consistent()
    assert "channel_bonus_completed" in [n["kind"] for n in api.stack.notifications() if n["recipient"] == seller.sub]


def test_direct_clicks_never_get_coupons(api, payments):
    # Given a promoter one sale away from a wechat task's quota
    template = api.post(
        "/admin/channel-task-templates", {**TEMPLATE, "target_transactions": 1}, as_user=api.admin
    ).json()
    product = create_product(api, api.user("merchant"))
    seller = promoter(api)
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=seller)
    link = link_for(api, seller, product["product_id"])
    # When a consumer opens the plain link (no channel marker)
    params = _follow(api, link["url"])
    # Then the click is not on the task's channel: no coupon
    assert "tscoupon" not in params


def test_reloading_a_share_url_cannot_pump_notifications_or_sms(api):
    # Given a promoter one sale short of a task (a coupon is due on every share-URL click), opted into SMS
    # with a phone on the profile
    template = api.post(
        "/admin/channel-task-templates", {**TEMPLATE, "target_transactions": 1}, as_user=api.admin
    ).json()
    product = create_product(api, api.user("merchant"), price_minor=10000)
    seller = promoter(api)
    devices.add_device(seller.sub, "phone")
    always = {"channels": ["inapp", "push", "sms"], "quiet_hours": {"start": "00:00", "end": "00:00"}}
    assert api.put("/me/notification-preferences", always, as_user=seller).json()["effective_channels"] == [
        "inapp",
        "push",
        "sms",
    ]
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=seller).status == 201
    link = link_for(api, seller, product["product_id"])
    share = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "wechat"}, as_user=seller).json()
    # When an anonymous visitor reloads the share URL 20 times
    coupons = {_follow(api, share["share_url"])["tscoupon"][0] for _ in range(20)}
    # Then each click has its own coupon
    assert len(coupons) == 20
    api.stack.drain_streams()
    # But the promoter is told once for the hour, never by SMS, and the inbox counts the coupons
    sent = [
        n["channel"] for n in api.stack.notifications() if n["recipient"] == seller.sub and n["kind"] == "coupon_issued"
    ]
    assert sorted(sent) == ["inapp", "push"]
    [item] = [
        i for i in api.get("/promoter/notifications", as_user=seller).json()["items"] if i["kind"] == "coupon_issued"
    ]
    assert item["data"]["coupons"] == 20
    assert item["text"] == "微信的顾客本小时领取了 20 张 ¥3.00 优惠券，还差 1 笔销售"
