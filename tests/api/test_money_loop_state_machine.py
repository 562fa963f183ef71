"""A stateful model of the whole money loop: sales settled (and delivered again), refunded before and after
their release, holds released, payouts requested by a promoter (Alipay) and a merchant (Stripe) and sent
through the real adapters to the local emulators, which succeed, refuse for good or time out after making
the transfer; queue messages retried and duplicated. After every step:

- the ledger audit holds: every transaction balances, every balance (and each of its lifecycle states)
  equals the sum of its entries, nothing is posted twice, no refund exceeds its sale;
- for each user, ``pending + available + in_payout + paid`` is the sum of their entries;
- no payout is transferred twice (the emulators count transfers per ``out_biz_no`` / idempotency key), and
  the money that left (the emulators' transfers) is what the ledger calls paid, plus at most what is still
  in payout (a transfer whose answer was lost);
- each user's earnings are exactly the model's: commissions and revenue minus the clawback of the largest
  refund delivered."""

from __future__ import annotations

import contextlib
import json
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.helpers.payments import PaymentsKit
from tests.helpers.payouts import ALIPAY, STRIPE, deliver
from tools import resources
from tuishou import clock
from tuishou.dal import dynamo
from tuishou.dal import ledger as ledger_dal
from tuishou.errors import Conflict, Unprocessable
from tuishou.logic import faults, holds, payouts, settlement
from tuishou.logic.ledger import audit_ledger
from tuishou.models.payouts import PayoutMethodUpdate, PayoutRequest
from tuishou.money import split_payment
from tuishou.providers import PaymentEvent

PAYMENTS = 3
AMOUNTS = (20000, 9999, 123457)
RATE_BPS = 1250  # commission 12.5 %


class MoneyLoopMachine(RuleBasedStateMachine):
    stack: Any = None

    @initialize()
    def setup(self) -> None:
        dynamo.reset()
        resources.clear_tables(self.stack.physical)
        clock.set_offset(timedelta(0))
        self.kit = PaymentsKit(self.stack)
        self.promoter, self.merchant = str(uuid.uuid4()), str(uuid.uuid4())
        payouts.set_method(self.promoter, "promoter", PayoutMethodUpdate.model_validate(ALIPAY))
        payouts.set_method(self.merchant, "merchant", PayoutMethodUpdate.model_validate(STRIPE))
        self.payments = []
        for amount in AMOUNTS:
            seeded = self.kit.seed_click(
                promoter_id=self.promoter,
                merchant_id=self.merchant,
                rules=[{"promoter_tag": "standard", "type": "percent", "value": RATE_BPS}],
                price_minor=amount,  # a plausible price: the integrity checks hold a sale far above it
            )
            self.payments.append({"id": f"pi_{uuid.uuid4().hex[:12]}", "amount": amount, "click": seeded.click_id})
        self.settled = [False] * PAYMENTS
        self.attributed = [False] * PAYMENTS  # paid within the click's window (30 days) when first delivered
        self.refunded = [0] * PAYMENTS  # the largest cumulative refund delivered
        self.payout_ids: set[str] = set()

    def teardown(self) -> None:
        clock.set_offset(timedelta(0))
        faults.clear_cache()

    # ------------------------------------------------------------------ payments
    def _event(self, index: int, kind: str, amount: int) -> PaymentEvent:
        payment = self.payments[index]
        return PaymentEvent(
            provider="stripe",
            payment_id=payment["id"],
            kind=kind,
            amount_minor=amount,
            currency="CNY",
            occurred_at=clock.now(),
            click_id=payment["click"],
        )

    @rule(index=st.integers(0, PAYMENTS - 1))
    def settle(self, index: int) -> None:
        if not self.settled[index]:
            # The clicks were made at setup: a first delivery 30 days or more later is past their window, and
            # the merchant is credited the whole payment (docs/integrity.md, "Attribution window").
            self.attributed[index] = clock.offset() < timedelta(days=30)
        settlement.handle(self._event(index, "paid", self.payments[index]["amount"]))
        self.settled[index] = True

    @precondition(lambda self: any(self.settled))
    @rule(data=st.data())
    def duplicate_callback(self, data: st.DataObject) -> None:
        index = data.draw(st.sampled_from([i for i, done in enumerate(self.settled) if done]))
        before = self.kit.balances()
        outcome = settlement.handle(self._event(index, "paid", self.payments[index]["amount"]))
        assert outcome == settlement.Outcome.DUPLICATE and self.kit.balances() == before

    @rule(index=st.integers(0, PAYMENTS - 1), share=st.fractions(0, 1))
    def refund(self, index: int, share: Any) -> None:
        total = max(1, int(self.payments[index]["amount"] * share))
        settlement.handle(self._event(index, "refunded", total))
        self.refunded[index] = max(self.refunded[index], total)

    # ------------------------------------------------------------------ time and holds
    @rule(days=st.sampled_from([1, 7, 15]))
    def time_passes_and_holds_are_released(self, days: int) -> None:
        clock.set_offset(clock.offset() + timedelta(days=days))
        holds.release_due(clock.now(), lookback_hours=24 * 20)

    # ------------------------------------------------------------------ payouts
    @rule(
        who=st.sampled_from(["promoter", "merchant"]),
        amount=st.one_of(st.none(), st.integers(1, 30000)),
        outcome=st.sampled_from(["succeed", "succeed", "fail", "timeout_then_succeed"]),
    )
    def request_payout(self, who: str, amount: int | None, outcome: str) -> None:
        fault = {"fail": faults.PAYOUT_FAIL, "timeout_then_succeed": faults.PAYOUT_TIMEOUT_THEN_SUCCEED}.get(outcome)
        self.stack.set_faults(json.dumps({fault: 1} if fault else {}))
        user = self.promoter if who == "promoter" else self.merchant
        try:
            accepted = payouts.request_payout(user, who, PayoutRequest(currency="CNY", amount_minor=amount))
        except (Conflict, Unprocessable):
            return  # below the minimum, above available, or one already open: refused, nothing written
        self.payout_ids.add(accepted.payout_id)
        deliver(self.stack)  # the stream queues it, the worker sends it (retrying an unknown outcome)

    @precondition(lambda self: bool(self.payout_ids))
    @rule(data=st.data())
    def duplicate_payout_message(self, data: st.DataObject) -> None:
        payout_id = data.draw(st.sampled_from(sorted(self.payout_ids)))
        for user in (self.promoter, self.merchant):
            with contextlib.suppress(payouts.RetryLater):  # not this user's, or in flight: nothing sent
                payouts.send(user, payout_id)

    @rule()
    def queues_retry(self) -> None:
        deliver(self.stack)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def the_ledger_keeps_its_invariants_and_no_payout_is_sent_twice(self) -> None:
        if not hasattr(self, "kit"):
            return
        report = audit_ledger()
        assert report.ok, report.violations
        transfers = [*_transfers(self.stack.alipay), *_transfers(self.stack.stripe)]
        mine = [t for t in transfers if t["key"] in self.payout_ids]
        assert all(t["count_sent"] <= 1 for t in mine), mine
        for user, emulator in ((self.promoter, self.stack.alipay), (self.merchant, self.stack.stripe)):
            balance = _balance(user)
            assert (
                balance["pending"] + balance["available"] + balance["in_payout"] + balance["paid"] == balance["total"]
            )
            left = sum(
                _minor(t["amount"]) for t in _transfers(emulator) if t["key"] in self.payout_ids and t["count_sent"]
            )
            assert balance["paid"] <= left <= balance["paid"] + balance["in_payout"], (user, balance, left)
            assert balance["total"] == self._earned(user)

    def _earned(self, user: str) -> int:
        total = 0
        for index, payment in enumerate(self.payments):
            if not self.settled[index]:
                continue
            if not self.attributed[index]:
                refunded = min(self.refunded[index], payment["amount"])
                total += payment["amount"] - refunded if user == self.merchant else 0
                continue
            split = split_payment(payment["amount"], "percent", RATE_BPS)
            terms = settlement.SettlementTerms(
                "stripe",
                payment["id"],
                "CNY",
                payment["amount"],
                split.commission_minor,
                0,
                self.promoter,
                self.merchant,
            )
            claw = settlement.clawback_for(terms, self.refunded[index])
            if user == self.promoter:
                total += split.commission_minor - claw.commission_minor
            else:
                total += split.merchant_minor - claw.merchant_minor
        return total


def _transfers(emulator: Any) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{emulator.url}/_emulator/transfers", timeout=5) as response:
        return list(json.loads(response.read())["items"])


def _minor(amount: str | int) -> int:
    """Alipay's yuan text ("12.50") or Stripe's integer minor units."""
    if isinstance(amount, int):
        return amount
    units, _, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


def _balance(user: str) -> dict[str, int]:
    found = {b.currency: b for b in ledger_dal.balances(user)}.get("CNY")
    if found is None:
        return {"pending": 0, "available": 0, "in_payout": 0, "paid": 0, "total": 0}
    return {
        "pending": found.pending_minor,
        "available": found.available_minor,
        "in_payout": found.in_payout_minor,
        "paid": found.paid_minor,
        "total": found.balance_minor,
    }


@pytest.mark.slow
def test_money_loop_state_machine(stack, monkeypatch):
    # The local queue redelivers at once (no 60 s lease to wait out); a late answer is a 0.3 s timeout.
    monkeypatch.setenv("TUISHOU_PAYOUT_SEND_LEASE_SECONDS", "0")
    monkeypatch.setenv("TUISHOU_PAYOUT_PROVIDER_TIMEOUT_SECONDS", "0.3")
    MoneyLoopMachine.stack = stack
    MoneyLoopMachine.TestCase.settings = settings(
        max_examples=10,
        stateful_step_count=16,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    try:
        MoneyLoopMachine.TestCase().runTest()
    finally:
        MoneyLoopMachine.stack = None
        clock.set_offset(timedelta(0))


def test_one_pass_through_the_money_loop(stack, monkeypatch):
    """The state machine's steps once, in order, in the quick suite: settle, refund during the hold, release,
    payout paid, refund after release (available goes negative), and a payout refused below zero."""
    monkeypatch.setenv("TUISHOU_PAYOUT_SEND_LEASE_SECONDS", "0")
    machine = MoneyLoopMachine()
    MoneyLoopMachine.stack = stack
    try:
        machine.setup()
        machine.settle(0)
        machine.the_ledger_keeps_its_invariants_and_no_payout_is_sent_twice()
        machine.refund(0, 0.25)
        machine.time_passes_and_holds_are_released(15)
        assert _balance(machine.promoter)["available"] == 2500 - 625
        machine.request_payout("promoter", None, "succeed")
        machine.the_ledger_keeps_its_invariants_and_no_payout_is_sent_twice()
        assert _balance(machine.promoter)["paid"] == 1875
        machine.refund(0, 1)
        assert _balance(machine.promoter)["available"] == -1875  # clawed back after it was paid out
        machine.request_payout("promoter", 1000, "succeed")  # refused: a negative balance blocks payouts
        machine.duplicate_payout_message(_Draw(sorted(machine.payout_ids)[0]))
        machine.the_ledger_keeps_its_invariants_and_no_payout_is_sent_twice()
        assert len(machine.payout_ids) == 1
    finally:
        machine.teardown()
        MoneyLoopMachine.stack = None


class _Draw:
    """A ``st.data()`` stand-in that draws the given value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def draw(self, _strategy: Any) -> Any:
        return self.value
