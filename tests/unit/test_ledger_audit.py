"""The ledger audit over built entries (no table): any sale with any sequence of partial refunds passes;
a refund of a sale never posted, a drifting balance or a double posting is named."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tuishou import money
from tuishou.dal.ledger import money_records
from tuishou.dal.payments import SettlementTerms
from tuishou.logic import settlement
from tuishou.logic.ledger import SALE_COMMISSION, audit, money_transaction
from tuishou.models.ledger import LedgerTransaction, RewardableEvent

NOW = "2030-01-01T00:00:00.000Z"


def _sale(amount: int, rule_type: str, value: int, fee_bps: int) -> tuple[RewardableEvent, SettlementTerms]:
    split = money.split_payment(amount, rule_type, value, fee_bps)
    event = RewardableEvent(
        event_id="sale_commission:stripe:pi_1",
        kind=SALE_COMMISSION,
        user_id="promoter",
        amount_minor=split.commission_minor,
        currency="CNY",
        occurred_at=datetime(2030, 1, 1, tzinfo=UTC),
        details={
            "provider": "stripe",
            "payment_id": "pi_1",
            "merchant_id": "merchant",
            "amount_minor": amount,
            "merchant_minor": split.merchant_minor,
            "platform_fee_minor": split.platform_fee_minor,
        },
    )
    terms = SettlementTerms(
        provider="stripe",
        payment_id="pi_1",
        currency="CNY",
        amount_minor=amount,
        commission_minor=split.commission_minor,
        platform_fee_minor=split.platform_fee_minor,
        promoter_id="promoter",
        merchant_id="merchant",
    )
    return event, terms


def _refunds(terms: SettlementTerms, totals: list[int]) -> list[LedgerTransaction]:
    steps, before = [], settlement.Clawback(0, 0, 0, 0)
    for total in totals:
        after = settlement.clawback_for(terms, total)
        steps.append(settlement._refund_transaction(terms, before, after, NOW, "pending"))
        before = after
    return steps


def _items(*transactions: LedgerTransaction) -> list[dict[str, Any]]:
    """Entry items as the ledger writes them, and balance items that match them (with their state buckets)."""
    items, balances = [], defaultdict(lambda: defaultdict(int))
    for txn in transactions:
        for posting in txn.postings:
            items.append(
                {
                    "sk": "ENTRY#",
                    "account_id": posting.account_id,
                    "currency": txn.currency,
                    "amount_minor": posting.amount_minor,
                    "transaction_id": txn.transaction_id,
                    "reference": txn.reference,
                    "state": posting.state,
                }
            )
            balance = balances[(posting.account_id, txn.currency)]
            balance["balance_minor"] += posting.amount_minor
            if posting.state:
                balance[f"{posting.state}_minor"] += posting.amount_minor
    return items + [{"sk": f"BALANCE#{c}", "account_id": a, "currency": c, **b} for (a, c), b in balances.items()]


sales = st.tuples(
    st.integers(1, 10**7), st.sampled_from(["percent", "fixed"]), st.integers(0, 10_000), st.integers(0, 2_000)
)


@given(sale=sales, shares=st.lists(st.fractions(0, 1), max_size=5))
def test_a_posted_sale_with_any_partial_refunds_passes_the_audit(sale, shares):
    # Given a posted sale and a sequence of rising cumulative refunds
    event, terms = _sale(*sale)
    totals = sorted({max(1, int(sale[0] * share)) for share in shares})
    # When the audit reads their entries
    report = audit(money_records(_items(money_transaction(event, NOW), *_refunds(terms, totals))))
    # Then every rule holds
    assert report.ok, report.violations


@given(sale=sales, share=st.fractions(0, 1))
def test_a_refund_of_a_sale_never_posted_is_named(sale, share):
    # Given refund entries for a sale whose own entries were never posted
    _event, terms = _sale(*sale)
    report = audit(money_records(_items(*_refunds(terms, [max(1, int(sale[0] * share))]))))
    # Then the audit names every account it took from
    assert not report.ok
    assert {v.rule for v in report.violations} == {"refund_exceeds_posted"}


def test_a_drifting_balance_and_a_double_posting_are_named():
    # Given a sale whose entries were written twice, with the balances of one copy only
    event, _terms = _sale(9900, "percent", 1000, 0)
    sale = money_transaction(event, NOW)
    entries = [i for i in _items(sale) if i["sk"] == "ENTRY#"]
    report = audit(money_records([*entries, *_items(sale)]))
    # Then both rules name it, and the users' state buckets disagree with their entries too
    assert {v.rule for v in report.violations} == {"balance_mismatch", "state_mismatch", "posted_twice"}
    assert report.violation_count == 8
