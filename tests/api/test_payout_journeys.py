"""Payouts end to end with the real provider adapters against the local Alipay and Stripe emulators: a
request paid once, a refusal for good returning the money, and a timeout whose transfer the retry finds by
querying (the emulators count transfers per payout id: never above one)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.helpers.payouts import ALIPAY, STRIPE, balance, deliver, make_available, payouts_of
from tuishou.logic import faults


@pytest.fixture(autouse=True)
def _retries_ask_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local queue redelivers a failed message at once (SQS after 180 s, past the 60 s lease); the
    adapters give up after 0.3 s so that a late answer is a timeout."""
    monkeypatch.setenv("TUISHOU_PAYOUT_SEND_LEASE_SECONDS", "0")
    monkeypatch.setenv("TUISHOU_PAYOUT_PROVIDER_TIMEOUT_SECONDS", "0.3")


def transfers(emulator: Any) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{emulator.url}/_emulator/transfers", timeout=5) as response:
        return list(json.loads(response.read())["items"])


@pytest.mark.parametrize(("role", "method", "currency"), [("promoter", ALIPAY, "CNY"), ("merchant", STRIPE, "USD")])
def test_a_payout_reaches_the_provider_once_and_is_paid(api, stack, role, method, currency):
    # Given a user with 50.00 available and a method
    user = api.user(role)
    assert api.put(f"/{role}/payout-method", method, as_user=user).status == 200
    make_available(user.sub, 5000, currency)
    # When they request a payout and the stack delivers it
    payout_id = api.post(f"/{role}/payouts", {"currency": currency}, as_user=user).json()["payout_id"]
    deliver(stack)
    # Then the provider made one transfer for it, and it is paid with the provider's reference
    emulator = stack.alipay if method is ALIPAY else stack.stripe
    [record] = transfers(emulator)
    assert (record["key"], record["count_sent"]) == (payout_id, 1)
    [payout] = payouts_of(api, user)
    assert payout["status"] == "paid" and payout["provider_reference"] == record["reference"]
    assert balance(user.sub, currency) == {"available": 0, "in_payout": 0, "paid": 5000, "total": 5000}
    # And the ledger keeps its invariants (every transaction balances, balances equal their entries)
    audit = api.get("/admin/ledger/audit", as_user=api.admin).json()
    assert audit["ok"], audit["violations"]


@pytest.mark.parametrize(
    ("method", "currency", "reason"), [(ALIPAY, "CNY", "PAYEE_NOT_EXIST"), (STRIPE, "USD", "account_invalid")]
)
def test_a_transfer_refused_for_good_fails_the_payout_and_returns_the_money(api, stack, method, currency, reason):
    # Given the provider refuses the next transfer for good
    promoter = api.user("promoter")
    api.put("/promoter/payout-method", method, as_user=promoter)
    make_available(promoter.sub, 5000, currency)
    stack.set_faults(json.dumps({faults.PAYOUT_FAIL: 1}))
    # When a payout is requested and delivered
    api.post("/promoter/payouts", {"currency": currency}, as_user=promoter)
    deliver(stack)
    # Then it failed with the provider's code, the money is available again and the promoter is told why
    [payout] = payouts_of(api, promoter)
    assert payout["status"] == "failed" and payout["failure_reason"] == reason
    assert balance(promoter.sub, currency) == {"available": 5000, "in_payout": 0, "paid": 0, "total": 5000}
    [notice] = api.get("/promoter/notifications", as_user=promoter).json()["items"]
    assert notice["kind"] == "payout_failed" and notice["data"]["reason"] == reason
    audit = api.get("/admin/ledger/audit", as_user=api.admin).json()
    assert audit["ok"], audit["violations"]


@pytest.mark.parametrize(("method", "currency"), [(ALIPAY, "CNY"), (STRIPE, "USD")])
def test_a_timed_out_transfer_is_found_by_the_query_and_never_sent_twice(api, stack, method, currency):
    # Given the provider makes the next transfer but answers after the caller's timeout
    promoter = api.user("promoter")
    api.put("/promoter/payout-method", method, as_user=promoter)
    make_available(promoter.sub, 5000, currency)
    stack.set_faults(json.dumps({faults.PAYOUT_TIMEOUT_THEN_SUCCEED: 1}))
    # When a payout is requested and delivered (the first attempt's outcome unknown, the message retried)
    payout_id = api.post("/promoter/payouts", {"currency": currency}, as_user=promoter).json()["payout_id"]
    deliver(stack)
    # Then the retry found the transfer by querying: one transfer, the payout paid
    emulator = stack.alipay if method is ALIPAY else stack.stripe
    assert [(r["key"], r["count_sent"]) for r in transfers(emulator)] == [(payout_id, 1)]
    assert payouts_of(api, promoter)[0]["status"] == "paid"
    assert balance(promoter.sub, currency)["paid"] == 5000
