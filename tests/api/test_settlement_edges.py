"""Money edges of settlement: a commission that rounds to zero, and refunds of sales whose money was never
posted (the grant was dropped by a fault, or held by the scan's legitimacy checks)."""

from __future__ import annotations

import pytest

from tests.helpers.payments import stripe_checkout_event, stripe_refund_event
from tuishou.dal import keys
from tuishou.logic.ledger import audit_ledger
from tuishou.models.ledger import COMMISSIONS_UNDER_REVIEW, PAYMENT_CLEARING

ONE_BASIS_POINT = [{"promoter_tag": "standard", "type": "percent", "value": 1}]


def _assert_audit_clean() -> None:
    report = audit_ledger()
    assert report.ok, report.violations


# ---------------------------------------------------------------- zero commission
@pytest.mark.parametrize(
    ("rules", "amount"),
    [(ONE_BASIS_POINT, 4999), ([{"promoter_tag": "standard", "type": "percent", "value": 1000}], 4)],
)
def test_a_commission_that_rounds_to_zero_settles_and_pays_the_merchant_everything(payments, rules, amount):
    # Given a click on a task whose commission on this amount rounds to 0
    seeded = payments.seed_click(rules=rules)
    # When the provider delivers the payment
    response = payments.stripe(stripe_checkout_event("pi_zero", amount, click_id=seeded.click_id))
    # Then it is settled (2xx, no retry), the merchant gets the whole amount and the promoter no entry at all
    assert response.status == 200, response.text
    assert response.json()["outcome"] == "settled"
    assert payments.balances() == {(seeded.merchant_id, "CNY"): amount, (PAYMENT_CLEARING, "CNY"): -amount}
    assert all(e["amount_minor"] != 0 for e in payments.entries())
    assert payments.settlements()[0]["commission_minor"] == 0
    _assert_audit_clean()


def test_a_zero_commission_sale_does_not_break_the_scan_of_its_hour(api, stack, payments, compensation_kit):
    # Given a zero-commission sale whose grant was dropped, and an honest sale in the same hour, also dropped
    compensation_kit.faults('{"grant.skip": 2}')
    zero = payments.seed_click(rules=ONE_BASIS_POINT)
    payments.stripe(stripe_checkout_event("pi_zero_dropped", 4999, click_id=zero.click_id))
    honest = compensation_kit.sell()
    # When a fault window over that hour is scanned
    summary = compensation_kit.scan(api)
    # Then the scan finishes: the merchant's revenue and the honest commission are posted, nobody is told
    # about a zero credit
    assert (summary["status"], summary["errors"], summary["compensated"]) == ("done", 0, 2)
    assert compensation_kit.balance(zero.merchant_id) == 4999
    assert compensation_kit.balance(zero.promoter_id) == 0
    assert compensation_kit.balance(honest.seeded.promoter_id) == 1230
    told = {n["recipient"] for n in stack.notifications() if n["kind"] == "compensation"}
    assert told == {honest.seeded.promoter_id}
    _assert_audit_clean()


# ---------------------------------------------------------------- refunds of money never posted
def test_a_full_refund_of_a_dropped_grant_posts_nothing_and_the_scan_grants_nothing(api, payments, compensation_kit):
    # Given a sale whose grant the fault switch dropped
    compensation_kit.faults('{"grant.skip": 1}')
    sale = compensation_kit.sell(amount_minor=9900)
    # When the buyer is refunded in full
    response = payments.stripe(stripe_refund_event(sale.payment_id, 9900, 9900))
    # Then nothing is clawed back from anybody: no account goes negative, clearing holds nothing
    assert response.status == 200, response.text
    assert payments.balances().get((sale.seeded.promoter_id, "CNY"), 0) == 0
    assert payments.balances().get((sale.seeded.merchant_id, "CNY"), 0) == 0
    assert payments.balances().get((PAYMENT_CLEARING, "CNY"), 0) == 0
    # And the event is marked refunded, so a scan of the window grants nothing for it
    assert payments.item("ledger", keys.rewardable_event(sale.event_id))["refunded_minor"] == 9900
    summary = compensation_kit.scan(api)
    assert (summary["status"], summary["compensated"], summary["errors"]) == ("done", 0, 0)
    assert not payments.entries()
    _assert_audit_clean()


def test_a_partial_refund_of_a_dropped_grant_is_netted_when_the_scan_grants(api, payments, compensation_kit):
    # Given a dropped grant on a 99.00 sale (10 %: 990 commission) and a refund of 33.00 before any scan
    compensation_kit.faults('{"grant.skip": 1}')
    sale = compensation_kit.sell(amount_minor=9900)
    assert payments.stripe(stripe_refund_event(sale.payment_id, 3300, 9900)).status == 200
    assert not payments.entries()
    # When the scan grants the sale
    summary = compensation_kit.scan(api)
    # Then exactly what was not refunded is posted: 660 commission, 5940 revenue, 6600 from clearing
    assert summary["compensated"] == 1
    assert compensation_kit.balance(sale.seeded.promoter_id) == 660
    assert compensation_kit.balance(sale.seeded.merchant_id) == 5940
    assert compensation_kit.balance(PAYMENT_CLEARING) == -6600
    # And the rest of the refund claws back only the remainder
    assert payments.stripe(stripe_refund_event(sale.payment_id, 9900, 9900)).status == 200
    assert payments.balances() == {
        (sale.seeded.promoter_id, "CNY"): 0,
        (sale.seeded.merchant_id, "CNY"): 0,
        (PAYMENT_CLEARING, "CNY"): 0,
    }
    _assert_audit_clean()


def test_a_refund_of_a_sale_the_scan_held_claws_the_commission_back_from_review(api, payments, compensation_kit):
    # Given a self-purchase whose grant was dropped and which the scan then held: the merchant's share
    # posted, the commission in the suspense account under review
    cheat = payments.seed_click()
    compensation_kit.set_profile_email(cheat.promoter_id, "cheat@example.com")
    compensation_kit.faults('{"grant.skip": 1}')
    sale = compensation_kit.sell(cheat, amount_minor=9900, payer="cheat@example.com")
    assert compensation_kit.scan(api)["flagged"] == 1
    assert compensation_kit.balance(COMMISSIONS_UNDER_REVIEW) == 990
    assert compensation_kit.balance(cheat.promoter_id) == 0
    # When the sale is refunded in full
    assert payments.stripe(stripe_refund_event(sale.payment_id, 9900, 9900)).status == 200
    # Then everything is taken back from where it lies, the promoter never had anything
    assert set(payments.balances().values()) == {0}
    _assert_audit_clean()


def test_a_refund_before_a_payment_whose_grant_is_dropped_posts_nothing(payments, compensation_kit):
    # Given a full refund that overtook its payment, and the payment's grant is dropped
    seeded = payments.seed_click()
    assert payments.stripe(stripe_refund_event("pi_overtaken", 9900, 9900)).status == 200
    compensation_kit.faults('{"grant.skip": 1}')
    # When the payment arrives
    assert payments.stripe(stripe_checkout_event("pi_overtaken", 9900, click_id=seeded.click_id)).status == 200
    # Then the refund is recorded on the event and nothing is posted
    assert not payments.entries()
    event = payments.item("ledger", keys.rewardable_event("sale_commission:stripe:pi_overtaken"))
    assert event["refunded_minor"] == 9900
    _assert_audit_clean()
