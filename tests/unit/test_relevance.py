"""The relevance coefficient on category trees, the first category, and the job's pure rules
(window, period, suggested reward, conversion rate)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuishou.logic.insights import period_of, suggested_value, window_of
from tuishou.logic.product_stats import conversion
from tuishou.logic.relevance import as_decimal_text, coefficient, first_category

# A small category tree: beauty/{skincare/{serum,cream},makeup}, home/{kitchen,garden}, toys
TREE = [
    "beauty",
    "beauty/skincare",
    "beauty/skincare/serum",
    "beauty/skincare/cream",
    "beauty/makeup",
    "home",
    "home/kitchen",
    "home/garden",
    "toys",
]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("beauty/skincare", "beauty/skincare", Fraction(1)),
        ("beauty/skincare", "beauty/makeup", Fraction(1, 2)),
        ("beauty/skincare/serum", "beauty/skincare/cream", Fraction(2, 3)),
        ("beauty/skincare/serum", "beauty/makeup", Fraction(1, 3)),
        ("beauty", "beauty/skincare", Fraction(1, 2)),
        ("beauty", "beauty/skincare/serum", Fraction(1, 3)),
        ("beauty/skincare", "home/kitchen", Fraction(0)),
        ("toys", "home", Fraction(0)),
    ],
)
def test_coefficient_on_a_category_tree(a, b, expected):
    # Given two categories of the tree / When compared / Then shared prefix depth / max depth
    assert coefficient(a, b) == expected
    assert coefficient(b, a) == expected


categories = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4).map("/".join)


@given(categories, categories)
def test_coefficient_is_symmetric_bounded_and_one_iff_equal(a, b):
    value = coefficient(a, b)
    assert value == coefficient(b, a)
    assert 0 <= value <= 1
    assert (value == 1) == (a == b)


@given(st.sampled_from(TREE), st.sampled_from(TREE))
def test_coefficient_is_zero_exactly_for_different_roots(a, b):
    assert (coefficient(a, b) == 0) == (a.split("/")[0] != b.split("/")[0])


def test_first_category_is_the_most_sold_with_the_smallest_path_on_ties():
    assert first_category({"home/kitchen": 3, "beauty/skincare": 7}) == "beauty/skincare"
    # Given a tie / Then the lexicographically smallest path, whatever the order read
    assert first_category({"toys": 4, "home": 4, "beauty": 2}) == "home"
    assert first_category({"home": 4, "toys": 4}) == "home"
    assert first_category({}) is None
    assert first_category({"home": 0}) is None


@given(st.dictionaries(st.sampled_from(TREE), st.integers(min_value=0, max_value=5)))
def test_first_category_does_not_depend_on_order(counts):
    reordered = dict(reversed(list(counts.items())))
    assert first_category(counts) == first_category(reordered)


def test_decimal_text_rounds_half_even_without_floats():
    assert as_decimal_text(Fraction(1, 3)) == "0.3333"
    assert as_decimal_text(Fraction(2, 3)) == "0.6667"
    assert as_decimal_text(Fraction(1)) == "1.0000"
    assert as_decimal_text(Fraction(1, 20000)) == "0.0000"  # 0.00005 -> half-even down
    assert as_decimal_text(Fraction(3, 20000)) == "0.0002"  # 0.00015 -> half-even up


def test_conversion_rate_in_decimal_text_and_basis_points():
    assert conversion(1, 4) == ("0.2500", 2500)
    assert conversion(1, 3) == ("0.3333", 3333)
    assert conversion(0, 5) == ("0.0000", 0)
    assert conversion(3, 0) == (None, None)


def test_suggested_reward_is_plus_twenty_percent_rounded_half_up():
    assert suggested_value("percent", 1000, 2000) == 1200
    assert suggested_value("percent", 1234, 2000) == 1481  # 1480.8 -> 1481
    assert suggested_value("fixed", 250, 2000) == 300
    assert suggested_value("fixed", 2, 2000) == 3  # 2.4 rounds to 2, but a raise is at least one unit
    assert suggested_value("percent", 9000, 2000) == 10_000  # capped at 100 %
    assert suggested_value("percent", 10_000, 2000) is None  # nothing left to raise


def test_window_is_the_complete_days_before_the_run_and_periods_are_aligned_blocks():
    # Given a run on Wednesday 2030-01-09 with a 7-day window
    assert window_of(date(2030, 1, 9), 7) == ("2030-01-02", "2030-01-08")
    # Then 7-day periods are ISO weeks (start Monday) and every day of a week maps to its Monday
    assert {period_of(date(2030, 1, d), 7) for d in range(7, 14)} == {"2030-01-07"}
    assert period_of(date(2030, 1, 14), 7) == "2030-01-14"
    assert period_of(date(2030, 1, 9), 1) == "2030-01-09"
