"""Signed but malformed provider notifications: acknowledged (the provider must stop retrying), recorded for an
admin with the reason, and no money moved - never a 4xx or 5xx."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.payments import alipay_body, alipay_params, sign_stripe, stripe_checkout_event, stripe_refund_event

HUGE = 10**40


def money_state(payments) -> tuple[list, dict, list]:
    """Everything that is money: entries, balances, settlement records."""
    items = payments.ledger_items()
    return payments.entries(items), payments.balances(items), payments.settlements(items)


def rejected(api) -> list[dict[str, Any]]:
    response = api.get("/admin/payments/rejected", as_user=api.admin)
    assert response.status == 200, response.text
    return response.json()["items"]


def _with(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _paid(click_id: str | None = None) -> dict[str, Any]:
    return stripe_checkout_event("pi_malformed", 5000, click_id=click_id)


def _refund() -> dict[str, Any]:
    return stripe_refund_event("pi_malformed", 1000, 5000)


STRIPE_CASES = [
    (_paid, ("created",), "yesterday", "created"),
    (_paid, ("created",), HUGE, "created"),
    (_paid, ("created",), -1, "created"),
    (_paid, ("created",), 1.5, "created"),
    (_paid, ("type",), ["checkout.session.completed"], "type"),
    (_paid, ("data",), "object", "data"),
    (_paid, ("data", "object"), [], "data.object"),
    (_paid, ("data", "object"), "cs_1", "data.object"),
    (_paid, ("data", "object", "metadata"), ["tsclid"], "metadata"),
    (_paid, ("data", "object", "metadata"), "tsclid=clk_1", "metadata"),
    (_paid, ("data", "object", "customer_details"), 7, "customer_details"),
    (_paid, ("data", "object", "amount_total"), HUGE, "amount_total"),
    (_paid, ("data", "object", "amount_total"), "5000", "amount_total"),
    (_paid, ("data", "object", "amount_total"), True, "amount_total"),
    (_paid, ("data", "object", "currency"), "xyz", "currency"),
    (_paid, ("data", "object", "payment_intent"), "pi with spaces", "payment_intent"),
    (_refund, ("data", "object", "refunds"), {"data": [1, 2]}, "refunds"),
    (_refund, ("data", "object", "refunds"), [], "refunds"),
    (_refund, ("data", "object", "amount_refunded"), HUGE, "amount_refunded"),
    (_refund, ("data", "object", "metadata"), 3, "metadata"),
]


@pytest.mark.parametrize(
    ("make", "path", "value", "field"), STRIPE_CASES, ids=[f"{'.'.join(c[1])}={c[2]!r}"[:60] for c in STRIPE_CASES]
)
def test_a_signed_malformed_stripe_event_is_acknowledged_recorded_and_moves_no_money(
    api, payments, make, path, value, field
):
    # Given an attributable click and a correctly signed event with one field of the wrong type or size
    seeded = payments.seed_click()
    event = _with(make() if make is _refund else _paid(seeded.click_id), path, value)
    # When Stripe delivers it
    response = payments.stripe(event)
    # Then it is acknowledged with 200 JSON, so Stripe stops retrying
    assert response.status == 200, response.text
    assert response.json() == {"received": True, "outcome": "rejected"}
    # And no money moved
    assert money_state(payments) == ([], {}, [])
    # And an admin sees it with the reason and the field
    [record] = rejected(api)
    assert record["provider"] == "stripe" and field in record["field"], record
    assert record["reason"] and record["provider_event_id"] == event.get("id")


def test_a_redelivered_malformed_event_is_recorded_once(api, payments):
    event = _with(_paid(), ("created",), "soon")
    body = json.dumps(event).encode()
    for _ in range(3):
        assert (
            payments.post(
                "stripe", body, {"Stripe-Signature": sign_stripe(body, payments.provider.stripe_webhook_secret)}
            ).status
            == 200
        )
    [record] = rejected(api)
    assert record["deliveries"] == 3


def test_an_unsigned_malformed_event_is_still_a_400_and_not_recorded(api, payments):
    response = payments.stripe(_with(_paid(), ("created",), "x"), secret="whsec_someone_else")
    assert response.status == 400
    assert rejected(api) == []


ALIPAY_CASES = [
    ({"total_amount": "sNaN"}, "total_amount"),
    ({"total_amount": "NaN"}, "total_amount"),
    ({"total_amount": "1E+50"}, "total_amount"),
    ({"total_amount": "1E+999999"}, "total_amount"),
    ({"total_amount": "-5.00"}, "total_amount"),
    ({"total_amount": "99.001"}, "total_amount"),
    ({"refund_fee": "sNaN"}, "refund_fee"),
    ({"refund_fee": "1E+999999"}, "refund_fee"),
    ({"gmt_payment": "0001-01-01 00:00:00"}, "gmt_payment"),
    ({"gmt_payment": "9999-12-31 23:59:59"}, "gmt_payment"),
    ({"refund_fee": "1.00", "gmt_refund": "0001-01-01 00:00:00"}, "gmt_refund"),
    ({"trans_currency": "XYZ"}, "trans_currency"),
    ({"trade_no": "trade no with spaces"}, "trade_no"),
]


@pytest.mark.parametrize(("change", "field"), ALIPAY_CASES, ids=[str(c[0])[:50] for c in ALIPAY_CASES])
def test_a_signed_malformed_alipay_notification_is_answered_success_recorded_and_moves_no_money(
    api, payments, change, field
):
    # Given an attributable click and a correctly signed notification with one absurd value
    seeded = payments.seed_click()
    params = {**alipay_params(payments.provider.alipay_app_id, "2024050122099", "99.00", seeded.click_id), **change}
    # When Alipay delivers it
    response = payments.alipay(params)
    # Then the answer is exactly `success`, so Alipay stops resending
    assert (response.status, response.body) == (200, b"success")
    # And no money moved, and an admin sees why
    assert money_state(payments) == ([], {}, [])
    [record] = rejected(api)
    assert (record["provider"], record["field"]) == ("alipay", field), record


def test_an_alipay_notification_for_another_app_is_still_a_failure(api, payments):
    params = alipay_params("2021000000000000", "2024050122099", "1E+999999")
    response = payments.alipay(params)
    assert (response.status, response.body) == (400, b"failure")
    assert rejected(api) == []


# ---------------------------------------------------------------- properties
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**40), 10**40) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)

STRIPE_PATHS = [
    ("created",),
    ("type",),
    ("data",),
    ("data", "object"),
    ("data", "object", "metadata"),
    ("data", "object", "amount_total"),
    ("data", "object", "currency"),
    ("data", "object", "payment_intent"),
    ("data", "object", "payment_status"),
    ("data", "object", "customer_details"),
    ("data", "object", "client_reference_id"),
    ("data", "object", "amount_refunded"),
    ("data", "object", "refunds"),
]

FUZZ = settings(
    max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@pytest.mark.slow
@FUZZ
@given(
    make=st.sampled_from([_paid, _refund]),
    changes=st.lists(st.tuples(st.sampled_from(STRIPE_PATHS), json_values), min_size=1, max_size=3),
)
def test_structurally_wrong_signed_stripe_events_never_fail_and_never_move_money(api, payments, make, changes):
    # Given a signed Stripe event with random parts replaced by random JSON (no click exists: nothing to pay)
    event = make()
    for path, value in changes:
        # (an earlier change may have removed the parent: the event is malformed enough then)
        with contextlib.suppress(TypeError, KeyError, IndexError):
            event = _with(event, path, value)
    before = money_state(payments)
    # When it is delivered
    response = payments.stripe(event)
    # Then it is acknowledged, and the money is as it was
    assert response.status == 200, response.text
    assert money_state(payments)[:2] == before[:2]


alipay_texts = st.one_of(
    st.text(max_size=16),
    st.sampled_from(
        [
            "sNaN",
            "-Infinity",
            "1E+999999",
            "1e-999999",
            "0E-100000",
            "99.00",
            "-1",
            "0x10",
            "1_000",
            "０.５",
            "0001-01-01 00:00:00",
            "2024-02-30 25:61:61",
            "TRADE_SUCCESS",
            "TRADE_FINISHED",
            "USD",
            "",
        ]
    ),
)
ALIPAY_FIELDS = [
    "total_amount",
    "refund_fee",
    "gmt_payment",
    "gmt_refund",
    "trade_status",
    "trans_currency",
    "trade_no",
    "passback_params",
    "notify_id",
    "out_biz_no",
    "buyer_id",
]


@pytest.mark.slow
@FUZZ
@given(changes=st.dictionaries(st.sampled_from(ALIPAY_FIELDS), alipay_texts, min_size=1, max_size=4))
def test_structurally_wrong_signed_alipay_notifications_never_fail_and_never_move_money(api, payments, changes):
    # Given a signed notification with random fields set to hostile text
    params = {**alipay_params(payments.provider.alipay_app_id, "2024050122098", "99.00", None), **changes}
    before = money_state(payments)
    # When it is delivered
    response = payments.post(
        "alipay",
        alipay_body(params, payments.provider.alipay_private_key_pem),
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    # Then the answer is exactly `success`, and the money is as it was
    assert (response.status, response.body) == (200, b"success"), response.body
    assert money_state(payments)[:2] == before[:2]
