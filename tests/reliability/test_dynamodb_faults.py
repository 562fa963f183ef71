"""DynamoDB throttling and transient errors, injected on the shared client: every API route answers 503 with
Retry-After, the webhook answers so the provider retries (Stripe non-2xx, Alipay ``failure``), and nothing is
half-written: a redelivery after the fault settles exactly once and the ledger invariants hold."""

from __future__ import annotations

import pytest

from tests.helpers.faults import DynamoFaults
from tests.helpers.payments import stripe_checkout_event, stripe_refund_event
from tests.security.test_authorization_matrix import MATRIX, ROLES, make_world

TRANSIENT = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "InternalServerError",
    "RequestLimitExceeded",
]
NO_DYNAMODB = {"GET /swagger", "GET /me", "POST /webhooks/{provider}"}  # webhooks: tested below


@pytest.fixture
def faults(stack):
    injector = DynamoFaults()
    yield injector
    injector.off()


def _success_caller(row):
    """The first role the matrix says gets past authorization (a 2xx/3xx, or a 409 that needed a read)."""
    return next(role for role, status in zip(ROLES, row.expected, strict=True) if status not in {401, 403})


@pytest.mark.parametrize("code", TRANSIENT[:2])
def test_every_route_answers_503_with_retry_after_when_dynamodb_throttles(api, faults, code):
    users, ids = make_world(api)
    wrong = []
    for row in MATRIX:
        if row.route in NO_DYNAMODB:
            continue
        role = _success_caller(row)
        method = row.route.split(" ", 1)[0]
        # Given DynamoDB failing every call
        faults.fail(code, count=1000)
        # When the route is called by a caller it would serve
        response = api.request(
            method, row.path.format(**ids), json_body=row.body, as_user=None if role == "anonymous" else users[role]
        )
        faults.off()
        # Then 503 with Retry-After and the JSON error body
        if response.status != 503 or "Retry-After" not in response.headers:
            wrong.append(f"{row.route} as {role}: {response.status} {response.text[:100]}")
    assert wrong == []
    assert faults.injected, "no fault was injected: the test would prove nothing"


@pytest.mark.parametrize("code", TRANSIENT)
@pytest.mark.parametrize("fail_call", [0, 1, 2, 3])
def test_a_stripe_delivery_hit_by_a_fault_is_retried_and_settles_once(payments, faults, code, fail_call):
    seeded = payments.seed_click()
    event = stripe_checkout_event("pi_fault", 9900, click_id=seeded.click_id)
    # Given the fail_call-th DynamoDB request of the delivery fails transiently
    faults.fail(code, count=1, skip=fail_call)
    # When Stripe delivers
    first = payments.stripe(event)
    faults.off()
    # Then it is told to retry (non-2xx), and nothing is half-written
    assert faults.injected
    assert first.status == 503, first.text
    assert first.headers.get("Retry-After")
    assert payments.settlements() == []
    payments.assert_ledger_consistent()
    # When Stripe retries with DynamoDB healthy again
    assert payments.stripe(event).json()["outcome"] == "settled"
    assert payments.stripe(event).json()["outcome"] == "duplicate"
    # Then exactly one settlement of three entries, balanced
    assert len(payments.settlements()) == 1
    assert len(payments.entries()) == 3
    payments.assert_ledger_consistent()


@pytest.mark.parametrize("fail_call", [0, 1])  # a refund of a settled payment is 2 requests
def test_a_refund_hit_by_a_fault_is_retried_and_claws_back_once(payments, faults, fail_call):
    seeded = payments.seed_click()
    assert payments.stripe(stripe_checkout_event("pi_rf", 10000, click_id=seeded.click_id)).status == 200
    refund = stripe_refund_event("pi_rf", 5000, 10000)
    entries_before = len(payments.entries())
    # Given the refund's fail_call-th request throttled
    faults.fail("ProvisionedThroughputExceededException", count=1, skip=fail_call)
    first = payments.stripe(refund)
    faults.off()
    # Then Stripe is told to retry and no clawback entry exists yet
    assert faults.injected
    assert first.status == 503, first.text
    assert len(payments.entries()) == entries_before
    # When it retries, twice: the clawback is applied once
    assert payments.stripe(refund).json()["outcome"] == "refund_applied"
    assert payments.stripe(refund).json()["outcome"] == "duplicate"
    assert len(payments.entries()) == entries_before + 3
    payments.assert_ledger_consistent()


@pytest.mark.parametrize("fail_call", [0, 1, 2, 3])
def test_an_alipay_notification_hit_by_a_fault_answers_failure_and_settles_on_resend(payments, faults, fail_call):
    seeded = payments.seed_click()
    faults.fail("InternalServerError", count=1, skip=fail_call)
    first = payments.alipay_paid("2024050122000111", "99.00", seeded.click_id)
    faults.off()
    assert faults.injected
    # Alipay resends until it reads exactly "success"
    assert first.text == "failure"
    assert first.status >= 500
    assert payments.settlements() == []
    assert payments.alipay_paid("2024050122000111", "99.00", seeded.click_id).text == "success"
    assert payments.alipay_paid("2024050122000111", "99.00", seeded.click_id).text == "success"
    assert len(payments.settlements()) == 1
    payments.assert_ledger_consistent()


def test_the_reminder_job_fails_loudly_so_the_schedule_retries(api, stack, faults):
    from tuishou.errors import ServiceUnavailable

    faults.fail("ThrottlingException", count=1000)
    with pytest.raises(ServiceUnavailable):
        stack.run_schedule("DeadlineReminderFunction")
