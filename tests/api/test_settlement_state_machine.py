"""A stateful model of payment delivery: deliveries, duplicates, reordering, refunds (also before the
payment) and crashes between the steps of a settlement. After every step: every transaction balances,
every balance equals the sum of its entries, each payment is settled at most once, and each promoter holds
exactly the commission minus the clawback of the largest refund delivered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.helpers.payments import PaymentsKit, assert_ledger_consistent
from tools import resources
from tuishou.dal import dynamo
from tuishou.dal import ledger as ledger_dal
from tuishou.logic import settlement
from tuishou.logic.ledger import audit_ledger
from tuishou.money import proportional_minor, split_payment
from tuishou.providers import PaymentEvent

PAYMENTS = 3


class Crash(Exception):
    """The Lambda died (timeout, OOM) at the injected point."""


def fresh_tables(stack) -> None:
    """Empty DynamoDB tables for each example (the rest of the stack is left as it is)."""
    dynamo.reset()
    resources.clear_tables(stack.physical)


class SettlementMachine(RuleBasedStateMachine):
    """Runs on the test's stack (``stack``); ``real_write`` is the ledger write the crashes wrap."""

    stack: Any = None
    real_write: Any = None

    @initialize()
    def setup(self) -> None:
        fresh_tables(self.stack)
        self.kit = PaymentsKit(self.stack)
        self.crash: str | None = None
        self.specs = []
        for index in range(PAYMENTS):
            amount = [9999, 100, 123457][index]
            seeded = self.kit.seed_click(
                rules=[{"promoter_tag": "standard", "type": "percent", "value": 1250}],
                price_minor=123457,  # every amount below is a plausible payment for it (docs/integrity.md)
            )
            self.specs.append(
                {
                    "payment_id": f"pi_{uuid.uuid4().hex[:12]}",
                    "amount": amount,
                    "seeded": seeded,
                    "commission": split_payment(amount, "percent", 1250).commission_minor,
                }
            )
        self.settled = [False] * PAYMENTS
        self.refunded = [0] * PAYMENTS  # the largest cumulative refund delivered (applied or pending)

        def write(items):
            if self.crash == "before":
                raise Crash("died before the ledger transaction")
            SettlementMachine.real_write(items)
            if self.crash == "after":
                raise Crash("died after the ledger transaction, before answering")

        ledger_dal.write = write

    def teardown(self) -> None:
        ledger_dal.write = SettlementMachine.real_write

    def _event(self, index: int, kind: str, amount: int) -> PaymentEvent:
        spec = self.specs[index]
        return PaymentEvent(
            provider="stripe",
            payment_id=spec["payment_id"],
            kind=kind,
            amount_minor=amount,
            currency="CNY",
            occurred_at=datetime.now(UTC),
            click_id=spec["seeded"].click_id,
        )

    def _deliver(self, event: PaymentEvent, crash: str | None) -> None:
        self.crash = crash
        try:
            settlement.handle(event)
            committed = True
        except Crash:
            committed = crash == "after"
        finally:
            self.crash = None
        index = next(i for i, s in enumerate(self.specs) if s["payment_id"] == event.payment_id)
        if committed and event.kind == "paid":
            self.settled[index] = True
        if committed and event.kind == "refunded":
            self.refunded[index] = max(self.refunded[index], event.amount_minor)

    @rule(index=st.integers(0, PAYMENTS - 1), crash=st.sampled_from([None, None, "before", "after"]))
    def deliver_payment(self, index, crash):
        self._deliver(self._event(index, "paid", self.specs[index]["amount"]), crash)

    @precondition(lambda self: any(self.settled))
    @rule(data=st.data())
    def duplicate_payment(self, data):
        index = data.draw(st.sampled_from([i for i, done in enumerate(self.settled) if done]))
        before = self.kit.balances()
        self._deliver(self._event(index, "paid", self.specs[index]["amount"]), None)
        assert self.kit.balances() == before

    @rule(
        index=st.integers(0, PAYMENTS - 1),
        share=st.fractions(0, 1),
        crash=st.sampled_from([None, None, "before", "after"]),
    )
    def refund(self, index, share, crash):
        # Cumulative amounts in any order: a smaller total after a larger one is a stale redelivery.
        amount = self.specs[index]["amount"]
        total = max(1, int(amount * share))
        self._deliver(self._event(index, "refunded", total), crash)

    @invariant()
    def ledger_balances_and_each_payment_settles_at_most_once(self):
        if not hasattr(self, "kit"):
            return
        items = self.kit.ledger_items()
        entries = [i for i in items if i["sk"].startswith("ENTRY#")]
        balances = {
            (i["account_id"], i["currency"]): int(i["balance_minor"]) for i in items if i["sk"].startswith("BALANCE#")
        }
        assert_ledger_consistent(entries, balances)
        report = audit_ledger()
        assert report.ok, report.violations
        settlements = [i for i in items if i["sk"] == "SETTLEMENT"]
        assert len(settlements) == sum(self.settled)
        sale_transactions = {e["transaction_id"] for e in entries if e["transaction_id"].startswith("sale:")}
        assert len(sale_transactions) == sum(self.settled)
        for index, spec in enumerate(self.specs):
            promoter = spec["seeded"].promoter_id
            expected = 0
            if self.settled[index]:
                clawed = proportional_minor(
                    min(self.refunded[index], spec["amount"]), spec["commission"], spec["amount"]
                )
                expected = spec["commission"] - clawed
            assert balances.get((promoter, "CNY"), 0) == expected


@pytest.mark.slow
def test_settlement_state_machine(stack):
    SettlementMachine.stack, SettlementMachine.real_write = stack, ledger_dal.write
    SettlementMachine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    try:
        SettlementMachine.TestCase().runTest()
    finally:
        ledger_dal.write = SettlementMachine.real_write
        SettlementMachine.stack = SettlementMachine.real_write = None
