"""Hostile input over HTTP: bodies, numbers, dates, URLs and query strings that must earn a 4xx with the one
error shape (or, on the public redirect, still a redirect) - never a 5xx."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers.payments import sign_stripe, stripe_checkout_event
from tests.helpers.tasks import create_product, link_for, product_body, promoter
from tuishou import money
from tuishou.rest import MAX_JSON_DEPTH

HUGE_INTEGER = "9" * 5000


def assert_error_shape(response, status: int | None = None, field: str | None = None) -> dict:
    """The one error body: ``{"error": {"code", "message", "field"?}}``, nothing else."""
    assert response.status < 500, response.text
    if status is not None:
        assert response.status == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "field"}, body
    if field is not None:
        assert body["error"].get("field") == field, body
    return body["error"]


# ---------------------------------------------------------------- unauthenticated webhook header
@pytest.mark.parametrize("timestamp", [HUGE_INTEGER, "١٢٣", "²", "-5", "1" * 13])
def test_a_stripe_signature_with_an_absurd_timestamp_is_a_400_before_any_check(payments, timestamp):
    # Given a body signed over an absurd timestamp (the signature is irrelevant: it is refused first)
    body = json.dumps(stripe_checkout_event("pi_absurd", 5000)).encode()
    # When it is posted
    response = payments.post("stripe", body, {"Stripe-Signature": f"t={timestamp},v1={'0' * 64}"})
    # Then 400 naming the header, nothing written
    assert_error_shape(response, 400, "Stripe-Signature")
    assert payments.ledger_items() == []


# ---------------------------------------------------------------- bodies
def _raw_post(api, path, body: bytes, user, content_type="application/json"):
    return api.request("POST", path, body=body, as_user=user, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"title": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "body"),  # nested far beyond the limit
        (b'{"title": ' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"}", "body"),
        (b'{"title": "caf\xe9"}', "body"),  # latin-1, not UTF-8
        (b'{"title": "\xff\xfe"}', "body"),
        (b'{"title": "\\ud800"}', "body"),  # a lone surrogate
        (b'{"price_minor": NaN}', "body"),
        (json.dumps(product_body()).replace("10000", HUGE_INTEGER, 1).encode(), "price_minor"),
    ],
)
def test_a_malformed_json_body_is_a_422_naming_the_field(api, dynamodb_requests, body, field):
    merchant = api.user("merchant")
    dynamodb_requests.reset()
    # When a merchant posts a body no JSON reader should accept as is
    response = _raw_post(api, "/merchant/products", body, merchant)
    # Then 422 naming the field (or the body), and DynamoDB was not asked
    assert_error_shape(response, 422, field)
    assert dynamodb_requests.total == 0


def test_nesting_up_to_the_limit_is_read_and_validated_normally(api):
    # Given a body nested exactly to the limit (the object itself counts one level)
    nested: list = []
    for _ in range(MAX_JSON_DEPTH - 2):
        nested = [nested]
    body = json.dumps(product_body(title=nested)).encode()
    response = _raw_post(api, "/merchant/products", body, api.user("merchant"))
    # Then it is parsed, and the model names what is wrong with it
    assert_error_shape(response, 422, "title")


def test_a_wrong_content_type_is_a_415_in_the_one_error_shape(api):
    response = _raw_post(api, "/merchant/products", b"<product/>", api.user("merchant"), "application/xml")
    assert_error_shape(response, 415, "body")


@pytest.mark.parametrize("value", [10**40, 10**30, money.max_minor("CNY") + 1])
def test_fixed_reward_values_are_bounded_by_the_currency_maximum(api, value):
    merchant = api.user("merchant")
    rules = [{"promoter_tag": "standard", "type": "fixed", "value": value}]
    # When a product is created with it, or its rules are replaced with it
    created = api.post("/merchant/products", product_body(reward_rules=rules), as_user=merchant)
    assert_error_shape(created, 422, "reward_rules[0].value")
    product = create_product(api, merchant)
    replaced = api.put(
        f"/merchant/products/{product['product_id']}/reward-rules", {"reward_rules": rules}, as_user=merchant
    )
    assert_error_shape(replaced, 422, "reward_rules[0].value")
    # Or given as one promoter's override
    overridden = api.put(
        f"/merchant/products/{product['product_id']}/promoter-rewards/{promoter(api).sub}",
        {"type": "fixed", "value": value},
        as_user=merchant,
    )
    assert_error_shape(overridden, 422, "value")


def test_the_maximum_depends_on_the_currency_exponent(api):
    merchant = api.user("merchant")
    # Given the largest yen amount, which is 100 times fewer minor units than the largest yuan amount
    yen = money.max_minor("JPY")
    assert money.max_minor("CNY") == 100 * yen
    rules = [{"promoter_tag": "standard", "type": "fixed", "value": yen}]
    # Then each is accepted at its maximum and refused beyond it
    assert (
        api.post(
            "/merchant/products", product_body(currency="JPY", price_minor=yen, reward_rules=rules), as_user=merchant
        ).status
        == 201
    )
    too_much = api.post("/merchant/products", product_body(currency="JPY", price_minor=yen + 1), as_user=merchant)
    assert_error_shape(too_much, 422, "price_minor")


@pytest.mark.parametrize("field", ["bonus_minor", "coupon_value_minor"])
def test_channel_template_amounts_are_bounded_by_the_currency_maximum(api, field):
    body = {
        "channel": "wechat",
        "duration_hours": 24,
        "target_transactions": 3,
        "bonus_minor": 5000,
        "currency": "JPY",
        "reminder_threshold_hours": 5,
        "coupon_threshold": 1,
        "coupon_value_minor": 300,
        field: money.max_minor("JPY") + 1,
    }
    assert_error_shape(api.post("/admin/channel-task-templates", body, as_user=api.admin), 422, field)


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1999-12-31T23:59:59Z",
        "2024-01-01T00:00:00",
    ],
)
def test_compensations_since_outside_the_date_range_or_without_offset_is_a_422(api, since):
    response = api.get("/admin/compensations", as_user=api.admin, query={"since": since})
    assert_error_shape(response, 422, "since")


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+00:00"])
def test_a_fault_window_outside_the_date_range_is_a_422_and_starts_no_scan(api, payments, start):
    body = {"start": start, "end": "0001-01-02T00:00:00+00:00", "reason": "outage"}
    response = api.post("/admin/fault-windows", body, as_user=api.admin)
    assert_error_shape(response, 422, "start")
    assert payments.ledger_items() == []


def test_a_fault_window_in_any_offset_is_stored_in_utc_and_read_back(api):
    # Given a window declared in +14:00
    body = {"start": "2024-05-01T02:00:00+14:00", "end": "2024-05-01T06:00:00+14:00", "reason": "outage"}
    response = api.post("/admin/fault-windows", body, as_user=api.admin)
    assert response.status == 202, response.text
    # Then its summary reads back the same instants in UTC
    summary = api.get(f"/admin/scans/{response.json()['scan_id']}", as_user=api.admin).json()
    assert (summary["window_start"], summary["window_end"]) == ("2024-04-30T12:00:00.000Z", "2024-04-30T16:00:00.000Z")


# ---------------------------------------------------------------- landing URLs
@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (
            "https://shop.example.com/茶具/杯?q=绿茶&x=1",
            "https://shop.example.com/%E8%8C%B6%E5%85%B7/%E6%9D%AF?q=%E7%BB%BF%E8%8C%B6&x=1",
        ),
        ("https://例子.中国/tea", "https://xn--fsqu00a.xn--fiqs8s/tea"),
        ("https://Shop.Example.com:8443/a%20b?c=%2F", "https://shop.example.com:8443/a%20b?c=%2F"),
    ],
)
def test_non_ascii_landing_urls_are_stored_encoded_and_every_click_redirects(api, given, stored):
    # Given a product whose landing URL has a Chinese path or an internationalised host
    merchant = api.user("merchant")
    product = create_product(api, merchant, landing_url=given)
    # Then the canonical ASCII form is stored
    assert product["landing_url"] == stored
    # And a click redirects to it with an ASCII Location header
    user = promoter(api)
    response = api.get(f"/l/{link_for(api, user, product['product_id'])['code']}")
    assert response.status == 302
    location = response.headers["Location"]
    assert location.isascii() and location.startswith(stored.split("?")[0])


@pytest.mark.parametrize(
    "bad",
    [
        "https://shop.example.com/a\x00b",
        "https://shop.example.com/\x1b[31m",
        "https://shop.example.com/a\x7f",
        "https://shop.example.com/a\u0085b",
        "https://sh\x00op.example.com/",
        "https://shop.example.com:99999/",
        "https://user:pw@shop.example.com/",
        "https://" + "a" * 64 + ".example/",
    ],
)
def test_landing_urls_with_control_characters_or_bad_hosts_are_a_422(api, bad):
    response = api.post("/merchant/products", product_body(landing_url=bad), as_user=api.user("merchant"))
    assert_error_shape(response, 422, "landing_url")


# ---------------------------------------------------------------- the public redirect
@pytest.mark.parametrize(
    ("query", "channel"),
    [
        ("ch=wechat&ch=qq", "wechat"),
        ("ch=nope&ch=qq", "qq"),
        ("ch=&ch=weibo", "weibo"),
        ("ch=%FF%FE", "other"),
        ("ch[]=x&ch=sms&limit=-1", "sms"),
        ("%zz=%zz&&=&ch", "direct"),
    ],
)
def test_a_visitor_is_redirected_whatever_the_query(api, stack, query, channel):
    # Given a link
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    code = link_for(api, promoter(api), product["product_id"])["code"]
    # When it is opened with repeated or odd markers
    response = api.get(f"/l/{code}?{query}")
    # Then it redirects, counting the first valid channel
    assert response.status == 302, response.text
    from tuishou.dal import dynamo, keys

    [click_id] = parse_qs(urlsplit(response.headers["Location"]).query)["tsclid"]
    pk, sk = keys.click(click_id)
    click = dynamo.client().get_item(TableName=dynamo.table("tracking"), Key=dynamo.key(pk, sk))["Item"]
    assert dynamo.from_item(click)["channel"] == channel


# ---------------------------------------------------------------- the one error shape
@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("PATCH", "/merchant/products"), ("DELETE", "/me")])
def test_unknown_routes_and_methods_answer_the_one_shape(api, method, path):
    assert_error_shape(api.request(method, path, as_user=api.user("merchant")), 404)


def test_powertools_own_errors_are_answered_in_the_one_shape(stack):
    from tools.gateway import proxy_event
    from tools.template import functions

    # Given each function invoked directly with an unknown route, a wrong content type and an invalid query
    for spec in functions():
        if not spec.routes:
            continue
        route = spec.routes[0]
        for path, headers, query in (
            ("/not/a/route", {}, {}),
            (route.path, {"Content-Type": "text/csv"}, {}),
            (route.path, {}, {"limit": ["-1"]}),
        ):
            event = proxy_event(route, path, {}, query, headers, b"x", {"sub": "u", "custom:role": "admin"})
            event["resource"] = path
            result = stack.gateway.host.invoke(route.function_id, event)
            # Then any error body is the one shape
            if result["statusCode"] >= 400 and result["body"].startswith("{"):
                body = json.loads(result["body"])
                assert set(body) == {"error"}, (spec.logical_id, path, body)
            assert result["statusCode"] < 500, (spec.logical_id, path, result["body"])


def test_a_signed_stripe_body_is_never_read_as_a_json_request(payments):
    # Given a correctly signed Stripe notification nested deeper than the JSON limit
    body = b'{"type": "checkout.session.completed", "data": ' + b"[" * 200 + b"]" * 200 + b"}"
    signature = sign_stripe(body, payments.provider.stripe_webhook_secret)
    # Then it is acknowledged (the provider must stop retrying), never a 4xx/5xx
    response = payments.post("stripe", body, {"Stripe-Signature": signature})
    assert response.status == 200, response.text


@pytest.mark.parametrize("field", ["title", "price_minor", "description"])
def test_a_5000_digit_integer_is_refused_in_any_field_never_read_as_text(api, field):
    body = json.dumps(product_body(**{field: 0})).replace(f'"{field}": 0', f'"{field}": {HUGE_INTEGER}')
    response = _raw_post(api, "/merchant/products", body.encode(), api.user("merchant"))
    assert_error_shape(response, 422, field)
