"""The payout provider adapters (``tuishou.dal.payout_providers``) against the local Alipay and Stripe
emulators (tools/alipay_emulator.py, tools/stripe_emulator.py), which ``make local`` and the test stack
start: one transfer per payout id whatever the repeats, a refusal for good is FAILED with the provider's
code, an answer that never came is UNKNOWN and the query by payout id then finds the transfer, only a
signed (Alipay) or authenticated (Stripe) exchange decides anything. Also the local clock route."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from tools.payout_emulation import TransferRecord
from tuishou import clock
from tuishou.dal.payout_providers import PayoutOrder, TransferResult, TransferStatus, query_transfer, send_transfer
from tuishou.logic import faults
from tuishou.providers import alipay

SUCCEEDED, FAILED, UNKNOWN = TransferStatus.SUCCEEDED, TransferStatus.FAILED, TransferStatus.UNKNOWN


def alipay_order(payout_id: str = "po_alipay_1", account: str = "payee@example.com", **changes: Any) -> PayoutOrder:
    fields: dict[str, Any] = {
        "payout_id": payout_id,
        "currency": "CNY",
        "amount_minor": 12345,
        "method_type": "alipay",
        "account": account,
        "real_name": "张三",
        "title": "Tuishou payout",
    }
    return PayoutOrder(**(fields | changes))


def stripe_order(payout_id: str = "po_stripe_1", account: str = "acct_1Payee", **changes: Any) -> PayoutOrder:
    fields: dict[str, Any] = {
        "payout_id": payout_id,
        "currency": "USD",
        "amount_minor": 2500,
        "method_type": "stripe",
        "account": account,
        "real_name": None,
        "title": "Tuishou payout",
    }
    return PayoutOrder(**(fields | changes))


def listed(emulator: Any) -> list[dict[str, Any]]:
    """What the emulator's ``GET /_emulator/transfers`` lists, over HTTP."""
    with urllib.request.urlopen(f"{emulator.url}/_emulator/transfers", timeout=5) as response:
        return list(json.loads(response.read())["items"])


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapters give up after 0.3 s; a late answer comes 0.5 s after that."""
    monkeypatch.setenv("TUISHOU_PAYOUT_PROVIDER_TIMEOUT_SECONDS", "0.3")


@pytest.mark.parametrize(("make_order", "reference_prefix"), [(alipay_order, "20"), (stripe_order, "tr_")])
def test_a_transfer_succeeds_once_and_a_repeat_gets_the_first_answer(stack, make_order, reference_prefix):
    # Given a payout to a valid account
    order = make_order()
    # When it is sent, sent again (a retry) and queried
    first, repeat, found = send_transfer(order), send_transfer(order), query_transfer(order)
    # Then it succeeded once: every answer names the same provider reference
    assert first.status == SUCCEEDED
    assert first.provider_reference and first.provider_reference.startswith(reference_prefix)
    assert repeat == first
    assert found == first
    emulator = stack.alipay if order.method_type == "alipay" else stack.stripe
    (record,) = listed(emulator)
    assert (record["key"], record["count_sent"], record["requests"]) == (order.payout_id, 1, 2)


def test_alipay_receives_yuan_with_two_decimals_and_the_payee_as_documented(stack):
    # When payouts go to a logon id with a name and to a user id
    send_transfer(alipay_order("po_a", amount_minor=100005))
    send_transfer(alipay_order("po_b", account="2088123412341234", real_name=None, amount_minor=10))
    # Then the amounts are yuan texts built from the integers and each payee has its identity type
    assert [(r["key"], r["amount"], r["payee"], r["status"]) for r in listed(stack.alipay)] == [
        ("po_a", "1000.05", "payee@example.com", "SUCCESS"),
        ("po_b", "0.10", "2088123412341234", "SUCCESS"),
    ]


def test_stripe_receives_the_transfer_as_documented(stack):
    # When a payout goes to a connected account
    result = send_transfer(stripe_order(amount_minor=2500, currency="JPY"))
    # Then Stripe holds a transfer in the currency's smallest unit, lowercase currency, grouped by payout id
    transfer = stack.stripe.get_transfer(result.provider_reference)[1]
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (2500, "jpy", "acct_1Payee")
    assert transfer["transfer_group"] == transfer["metadata"]["payout_id"] == "po_stripe_1"


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (alipay_order(account="not an account"), "PAYEE_NOT_EXIST"),
        (alipay_order(account="2088123"), "PAYEE_NOT_EXIST"),
        (alipay_order(real_name=None), "PAYEE_USER_INFO_ERROR"),
        (stripe_order(account="acct_bad-id"), "account_invalid"),
        (stripe_order(account="ba_123"), "account_invalid"),
    ],
)
def test_an_invalid_payee_is_a_permanent_failure_with_the_providers_code(stack, order, reason):
    # When a payout goes to an account the provider cannot pay
    result = send_transfer(order)
    # Then it failed for good with the provider's code, nothing was transferred, and a repeat says the same
    assert result == TransferResult(FAILED, reason=reason)
    assert send_transfer(order) == result
    emulator = stack.alipay if order.method_type == "alipay" else stack.stripe
    assert [r["count_sent"] for r in listed(emulator)] == [0]


def test_an_account_the_provider_does_not_know_fails(stack):
    # Given a well-formed Alipay account and Stripe account that do not exist at the providers
    stack.alipay.refuse_payee("gone@example.com")
    stack.stripe.refuse_account("acct_1Closed")
    # Then payouts to them fail with the providers' codes and transfer nothing
    assert send_transfer(alipay_order(account="gone@example.com")).reason == "PAYEE_NOT_EXIST"
    assert send_transfer(stripe_order(account="acct_1Closed")).reason == "account_invalid"
    assert [r["count_sent"] for r in listed(stack.alipay) + listed(stack.stripe)] == [0, 0]


def test_an_alipay_name_that_does_not_match_the_account_fails(stack):
    # Given Alipay knows the account under another name
    stack.alipay.mismatch_name("李四")
    # Then a payout naming 李四 fails; one naming the holder goes through
    assert send_transfer(alipay_order("po_1", real_name="李四")).reason == "PAYEE_USER_INFO_ERROR"
    assert send_transfer(alipay_order("po_2")).status == SUCCEEDED


@pytest.mark.parametrize("make_order", [alipay_order, stripe_order])
def test_the_fail_fault_refuses_the_next_transfer_for_good(stack, make_order):
    # Given the switch makes the provider refuse one transfer
    stack.set_faults(json.dumps({faults.PAYOUT_FAIL: 1}))
    # When two payouts are sent
    refused, paid = send_transfer(make_order("po_1")), send_transfer(make_order("po_2"))
    # Then the first failed as an unknown payee would, the second went through
    assert refused.status == FAILED
    assert refused.reason in {"PAYEE_NOT_EXIST", "account_invalid"}
    assert paid.status == SUCCEEDED
    emulator = stack.alipay if make_order is alipay_order else stack.stripe
    assert [(r["key"], r["count_sent"]) for r in listed(emulator)] == [("po_1", 0), ("po_2", 1)]


@pytest.mark.usefixtures("short_timeout")
@pytest.mark.parametrize("make_order", [alipay_order, stripe_order])
def test_a_timeout_is_unknown_and_the_query_finds_the_transfer(stack, make_order):
    # Given the provider makes the next transfer but answers after the caller's timeout
    stack.set_faults(json.dumps({faults.PAYOUT_TIMEOUT_THEN_SUCCEED: 1}))
    order = make_order()
    # When the payout is sent
    sent = send_transfer(order)
    # Then its outcome is unknown, and the query by payout id finds it paid
    assert sent.status == UNKNOWN
    assert sent.reason == "timed out"
    found = query_transfer(order)
    assert found is not None
    assert found.status == SUCCEEDED
    # And a retry after the query gets the first transfer, never a second
    assert send_transfer(order) == found
    emulator = stack.alipay if make_order is alipay_order else stack.stripe
    assert [r["count_sent"] for r in listed(emulator)] == [1]


@pytest.mark.parametrize("make_order", [alipay_order, stripe_order])
def test_a_payout_the_provider_never_saw_queries_as_none(stack, make_order):
    assert query_transfer(make_order("po_never_sent")) is None


def test_an_unreachable_provider_is_unknown(stack, monkeypatch):
    # Given nothing listens where the providers are configured
    monkeypatch.setenv("TUISHOU_ALIPAY_API_BASE", "http://127.0.0.1:9/gateway.do")
    monkeypatch.setenv("TUISHOU_STRIPE_API_BASE", "http://127.0.0.1:9")
    # Then sends and queries are unknown, never an exception
    for order in (alipay_order(), stripe_order()):
        assert send_transfer(order).status == UNKNOWN
        result = query_transfer(order)
        assert result is not None
        assert result.status == UNKNOWN


def test_the_alipay_emulator_rejects_a_request_with_a_bad_signature(stack):
    # Given a transfer request signed by a key Alipay does not know as the app's
    params = {
        "app_id": stack.provider.alipay_app_id,
        "method": "alipay.fund.trans.uni.transfer",
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2030-03-01 10:00:00",
        "version": "1.0",
        "biz_content": json.dumps(
            {
                "out_biz_no": "po_forged",
                "trans_amount": "1.00",
                "product_code": "TRANS_ACCOUNT_NO_PWD",
                "biz_scene": "DIRECT_TRANSFER",
                "payee_info": {"identity": "2088123412341234", "identity_type": "ALIPAY_USER_ID"},
            }
        ),
    }
    params["sign"] = alipay.rsa2_sign(
        alipay.signed_content(params, alipay.REQUEST_UNSIGNED), stack.provider.alipay_private_key_pem
    )
    # When it reaches the gateway
    request = urllib.request.Request(stack.alipay.gateway_url, data=urllib.parse.urlencode(params).encode())
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())
    # Then Alipay refuses it as an invalid signature and transfers nothing
    node = answer["alipay_fund_trans_uni_transfer_response"]
    assert (node["code"], node["sub_code"]) == ("40002", "isv.invalid-signature")
    assert listed(stack.alipay) == []


def test_the_stripe_emulator_rejects_another_key_and_a_reused_key_with_other_parameters(stack):
    base = stack.stripe.url + "/v1/transfers"
    form = urllib.parse.urlencode({"amount": "100", "currency": "usd", "destination": "acct_1A"}).encode()

    def post(body: bytes, secret: str, key: str) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": key}
        try:
            with urllib.request.urlopen(urllib.request.Request(base, data=body, headers=headers), timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    # When a request comes with a key that is not the platform's
    status, answer = post(form, "sk_test_someone_else", "k1")
    # Then it is unauthorised and nothing is transferred
    assert status == 401
    assert listed(stack.stripe) == []
    # When the right key makes a transfer, and the same idempotency key then asks for another amount
    assert post(form, stack.provider.stripe_secret_key, "k2")[0] == 200
    other = urllib.parse.urlencode({"amount": "999", "currency": "usd", "destination": "acct_1A"}).encode()
    status, answer = post(other, stack.provider.stripe_secret_key, "k2")
    # Then Stripe refuses the reuse, and one transfer exists
    assert (status, answer["error"]["type"]) == (400, "idempotency_error")
    assert [(r["key"], r["count_sent"], r["amount"]) for r in listed(stack.stripe)] == [("k2", 1, 100)]


def test_an_alipay_answer_whose_signature_does_not_verify_decides_nothing(stack, monkeypatch):
    # Given answers signed by a key that is not Alipay's (the app's own key stands in for a forger's)
    monkeypatch.setattr(stack.alipay, "alipay_private_key_pem", stack.provider.alipay_app_private_key_pem)
    # When a payout is sent
    result = send_transfer(alipay_order())
    # Then the adapter does not trust the answer: the outcome is unknown (the transfer was made)
    assert result == TransferResult(UNKNOWN, reason="alipay answer signature does not verify")
    assert [r["count_sent"] for r in listed(stack.alipay)] == [1]
    # And once the answers verify again, the query finds it
    monkeypatch.undo()
    found = query_transfer(alipay_order())
    assert found is not None
    assert found.status == SUCCEEDED


@pytest.mark.parametrize("make_order", [alipay_order, stripe_order])
def test_concurrent_sends_of_one_payout_make_one_transfer(stack, make_order):
    from concurrent.futures import ThreadPoolExecutor

    # When six workers send the same payout at once (a redelivered message racing the first)
    order = make_order()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: send_transfer(order), range(6)))
    # Then all got the one transfer's answer, and the provider made it once
    assert {r.status for r in results} == {SUCCEEDED}
    assert len({r.provider_reference for r in results}) == 1
    emulator = stack.alipay if make_order is alipay_order else stack.stripe
    assert [(r["count_sent"], r["requests"]) for r in listed(emulator)] == [(1, 6)]


@pytest.mark.usefixtures("short_timeout")
def test_no_key_is_ever_transferred_twice_across_repeats_and_faults(stack):
    # Given one refusal and one late answer armed, and payouts sent, retried and queried in every order
    stack.set_faults(json.dumps({faults.PAYOUT_FAIL: 1, faults.PAYOUT_TIMEOUT_THEN_SUCCEED: 1}))
    for n in range(4):
        for order in (alipay_order(f"po_a{n}"), stripe_order(f"po_s{n}")):
            send_transfer(order)
            query_transfer(order)
            send_transfer(order)
    # Then every key made at most one transfer
    records = listed(stack.alipay) + listed(stack.stripe)
    assert len(records) == 8
    assert all(r["count_sent"] <= 1 for r in records)
    assert sum(r["count_sent"] for r in records) == 7  # the one refusal transferred nothing


def test_the_emulators_records_list_what_the_listing_route_shows(stack):
    send_transfer(stripe_order())
    (record,) = stack.stripe.transfers.values()
    assert isinstance(record, TransferRecord)
    assert listed(stack.stripe) == [record.listing()]


# ---------------------------------------------------------------- local time travel
def test_the_local_clock_moves_what_handlers_see_and_reset_brings_it_back(api, stack):
    # When a person advances the local clock twice
    before = clock.now()
    first = api.post("/_local/clock", {"advance_hours": 48})
    second = api.post("/_local/clock", {"advance_hours": 1.5})
    # Then each answer tells the new time and the total offset, and clock.now() runs that far ahead
    assert (first.status, second.status) == (200, 200)
    assert first.json()["offset_hours"] == 48
    assert second.json()["offset_hours"] == 49.5
    moved = clock.parse_iso(second.json()["now"]) - before
    assert moved >= timedelta(hours=49.5) - timedelta(milliseconds=1)  # "now" is to the millisecond
    assert clock.offset() == timedelta(hours=49.5)
    # And a fresh stack runs on the real time again
    stack.reset()
    assert clock.offset() == timedelta(0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"advance_hours": 0},
        {"advance_hours": -1},
        {"advance_hours": 8761},
        {"advance_hours": "2"},
        {"advance_hours": True},
        [1],
    ],
)
def test_the_local_clock_refuses_what_is_not_a_step_forward(api, body):
    response = api.post("/_local/clock", body)
    assert response.status == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert clock.offset() == timedelta(0)


def test_the_stack_points_the_functions_at_the_emulators_and_describes_them(stack):
    import os

    described = stack.describe()
    assert os.environ["TUISHOU_ALIPAY_API_BASE"] == described["alipay_api_base"] == stack.alipay.gateway_url
    assert os.environ["TUISHOU_STRIPE_API_BASE"] == described["stripe_api_base"] == stack.stripe.url
    assert described["alipay_emulator_transfers"] == f"{stack.alipay.url}/_emulator/transfers"
    assert described["stripe_emulator_transfers"] == f"{stack.stripe.url}/_emulator/transfers"
