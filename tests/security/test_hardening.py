"""Hardening at the edges: webhook replay, body size limits on every JSON route, secrets never in logs, money
fields that refuse floats and decimal strings, and ids validated before any DynamoDB request."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.helpers.payments import sign_stripe, stripe_checkout_event
from tests.helpers.tasks import create_product, link_for, product_body, promoter
from tools import template
from tuishou.rest import MAX_BODY_BYTES

PHONE = "+8613812345678"


# ---------------------------------------------------------------- webhooks
def test_a_replayed_old_signed_event_is_rejected_and_changes_nothing(payments):
    # Given a payment delivered and settled once
    seeded = payments.seed_click()
    event = stripe_checkout_event("pi_replayed", 5000, click_id=seeded.click_id)
    assert payments.stripe(event).status == 200
    before = payments.ledger_items()
    # When an attacker replays the same body with its original signature ten minutes later
    body = json.dumps(event).encode()
    old = sign_stripe(body, payments.provider.stripe_webhook_secret, int(time.time()) - 600)
    response = payments.post("stripe", body, {"Stripe-Signature": old})
    # Then it is refused (outside the 300 s tolerance) and nothing changes
    assert response.status == 400
    assert payments.ledger_items() == before


def _body_routes():
    return [r for r in template.routes() if r.method in {"POST", "PUT", "PATCH"}]


@pytest.mark.parametrize("route", _body_routes(), ids=lambda r: f"{r.method} {r.path}")
def test_every_body_route_refuses_an_oversized_body_before_parsing(api, dynamodb_requests, route):
    # Given a body one byte over the limit, valid JSON up to that point
    user = api.user("admin")
    body = json.dumps({"title": "x" * MAX_BODY_BYTES}).encode()
    path = route.path.replace("{provider}", "stripe")
    for name in ("product_id", "link_id", "promoter_id", "template_id", "notification_id", "user_id"):
        path = path.replace("{" + name + "}", "prd_0123456789abcdefghjk")
    dynamodb_requests.reset()
    # When it is sent
    response = api.request(route.method, path, body=body, as_user=user)
    # Then 413 naming the body, and not one DynamoDB request
    assert response.status == 413, response.text
    assert dynamodb_requests.total == 0


# ---------------------------------------------------------------- logs
def test_no_secret_token_or_full_phone_number_is_ever_logged(api, payments, capfd, caplog):
    from tuishou.observability import logger

    caplog.set_level(logging.INFO)
    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        # Given a full flow with every sensitive value in play: a profile with a phone, a product, a link,
        # a click, a signed webhook, authorized calls, a failed call
        user = api.user("promoter")
        assert api.post("/promoter/profile", {"display_name": "Lin", "phone": PHONE}, as_user=user).status == 201
        merchant = api.user("merchant")
        product = create_product(api, merchant)
        link = link_for(api, user, product["product_id"])
        click = api.get(f"/l/{link['code']}")
        assert click.status == 302
        seeded = payments.seed_click()
        assert payments.stripe(stripe_checkout_event("pi_logs", 5000, click_id=seeded.click_id)).status == 200
        assert payments.stripe(stripe_checkout_event("pi_forged", 5000), secret="whsec_wrong").status == 400
        assert payments.alipay_paid("2024050122001", "99.00", seeded.click_id).status == 200
        assert api.get("/promoter/account", as_user=user).status == 200
        assert api.put("/me/notification-preferences", {"channels": ["inapp", "sms"]}, as_user=user).status == 200
        assert api.get("/me", token="Bearer not-a-token").status == 401
    finally:
        logger.setLevel(previous)
    # When every log line written is collected
    out, err = capfd.readouterr()
    logged = out + err + "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "payment notification handled" in logged, "the flow logged nothing: the test would prove nothing"
    # Then none of the sensitive values appear in them
    secrets = {
        "stripe secret": payments.provider.stripe_webhook_secret,
        "user token": user.token,
        "merchant token": merchant.token,
        "phone": PHONE,
        "phone digits": PHONE[-11:],
        "alipay key": payments.provider.alipay_private_key_pem.splitlines()[1],
    }
    leaked = [name for name, value in secrets.items() if value and value in logged]
    assert leaked == []


# ---------------------------------------------------------------- money fields
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_minor": 99.5}, "price_minor"),
        ({"price_minor": "99.00"}, "price_minor"),
        ({"price_minor": "9900"}, "price_minor"),
        ({"price_minor": 9900.0}, "price_minor"),
        ({"reward_rules": [{"promoter_tag": "standard", "type": "fixed", "value": 10.5}]}, "reward_rules[0].value"),
        (
            {"reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": "10.00"}]},
            "reward_rules[0].value",
        ),
    ],
)
def test_product_money_fields_refuse_floats_and_decimal_strings(api, dynamodb_requests, change, field):
    merchant = api.user("merchant")
    dynamodb_requests.reset()
    response = api.post("/merchant/products", product_body(**change), as_user=merchant)
    assert response.status == 422, response.text
    assert response.json()["error"]["field"] == field
    assert dynamodb_requests.total == 0


@pytest.mark.parametrize("field", ["bonus_minor", "coupon_value_minor"])
@pytest.mark.parametrize("value", [50.5, "50.00", 5000.0])
def test_channel_template_money_fields_refuse_floats_and_decimal_strings(api, dynamodb_requests, field, value):
    body = {
        "channel": "wechat",
        "duration_hours": 24,
        "target_transactions": 3,
        "bonus_minor": 5000,
        "currency": "CNY",
        "reminder_threshold_hours": 5,
        "coupon_threshold": 1,
        "coupon_value_minor": 300,
        field: value,
    }
    admin = api.admin
    dynamodb_requests.reset()
    response = api.post("/admin/channel-task-templates", body, as_user=admin)
    assert response.status == 422, response.text
    assert response.json()["error"]["field"] == field
    assert dynamodb_requests.total == 0


# ---------------------------------------------------------------- ids before DynamoDB
MALFORMED = ["nope", "prd_short", "x" * 30, "PRD_0123456789ABCDEFGHJK", "prd_0123456789abcdefghj!", "%20"]


# (role, method, path with {} for the id, body): every route with an id in its path
ID_ROUTES = [
    (
        "merchant",
        "PUT",
        "/merchant/products/{}/reward-rules",
        {"reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 100}]},
    ),
    ("merchant", "PATCH", "/merchant/products/{}", {"holding_days": 7}),
    ("merchant", "POST", "/merchant/products/{}/pause", None),
    ("merchant", "POST", "/merchant/products/{}/resume", None),
    ("promoter", "POST", "/promoter/tasks/{}/links", None),
    ("promoter", "POST", "/promoter/links/{}/shares", {"channel": "wechat"}),
    ("admin", "PUT", "/admin/promoters/{}/tags", {"tags": ["standard"]}),
    ("admin", "GET", "/admin/accounts/{}", None),
    ("promoter", "POST", "/me/notifications/{}/read", None),
    ("promoter", "POST", "/promoter/channel-tasks/{}/accept", None),
    ("merchant", "GET", "/merchant/coupons/{}", None),
    (None, "GET", "/l/{}", None),
    ("merchant", "PUT", "/merchant/products/{}/promoter-rewards/{}", {"type": "percent", "value": 1500}),
    ("merchant", "DELETE", "/merchant/products/{}/promoter-rewards/{}", None),
    ("merchant", "GET", "/merchant/products/{}/stats", None),
    ("admin", "GET", "/admin/scans/{}", None),
    ("admin", "PUT", "/admin/users/{}/block", None),
    ("admin", "DELETE", "/admin/users/{}/block", None),
    ("admin", "POST", "/admin/reviews/{}/approve", None),
    ("admin", "POST", "/admin/reviews/{}/decline", {"reason": "no"}),
    ("promoter", "DELETE", "/me/devices/{}", None),
    ("promoter", "GET", "/promoter/statements/{}", None),  # a month, checked like an id
    ("merchant", "GET", "/merchant/statements/{}", None),
]


def test_every_route_with_an_id_in_its_path_is_in_the_id_list():
    import re

    with_ids = {
        (r.method, re.sub(r"\{\w+}", "{}", r.path))
        for r in template.routes()
        if "{" in r.path and r.path != "/webhooks/{provider}"
    }
    assert with_ids == {(method, path) for _, method, path, _ in ID_ROUTES}


@pytest.fixture
def world(api):
    return {"promoter": promoter(api), "merchant": api.user("merchant"), "admin": api.admin}


# routes with two ids: a well-formed first id (of nothing) with a malformed second one
WELL_FORMED_PRODUCT = "prd_0123456789abcdefghjk"
SECOND_ID_ROUTES = [
    (role, method, path.replace("{}", WELL_FORMED_PRODUCT, 1), body)
    for role, method, path, body in ID_ROUTES
    if path.count("{}") == 2
]


def test_malformed_ids_are_refused_before_any_dynamodb_request(api, world, dynamodb_requests):
    from tuishou import ids

    assert ids.is_id(WELL_FORMED_PRODUCT, "prd") and SECOND_ID_ROUTES
    failures = []
    for role, method, path, body in ID_ROUTES + SECOND_ID_ROUTES:
        for bad in MALFORMED:
            dynamodb_requests.reset()
            # When a route is called with a malformed id
            response = api.request(
                method, path.replace("{}", bad), json_body=body, as_user=world[role] if role else None
            )
            # Then it is a 4xx and DynamoDB was never asked, but for the caller's rate-limit window (a write
            # request counts in it before its route runs)
            if not 400 <= response.status < 500 or dynamodb_requests.beyond_rate_limit:
                failures.append(
                    f"{method} {path.replace('{}', bad)}: {response.status}, {dict(dynamodb_requests.operations)}"
                )
    assert failures == []
