"""POST /webhooks/{provider}: attribution, the split into the ledger, duplicates, refunds, unattributed
payments, and the DynamoDB request budgets."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.payments import stripe_checkout_event, stripe_refund_event
from tuishou import clock
from tuishou.dal import dynamo, keys
from tuishou.logic import settlement
from tuishou.models.ledger import PAYMENT_CLEARING


class DynamoRequests:
    """Counts DynamoDB API calls made by the Lambda code's client (a botocore event hook)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, model, **_kwargs) -> None:
        with self._lock:
            self.calls.append(model.name)

    def __enter__(self) -> DynamoRequests:
        dynamo.client().meta.events.register("before-call.dynamodb", self)
        return self

    def __exit__(self, *_exc) -> None:
        dynamo.client().meta.events.unregister("before-call.dynamodb", self)


def test_stripe_payment_settles_commission_and_revenue_once(payments):
    # Given a click by a promoter on a 10 % task
    seeded = payments.seed_click(rules=[{"promoter_tag": "standard", "type": "percent", "value": 1000}])
    event = stripe_checkout_event("pi_first", 9999, click_id=seeded.click_id)
    # When Stripe delivers the payment
    response = payments.stripe(event)
    # Then it is settled: 1000 (round-half-even of 999.9) to the promoter, the rest to the merchant
    assert response.status == 200
    assert response.json() == {"received": True, "outcome": "settled"}
    assert payments.balances() == {
        (seeded.promoter_id, "CNY"): 1000,
        (seeded.merchant_id, "CNY"): 8999,
        (PAYMENT_CLEARING, "CNY"): -9999,
    }
    assert len(payments.entries()) == 3
    payments.assert_ledger_consistent()
    # And the rewardable event, the grant record and the counters were written
    event_item = payments.item("ledger", keys.rewardable_event("sale_commission:stripe:pi_first"))
    assert event_item["amount_minor"] == 1000 and event_item["user_id"] == seeded.promoter_id
    assert event_item["gsi1pk"].startswith("EVENTS#")
    assert payments.item("ledger", keys.grant("sale_commission:stripe:pi_first"))
    payments.stack.drain_streams()  # the counters are the ledger stream's
    history = payments.item("tracking", keys.promoter_task_history(seeded.promoter_id, seeded.product_id))
    assert history["transactions"] == 1
    # (no per-promoter channel counter is kept: the channel's count rides on the promoter's per-day aggregate)
    today = clock.iso()[:10]
    day = payments.item("tracking", keys.day_promoter(seeded.product_id, today, seeded.promoter_id))
    assert day[keys.day_channel_attribute("transactions", "wechat")] == 1
    # When Stripe delivers it again
    again = payments.stripe(event)
    # Then it is acknowledged as a duplicate and nothing more moves
    assert again.json()["outcome"] == "duplicate"
    assert len(payments.entries()) == 3
    payments.stack.drain_streams()
    assert (
        payments.item("tracking", keys.promoter_task_history(seeded.promoter_id, seeded.product_id))["transactions"]
        == 1
    )


def test_best_paying_rule_among_the_promoters_tags_applies(payments):
    # Given a promoter tagged standard and gold, and a task paying gold more on this amount
    seeded = payments.seed_click(
        tags=["standard", "gold"],
        rules=[
            {"promoter_tag": "standard", "type": "percent", "value": 500},
            {"promoter_tag": "gold", "type": "fixed", "value": 800},
            {"promoter_tag": "vip", "type": "percent", "value": 9000},
        ],
    )
    # When a 100.00 payment arrives through client_reference_id
    payments.stripe(stripe_checkout_event("pi_rule", 10000, click_id=seeded.click_id, via="client_reference_id"))
    # Then the fixed gold rule (800 > 500) pays the commission
    assert payments.balances()[(seeded.promoter_id, "CNY")] == 800


def test_first_delivery_costs_four_requests_and_a_duplicate_one(payments):
    seeded = payments.seed_click()
    event = stripe_checkout_event("pi_budget", 5000, click_id=seeded.click_id)
    payments.stripe(stripe_checkout_event("pi_warmup", 100, click_id=None))  # warm the SSM cache
    with DynamoRequests() as first:
        assert payments.stripe(event).json()["outcome"] == "settled"
    with DynamoRequests() as duplicate:
        assert payments.stripe(event).json()["outcome"] == "duplicate"
    assert first.calls == ["BatchGetItem", "BatchGetItem", "PutItem", "TransactWriteItems"]
    assert duplicate.calls == ["BatchGetItem"]
    with DynamoRequests() as refund:
        assert payments.stripe(stripe_refund_event("pi_budget", 1000, 5000)).json()["outcome"] == "refund_applied"
    with DynamoRequests() as unattributed:
        assert (
            payments.stripe(stripe_checkout_event("pi_nobody", 900, click_id="clk_x")).json()["outcome"]
            == "unattributed"
        )
    assert refund.calls == ["BatchGetItem", "TransactWriteItems"]
    assert unattributed.calls == ["BatchGetItem", "TransactWriteItems"]


def test_first_delivery_with_an_active_channel_task_costs_four_requests_and_writes_only_the_money(payments, api):
    # Given a promoter holding an active wechat channel task, and a wechat click
    template = api.post(
        "/admin/channel-task-templates",
        {
            "channel": "wechat",
            "duration_hours": 24,
            "target_transactions": 3,
            "bonus_minor": 5000,
            "currency": "CNY",
            "reminder_threshold_hours": 5,
        },
        as_user=api.admin,
    ).json()
    promoter = api.user("promoter")
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter).status == 201
    seeded = payments.seed_click(promoter_id=promoter.sub, channel="wechat")
    payments.stripe(stripe_checkout_event("pi_warmup", 100, click_id=None))  # warm the SSM cache
    # When the payment's first delivery arrives
    with DynamoRequests() as first:
        assert payments.stripe(stripe_checkout_event("pi_task", 5000, click_id=seeded.click_id)).status == 200
    # Then it costs 4 requests, none of them on the promoter's channel counter item
    assert first.calls == ["BatchGetItem", "BatchGetItem", "PutItem", "TransactWriteItems"]
    # And the settlement record carries what the ledger consumer needs, so it never reads again
    record = payments.item("ledger", keys.settlement("stripe", "pi_task"))
    assert {k: record[k] for k in ("promoter_id", "product_id", "channel", "category", "coupon", "click_id")} == {
        "promoter_id": promoter.sub,
        "product_id": seeded.product_id,
        "channel": "wechat",
        "category": "home",
        "coupon": False,
        "click_id": seeded.click_id,
    }
    assert record["paid_at"] >= record["occurred_at"]
    # And nothing derived was written in the request: the task's progress is the consumer's
    items = api.get("/promoter/channel-tasks", as_user=promoter).json()["items"]
    assert next(i for i in items if i["template_id"] == template["template_id"])["progress"]["transactions"] == 0


def test_unknown_click_is_recorded_unattributed_and_listed_for_admins(payments, api):
    # When a payment names a click that does not exist, and one names none at all
    assert (
        payments.stripe(stripe_checkout_event("pi_lost", 2500, click_id="clk_nosuchclick")).json()["outcome"]
        == "unattributed"
    )
    assert payments.stripe(stripe_checkout_event("pi_noclick", 700)).status == 200
    # Then no money moved, and an admin sees both with the reason
    assert payments.entries() == []
    listed = api.get("/admin/payments/unattributed", as_user=api.admin).json()
    assert {(i["payment_id"], i["reason"]) for i in listed["items"]} == {
        ("pi_lost", "unknown_click"),
        ("pi_noclick", "missing_click_id"),
    }
    # And a non-admin may not look
    assert api.get("/admin/payments/unattributed", as_user=api.user("promoter")).status == 403


def test_currency_mismatch_is_unattributed_and_flagged(payments):
    seeded = payments.seed_click(currency="CNY")
    payments.stripe(stripe_checkout_event("pi_usd", 1000, currency="usd", click_id=seeded.click_id))
    record = payments.settlements()[0]
    assert (record["status"], record["reason"], record["flagged"]) == ("unattributed", "currency_mismatch", True)
    assert payments.entries() == []


def test_partial_refunds_claw_back_proportionally_and_each_applies_once(payments):
    # Given a settled 99.99 payment at 10 % (commission 1000, merchant 8999)
    seeded = payments.seed_click()
    payments.stripe(stripe_checkout_event("pi_refund", 9999, click_id=seeded.click_id))
    # When 33.33 is refunded, delivered twice, then the rest
    first = stripe_refund_event("pi_refund", 3333, 9999)
    assert payments.stripe(first).json()["outcome"] == "refund_applied"
    assert payments.stripe(first).json()["outcome"] == "duplicate"
    assert payments.balances()[(seeded.promoter_id, "CNY")] == 1000 - 333
    assert payments.stripe(stripe_refund_event("pi_refund", 9999, 9999)).json()["outcome"] == "refund_applied"
    # Then everything is clawed back exactly, in balanced transactions
    balances = payments.balances()
    assert balances[(seeded.promoter_id, "CNY")] == 0
    assert balances[(seeded.merchant_id, "CNY")] == 0
    assert balances[(PAYMENT_CLEARING, "CNY")] == 0
    payments.assert_ledger_consistent()
    # And a stale, smaller cumulative refund arriving late changes nothing
    assert payments.stripe(stripe_refund_event("pi_refund", 3333, 9999)).json()["outcome"] == "duplicate"
    assert payments.balances() == balances


def test_refund_before_its_payment_is_kept_and_applied_on_settlement(payments):
    seeded = payments.seed_click()
    # When the refund overtakes its payment
    assert payments.stripe(stripe_refund_event("pi_early", 5000, 10000)).json()["outcome"] == "refund_pending"
    assert payments.entries() == []
    assert (
        payments.stripe(stripe_checkout_event("pi_early", 10000, click_id=seeded.click_id)).json()["outcome"]
        == "settled"
    )
    # Then the payment settles with half clawed back in the same transaction
    assert payments.balances()[(seeded.promoter_id, "CNY")] == 500
    assert payments.balances()[(seeded.merchant_id, "CNY")] == 4500
    assert payments.item("ledger", keys.pending_refund("stripe", "pi_early")) is None
    payments.assert_ledger_consistent()


def test_a_promoter_balance_may_go_negative_after_a_refund(payments):
    # Given two sales by one promoter in one currency... and a refund of the first
    seeded = payments.seed_click(rules=[{"promoter_tag": "standard", "type": "fixed", "value": 300}])
    payments.stripe(stripe_checkout_event("pi_neg", 1000, click_id=seeded.click_id))
    # When a payout is represented by debiting the promoter (not part of this feature) and the refund arrives
    payments.stripe(stripe_refund_event("pi_neg", 1000, 1000))
    # Then the ledger nets to zero for the promoter and stays consistent
    assert payments.balances()[(seeded.promoter_id, "CNY")] == 0
    payments.assert_ledger_consistent()


def test_crash_after_the_ledger_transaction_redelivery_pays_nothing_more(payments, monkeypatch):
    # Given a Lambda that dies after the ledger transaction committed but before it answered
    seeded = payments.seed_click()
    event = stripe_checkout_event("pi_crash", 4000, click_id=seeded.click_id)
    real_handle = settlement.handle

    def handle_then_die(payment_event):
        real_handle(payment_event)
        raise RuntimeError("Lambda timed out before responding")

    monkeypatch.setattr(settlement, "handle", handle_then_die)
    died = payments.stripe(event)
    assert died.status == 500 and died.json()["error"]["code"] == "internal_error"
    monkeypatch.setattr(settlement, "handle", real_handle)
    paid = payments.balances()
    # When the provider redelivers
    response = payments.stripe(event)
    # Then it is 2xx and nothing more is paid
    assert response.status == 200 and response.json()["outcome"] == "duplicate"
    assert payments.balances() == paid
    assert len(payments.entries()) == 3


def test_fifty_concurrent_deliveries_settle_once(payments):
    # Given one signed event
    seeded = payments.seed_click()
    event = stripe_checkout_event("pi_storm", 12345, click_id=seeded.click_id)
    body = json.dumps(event).encode()
    from tests.helpers.payments import sign_stripe

    headers = {"Stripe-Signature": sign_stripe(body, payments.provider.stripe_webhook_secret)}
    payments.post("stripe", b"{}", {})  # load the handler module once, as a warm container
    # When 50 deliveries race through the local gateway
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: payments.post("stripe", body, headers), range(50)))
    # Then every delivery is 2xx, one settled, and the ledger holds one settlement and three entries
    assert [r.status for r in responses] == [200] * 50, {r.status: r.text for r in responses}
    outcomes = [r.json()["outcome"] for r in responses]
    assert outcomes.count("settled") == 1 and outcomes.count("duplicate") == 49
    assert len(payments.settlements()) == 1
    assert len(payments.entries()) == 3
    payments.assert_ledger_consistent()


@pytest.mark.slow  # fifty settlements in parallel threads: CI runs it in `make test-slow`
def test_fifty_racing_settlements_in_parallel_threads_pay_once(payments):
    # Given one payment event, delivered to 50 "containers" at once (the domain function in 50 threads,
    # so the DynamoDB requests of the deliveries interleave: the gateway runs one event at a time)
    from datetime import UTC, datetime

    from tuishou.logic import settlement
    from tuishou.providers import PaymentEvent

    seeded = payments.seed_click()
    event = PaymentEvent(
        provider="stripe",
        payment_id="pi_race",
        kind="paid",
        amount_minor=12345,
        currency="CNY",
        occurred_at=datetime.now(UTC),
        click_id=seeded.click_id,
    )
    # When they all settle at once
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(lambda _: str(settlement.handle(event)), range(50)))
    # Then exactly one settled: the conditional settlement record decided, not a read-before-write
    assert outcomes.count("settled") == 1, outcomes
    assert len(payments.settlements()) == 1
    assert len(payments.entries()) == 3
    payments.assert_ledger_consistent()


def test_unknown_provider_is_404_and_oversized_body_is_refused(payments):
    assert payments.post("paypal", b"{}", {}).status == 404
    big = payments.post("stripe", b"x" * (64 * 1024 + 1), {"Stripe-Signature": "t=1,v1=00"})
    assert big.status == 413
    assert payments.ledger_items() == []


def test_bad_signature_is_400_and_writes_nothing(payments):
    seeded = payments.seed_click()
    response = payments.stripe(
        stripe_checkout_event("pi_forged", 5000, click_id=seeded.click_id), secret="whsec_not_the_endpoint_secret"
    )
    assert response.status == 400
    assert response.json()["error"]["field"] == "Stripe-Signature"
    assert payments.ledger_items() == []


def test_unhandled_event_types_are_acknowledged_and_ignored(payments):
    event = {"id": "evt_other", "type": "customer.created", "created": 1, "data": {"object": {}}}
    assert payments.stripe(event).json()["outcome"] == "ignored"
    unpaid = stripe_checkout_event("pi_unpaid", 100, payment_status="unpaid")
    assert payments.stripe(unpaid).json()["outcome"] == "ignored"
    assert payments.ledger_items() == []


def test_grant_event_grants_a_rewardable_event_exactly_once(payments):
    # Given a rewardable event another feature (a channel bonus) wants paid
    from datetime import UTC, datetime

    from tuishou.logic.ledger import grant_event
    from tuishou.models.ledger import PROMOTION_EXPENSE, RewardableEvent

    event = RewardableEvent(
        "channel_bonus:p1:2024-05", "channel_bonus", "promoter-1", 1500, "CNY", datetime(2024, 5, 1, 12, tzinfo=UTC)
    )
    # When it is granted twice
    assert grant_event(event) is True
    assert grant_event(event) is False
    # Then the promoter is credited once from the promotion expense account, in a balanced transaction
    assert payments.balances() == {("promoter-1", "CNY"): 1500, (PROMOTION_EXPENSE, "CNY"): -1500}
    assert payments.item("ledger", keys.rewardable_event(event.event_id))["gsi1pk"] == "EVENTS#2024-05-01T12"
    payments.assert_ledger_consistent()


def test_sample_events_are_proxy_events_the_handler_reads(stack):
    # Given the events/ samples (signed with placeholder credentials, not this stack's)
    from tools.gateway import LambdaContext
    from tools.template import ROOT

    handler = stack.host.module("WebhookFunction").lambda_handler
    for name, expected_body in (
        ("webhook_stripe_checkout_completed.json", None),
        ("webhook_alipay_trade_success.json", "failure"),
    ):
        event = json.loads((ROOT / "events" / name).read_text())
        # When invoked as `sam local invoke -e` would, then verification refuses them cleanly: 400, nothing written
        result = handler(event, LambdaContext(function_name="WebhookFunction"))
        assert result["statusCode"] == 400, name
        if expected_body:
            assert result["body"] == expected_body
