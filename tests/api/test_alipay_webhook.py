"""POST /webhooks/alipay through the gateway: success only after a durable record; failure otherwise."""

from __future__ import annotations

from tests.helpers.payments import alipay_params
from tools.resources import generate_provider_secrets
from tuishou.models.ledger import PAYMENT_CLEARING


def test_trade_success_settles_and_trade_finished_after_it_is_a_duplicate(payments):
    # Given a click on a 10 % task priced in CNY
    seeded = payments.seed_click()
    # When Alipay notifies TRADE_SUCCESS for 99.00 yuan, then TRADE_FINISHED for the same trade
    first = payments.alipay_paid("2024050122001", "99.00", seeded.click_id)
    second = payments.alipay_paid("2024050122001", "99.00", seeded.click_id, trade_status="TRADE_FINISHED")
    # Then both are answered with the plain body success, and one sale is in the ledger
    assert (first.status, first.text, second.status, second.text) == (200, "success", 200, "success")
    assert first.headers["Content-Type"].startswith("text/plain")
    assert payments.balances() == {
        (seeded.promoter_id, "CNY"): 990,
        (seeded.merchant_id, "CNY"): 8910,
        (PAYMENT_CLEARING, "CNY"): -9900,
    }
    assert len(payments.entries()) == 3


def test_refund_fee_claws_back_commission(payments):
    seeded = payments.seed_click()
    payments.alipay_paid("T-refund", "100.00", seeded.click_id)
    response = payments.alipay_paid(
        "T-refund", "100.00", seeded.click_id, refund_fee="25.00", out_biz_no="R1", gmt_refund="2024-05-02 10:00:00"
    )
    assert response.text == "success"
    assert payments.balances()[(seeded.promoter_id, "CNY")] == 1000 - 250
    payments.assert_ledger_consistent()


def test_bad_signature_answers_failure_and_writes_nothing(payments):
    seeded = payments.seed_click()
    impostor = generate_provider_secrets().alipay_private_key_pem
    params = alipay_params(payments.provider.alipay_app_id, "T-forged", "99.00", seeded.click_id)
    response = payments.alipay(params, private_key_pem=impostor)
    assert (response.status, response.text) == (400, "failure")
    assert payments.ledger_items() == []


def test_wrong_app_id_answers_failure(payments):
    seeded = payments.seed_click()
    response = payments.alipay(alipay_params("2021999999999999", "T-app", "99.00", seeded.click_id))
    assert (response.status, response.text) == (400, "failure")
    assert payments.ledger_items() == []


def test_unknown_click_is_success_and_unattributed(payments):
    response = payments.alipay_paid("T-lost", "9.90", "clk_unknown")
    assert response.text == "success"
    assert payments.settlements()[0]["reason"] == "unknown_click"
