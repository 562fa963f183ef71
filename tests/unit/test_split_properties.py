"""Properties of the commission split and of refund clawbacks (Hypothesis)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from tuishou.dal.payments import SettlementTerms
from tuishou.logic.settlement import clawback_for
from tuishou.money import split_payment

amounts = st.integers(min_value=0, max_value=10**12)
percent_rules = st.tuples(st.just("percent"), st.integers(min_value=1, max_value=10_000))
fixed_rules = st.tuples(st.just("fixed"), st.integers(min_value=1, max_value=10**10))


@given(amount=amounts, rule=st.one_of(percent_rules, fixed_rules), fee_bps=st.integers(min_value=0, max_value=3000))
def test_parts_sum_to_the_amount_each_within_one_minor_unit_and_deterministic(amount, rule, fee_bps):
    rule_type, value = rule
    split = split_payment(amount, rule_type, value, fee_bps)
    # The parts always sum exactly and are never negative
    assert split.commission_minor + split.platform_fee_minor + split.merchant_minor == amount
    assert min(split.commission_minor, split.platform_fee_minor, split.merchant_minor) >= 0
    # Each part is within one minor unit of its exact share
    exact_commission = Fraction(amount * value, 10_000) if rule_type == "percent" else Fraction(min(value, amount))
    exact_fee = min(Fraction(amount * fee_bps, 10_000), amount - exact_commission)
    assert abs(split.commission_minor - exact_commission) <= 1
    assert abs(split.platform_fee_minor - exact_fee) <= 1
    if rule_type == "fixed" or value + fee_bps <= 10_000:  # otherwise two roundings can stack on the remainder
        assert abs(split.merchant_minor - (amount - exact_commission - exact_fee)) <= 1
    # And it is deterministic
    assert split_payment(amount, rule_type, value, fee_bps) == split


@given(
    amount=st.integers(min_value=1, max_value=10**9),
    bps=st.integers(min_value=1, max_value=10_000),
    fee_bps=st.integers(min_value=0, max_value=2000),
    data=st.data(),
)
def test_successive_partial_refunds_never_claw_back_more_than_was_paid(amount, bps, fee_bps, data):
    # Given a settled payment
    split = split_payment(amount, "percent", bps, fee_bps)
    settlement = SettlementTerms(
        provider="stripe",
        payment_id="pi_1",
        currency="CNY",
        amount_minor=amount,
        commission_minor=split.commission_minor,
        platform_fee_minor=split.platform_fee_minor,
    )
    # When any increasing sequence of cumulative refunds arrives, ending (maybe) with the full amount
    totals = sorted(data.draw(st.lists(st.integers(min_value=1, max_value=amount), max_size=6)))
    previous = clawback_for(settlement, 0)
    for total in [*totals, amount]:
        claw = clawback_for(settlement, total)
        # Then each step takes back a non-negative share, and the parts of the refund sum to it exactly
        assert claw.commission_minor >= previous.commission_minor
        assert claw.fee_minor >= previous.fee_minor
        assert claw.commission_minor + claw.fee_minor + claw.merchant_minor == total
        assert claw.commission_minor <= split.commission_minor and claw.fee_minor <= split.platform_fee_minor
        previous = claw
    # And a full refund takes back exactly what the sale paid
    assert (previous.commission_minor, previous.fee_minor, previous.merchant_minor) == (
        split.commission_minor,
        split.platform_fee_minor,
        split.merchant_minor,
    )
