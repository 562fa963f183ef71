"""Alipay async notifications: RSA2 verification, app_id, amounts in exact minor units, parsing."""

from __future__ import annotations

from functools import cache

import pytest

from tests.helpers.payments import alipay_body, alipay_params
from tools.resources import generate_provider_secrets
from tuishou.providers import InvalidNotification
from tuishou.providers.alipay import parse

APP_ID = "2021000000000001"
NOW = 1_714_536_000


@cache
def keys() -> tuple[str, str, str]:
    """(private of Alipay, public of Alipay, private of an impostor)."""
    alipay, impostor = generate_provider_secrets(), generate_provider_secrets()
    return alipay.alipay_private_key_pem, alipay.alipay_public_key_pem, impostor.alipay_private_key_pem


def test_valid_notification_parses_to_a_paid_event_in_minor_units():
    private, public, _ = keys()
    body = alipay_body(alipay_params(APP_ID, "2024050122001", "99.01", "clk_abc"), private)
    event = parse(body, APP_ID, public, NOW)
    assert (event.provider, event.payment_id, event.kind, event.amount_minor, event.currency, event.click_id) == (
        "alipay",
        "2024050122001",
        "paid",
        9901,
        "CNY",
        "clk_abc",
    )
    assert event.payer_ids == ("2088102177846880",)


@pytest.mark.parametrize(
    "passback",
    [
        "tsclid%3Dclk_abc",  # as Alipay returns it: exactly as the merchant sent it, URL-encoded
        "tsclid=clk_abc",  # a checkout that did not encode it
        "clk_abc",  # the bare click id
        "tsclid%3Dclk_abc%26order%3D7",  # more pairs, encoded
    ],
)
def test_passback_params_is_read_encoded_or_not(passback):
    # Given a notification whose passback_params carries the click id in any of the shapes merchants send
    private, public, _ = keys()
    params = alipay_params(
        APP_ID, "2024050122002", "1.00", None, passback_params=passback, seller_id="2088000000000001"
    )
    # When it is parsed
    event = parse(alipay_body(params, private), APP_ID, public, NOW)
    # Then the click id is found, and the seller who was paid is named
    assert (event.click_id, event.seller_account) == ("clk_abc", "2088000000000001")


def test_tampered_amount_is_rejected():
    private, public, _ = keys()
    body = alipay_body(alipay_params(APP_ID, "T1", "1.00", "clk_abc"), private)
    with pytest.raises(InvalidNotification) as raised:
        parse(body.replace(b"total_amount=1.00", b"total_amount=1000.00"), APP_ID, public, NOW)
    assert raised.value.field == "sign"


def test_signature_by_another_key_is_rejected():
    _, public, impostor = keys()
    body = alipay_body(alipay_params(APP_ID, "T2", "1.00", "clk_abc"), impostor)
    with pytest.raises(InvalidNotification):
        parse(body, APP_ID, public, NOW)


def test_notification_for_another_app_is_rejected():
    private, public, _ = keys()
    body = alipay_body(alipay_params("2021999999999999", "T3", "1.00", "clk_abc"), private)
    with pytest.raises(InvalidNotification) as raised:
        parse(body, APP_ID, public, NOW)
    assert raised.value.field == "app_id"


def test_missing_signature_is_rejected():
    _, public, _ = keys()
    with pytest.raises(InvalidNotification):
        parse(b"app_id=2021000000000001&trade_no=T4&trade_status=TRADE_SUCCESS&total_amount=1.00", APP_ID, public, NOW)


def test_refund_notification_carries_the_cumulative_refund():
    private, public, _ = keys()
    params = alipay_params(
        APP_ID, "T5", "99.00", "clk_abc", refund_fee="10.50", out_biz_no="R1", gmt_refund="2024-05-02 10:00:00"
    )
    event = parse(alipay_body(params, private), APP_ID, public, NOW)
    assert (event.kind, event.amount_minor, event.refund_id) == ("refunded", 1050, "R1")


def test_amount_with_too_many_decimals_is_rejected_not_rounded():
    private, public, _ = keys()
    with pytest.raises(InvalidNotification) as raised:
        parse(alipay_body(alipay_params(APP_ID, "T6", "1.005", "clk_abc"), private), APP_ID, public, NOW)
    assert raised.value.field == "total_amount"


def test_waiting_for_payment_is_not_a_sale():
    private, public, _ = keys()
    body = alipay_body(alipay_params(APP_ID, "T7", "5.00", "clk_abc", trade_status="WAIT_BUYER_PAY"), private)
    assert parse(body, APP_ID, public, NOW) is None


def test_bare_base64_public_key_is_accepted():
    private, public, _ = keys()
    bare = "".join(line for line in public.splitlines() if "-----" not in line)
    assert parse(alipay_body(alipay_params(APP_ID, "T8", "5.00", "clk_abc"), private), APP_ID, bare, NOW)
