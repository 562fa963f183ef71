"""Stripe-Signature verification, cross-checked against the official library's verifier."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.helpers.payments import sign_stripe
from tuishou.providers import InvalidNotification
from tuishou.providers.stripe import verify_signature

SECRET = "whsec_test_endpoint_secret"
BODY = b'{"id":"evt_1","type":"checkout.session.completed"}'


def ours_accepts(body: bytes, header: str | None, secrets: list[str], now: int) -> bool:
    try:
        verify_signature(body, header, secrets, now)
    except InvalidNotification:
        return False
    return True


def stripe_accepts(body: bytes, header: str | None, secret: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(body.decode(), header, secret, tolerance=300)
    except stripe.SignatureVerificationError:
        return False
    return True


NOW = int(time.time())


def cases(now: int) -> dict[str, tuple[bytes, str | None, bool]]:
    """Headers made at test time, so the suite's own duration cannot age them."""
    return {
        "valid": (BODY, sign_stripe(BODY, SECRET, now), True),
        "tampered body": (BODY + b" ", sign_stripe(BODY, SECRET, now), False),
        "wrong secret": (BODY, sign_stripe(BODY, "whsec_other", now), False),
        "stale timestamp": (BODY, sign_stripe(BODY, SECRET, now - 301), False),
        "just within tolerance": (BODY, sign_stripe(BODY, SECRET, now - 290), True),
        "two v1, second matches": (
            BODY,
            sign_stripe(BODY, "whsec_old", now) + "," + sign_stripe(BODY, SECRET, now).split(",")[1],
            True,
        ),
        "two v1, none matches": (
            BODY,
            sign_stripe(BODY, "whsec_a", now) + "," + sign_stripe(BODY, "whsec_b", now).split(",")[1],
            False,
        ),
        "missing header": (BODY, None, False),
        "no v1": (BODY, f"t={now},v0=abc", False),
        "no timestamp": (BODY, sign_stripe(BODY, SECRET, now).split(",")[1], False),
        "garbage header": (BODY, "not a signature", False),
    }


CASE_NAMES = list(cases(NOW))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_decision_matches_the_official_library(name):
    # Given a body and a Stripe-Signature header
    body, header, expected = cases(int(time.time()))[name]
    # When both verifiers judge it at the same moment
    ours, theirs = ours_accepts(body, header, [SECRET], int(time.time())), stripe_accepts(body, header, SECRET)
    # Then they agree, and agree with the expectation
    assert ours == theirs == expected


def test_future_timestamp_beyond_tolerance_is_rejected_although_the_library_accepts_it():
    # Given a correctly signed header dated ten minutes ahead (of now: stripe-python reads the clock itself)
    now = int(time.time())
    header = sign_stripe(BODY, SECRET, now + 600)
    # Then we refuse it (a clock that far ahead is as suspicious as a replay); stripe-python only checks staleness
    assert not ours_accepts(BODY, header, [SECRET], now)
    assert stripe_accepts(BODY, header, SECRET)
    # And a small skew inside the tolerance is fine
    assert ours_accepts(BODY, sign_stripe(BODY, SECRET, now + 30), [SECRET], now)


def test_any_of_several_configured_secrets_verifies_during_rotation():
    header = sign_stripe(BODY, "whsec_new", NOW)
    assert ours_accepts(BODY, header, ["whsec_old", "whsec_new"], NOW)
    assert not ours_accepts(BODY, header, ["whsec_old"], NOW)


def test_error_names_the_header_field():
    with pytest.raises(InvalidNotification) as raised:
        verify_signature(BODY, None, [SECRET], NOW)
    assert raised.value.field == "Stripe-Signature" and raised.value.status == 400
