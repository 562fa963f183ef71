"""Coupons merchants can trust: GET /merchant/coupons/{code} for the merchant of the coupon's product only
(valid, redeemed, expired), an expiry (7 days by default), and a redemption that posts the platform's
incentive to the merchant exactly once, however often the ledger stream delivers the sale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from tests.helpers.insights import pay
from tests.helpers.tasks import create_product, link_for, promoter

T0 = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
COUPON_TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24 * 30,
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
def coupon(api, stack, clock):
    """A merchant's product, a promoter's wechat task with a coupon open, and a shopper's click that drew
    the coupon (recorded by the tracking stream)."""
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    seller = promoter(api)
    template = api.post("/admin/channel-task-templates", COUPON_TEMPLATE, as_user=api.admin).json()
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=seller).status == 201
    link = link_for(api, seller, product["product_id"])
    stack.drain_streams()
    response = api.get(f"/l/{link['code']}", query={"ch": "wechat"}, headers={"User-Agent": BROWSER})
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    stack.drain_streams()
    return merchant, product, query["tscoupon"][0], query["tsclid"][0]


def _lookup(api, merchant, code):
    return api.get(f"/merchant/coupons/{code}", as_user=merchant)


def _incentives(payments):
    return sorted(
        (e["account_id"], e["amount_minor"]) for e in payments.entries() if e.get("kind") == "coupon_incentive"
    )


def test_the_merchant_of_the_product_sees_a_valid_coupon_with_its_expiry(api, coupon):
    merchant, product, code, _click = coupon
    # When the merchant looks the code up (in any case)
    response = _lookup(api, merchant, code.lower())
    # Then it is valid, with its value, product and expiry (7 days after the click)
    assert response.status == 200, response.text
    assert response.json() == {
        "code": code,
        "status": "valid",
        "value_minor": 300,
        "currency": "CNY",
        "product_id": product["product_id"],
        "expires_at": "2030-03-08T08:00:00.000Z",
        "redeemed_at": None,
        "payment_id": None,
    }


def test_another_merchants_coupon_is_404_like_an_unknown_code(api, coupon):
    _merchant, _product, code, _click = coupon
    other = api.user("merchant")
    # When another merchant, or anyone with an unknown code, looks it up
    theirs, unknown = _lookup(api, other, code), _lookup(api, other, "NOSUCHCODE12")
    # Then both are the same 404, and a promoter may not look coupons up at all
    assert (theirs.status, unknown.status) == (404, 404)
    assert theirs.json() == unknown.json()
    assert theirs.json()["error"]["code"] == "not_found"
    assert _lookup(api, promoter(api), code).status == 403


def test_redemption_posts_the_incentive_once_under_replay_and_the_audit_stays_ok(api, stack, payments, coupon):
    merchant, _product, code, click_id = coupon
    # When the shopper pays with the coupon's click and the ledger stream derives the sale, then replays it
    assert pay(payments, click_id, 9700)["outcome"] == "settled"
    stack.drain_streams()
    stack.replay_streams()
    # Then the coupon shows redeemed, by that payment
    shown = _lookup(api, merchant, code).json()
    assert (shown["status"], shown["redeemed_at"]) == ("redeemed", "2030-03-01T08:00:00.000Z")
    assert shown["payment_id"].startswith("pi_")
    # And the platform paid the merchant the coupon's value once
    assert _incentives(payments) == [(merchant.sub, 300), ("system:platform_incentives", -300)]
    audit = api.get("/admin/ledger/audit", as_user=api.admin).json()
    assert audit["ok"], audit["violations"]


def test_an_expired_coupon_is_not_redeemed_and_the_sale_settles_without_it(api, stack, payments, clock, coupon):
    merchant, _product, code, click_id = coupon
    # When the shopper pays 7 days after the click (the coupon's last moment has passed)
    clock.move_to(T0 + timedelta(days=7))
    merchant = api.signed_in(merchant)  # an ID token lasts an hour
    assert pay(payments, click_id, 10000)["outcome"] == "settled"
    stack.drain_streams()
    # Then the coupon is expired, not redeemed, and no incentive is posted
    shown = _lookup(api, merchant, code).json()
    assert (shown["status"], shown["redeemed_at"], shown["payment_id"]) == ("expired", None, None)
    assert _incentives(payments) == []
    payments.assert_ledger_consistent()


def test_a_payment_a_moment_before_expiry_redeems_it(api, stack, payments, clock, coupon):
    merchant, _product, code, click_id = coupon
    # When the shopper pays a second before the coupon expires
    clock.move_to(T0 + timedelta(days=7) - timedelta(seconds=1))
    merchant = api.signed_in(merchant)
    assert pay(payments, click_id, 9700)["outcome"] == "settled"
    stack.drain_streams()
    # Then it is redeemed, with its incentive
    assert _lookup(api, merchant, code).json()["status"] == "redeemed"
    assert _incentives(payments) == [(merchant.sub, 300), ("system:platform_incentives", -300)]
