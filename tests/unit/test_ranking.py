"""Ranking math, rule selection and link helpers: pure functions, no AWS."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuishou.config import ConfigurationError
from tuishou.logic import ranking
from tuishou.logic.links import click_channel, with_click_id
from tuishou.logic.rewards import applicable_rule

W = ranking.Weights(Decimal("0.7"), Decimal("0.3"), Decimal("0.5"))


def test_activity_score_is_weighted_transactions_and_promotions_in_micros():
    # g = 0.7 * 2 + 0.3 * 1 = 1.7; clicks do not count
    assert ranking.activity_score_micros({"transactions": 2, "promotions": 1, "clicks": 99}, W) == 1_700_000
    assert ranking.activity_score_micros({}, W) == 0


def test_combined_score_normalises_over_the_candidate_set():
    # c = 0.5 * 1.5/1.7 + 0.5 * 0.6/0.7 = 0.869747899... -> 0.869748
    assert ranking.combined_score_micros(1_500_000, 1_700_000, 600_000, 700_000, W) == 869_748
    # A zero maximum contributes nothing instead of dividing by zero
    assert ranking.combined_score_micros(0, 0, 700_000, 700_000, W) == 500_000


def test_rank_orders_the_three_sorts_against_hand_computed_scores():
    candidates = [
        ranking.Candidate("prd_0000000000000000000a", 1000, 1_700_000, 0),
        ranking.Candidate("prd_0000000000000000000b", 2000, 1_500_000, 600_000),
        ranking.Candidate("prd_0000000000000000000c", 3000, 700_000, 700_000),
    ]
    names = lambda ranked: [(c.product_id[-1], score) for _, score, c in ranked]  # noqa: E731
    assert names(ranking.rank(candidates, "global", W)) == [("a", 1_700_000), ("b", 1_500_000), ("c", 700_000)]
    assert names(ranking.rank(candidates, "personal", W)) == [("c", 700_000), ("b", 600_000), ("a", 0)]
    assert names(ranking.rank(candidates, "combined", W)) == [("b", 869_748), ("c", 705_882), ("a", 500_000)]


def test_ties_break_by_higher_commission_then_product_id():
    candidates = [
        ranking.Candidate("prd_0000000000000000000b", 100, 5, 0),
        ranking.Candidate("prd_0000000000000000000a", 100, 5, 0),
        ranking.Candidate("prd_0000000000000000000c", 900, 5, 0),
    ]
    assert [c.product_id[-1] for _, _, c in ranking.rank(candidates, "global", W)] == ["c", "a", "b"]


@given(
    st.lists(
        st.tuples(st.integers(0, 10**15), st.integers(0, 10**12), st.sampled_from("abcdef")), min_size=2, max_size=20
    )
)
def test_sort_key_order_is_score_desc_commission_desc_id_asc(entries):
    ids = [f"prd_{'0' * 19}{letter}" for _, _, letter in entries]
    by_key = sorted(zip(entries, ids, strict=True), key=lambda e: ranking.sort_key(e[0][0], e[0][1], e[1]))
    by_tuple = sorted(zip(entries, ids, strict=True), key=lambda e: (-e[0][0], -e[0][1], e[1]))
    keys_of = lambda ordered: [ranking.sort_key(e[0], e[1], i) for e, i in ordered]  # noqa: E731
    assert keys_of(by_key) == keys_of(by_tuple)
    assert all(ranking.is_sort_key(ranking.sort_key(s, c, i)) for (s, c, _), i in zip(entries, ids, strict=True))


def test_weights_come_from_configuration(monkeypatch):
    monkeypatch.setenv("TUISHOU_RANK_W_TX", "1")
    monkeypatch.setenv("TUISHOU_RANK_W_PROMO", "0")
    monkeypatch.setenv("TUISHOU_RANK_LAMBDA", "0.25")
    assert ranking.weights() == ranking.Weights(Decimal(1), Decimal(0), Decimal("0.25"))
    monkeypatch.setenv("TUISHOU_RANK_LAMBDA", "2")
    with pytest.raises(ConfigurationError):
        ranking.weights()


def test_default_weights(monkeypatch):
    for name in ranking.DEFAULT_WEIGHTS:
        monkeypatch.delenv(name, raising=False)
    assert ranking.weights() == W


RULES = [
    {"promoter_tag": "standard", "type": "percent", "value": 1000},
    {"promoter_tag": "gold", "type": "fixed", "value": 1500},
    {"promoter_tag": "vip", "type": "percent", "value": 1500},
]


def test_applicable_rule_picks_the_best_paying_rule_of_the_promoters_tags():
    assert applicable_rule(RULES, ["standard"], 10_000).rule.promoter_tag == "standard"
    best = applicable_rule(RULES, ["standard", "gold"], 10_000)
    assert (best.rule.promoter_tag, best.commission_minor) == ("gold", 1500)
    # At a higher price the percentage pays more than the fixed amount
    assert applicable_rule(RULES, ["standard", "gold"], 100_000).rule.promoter_tag == "standard"
    # Equal pay: the alphabetically first tag, whatever the rule order
    assert applicable_rule(RULES, ["gold", "vip"], 10_000).rule.promoter_tag == "gold"
    assert applicable_rule(list(reversed(RULES)), ["gold", "vip"], 10_000).rule.promoter_tag == "gold"


def test_no_rule_for_the_tags_means_not_a_task():
    assert applicable_rule(RULES, ["platinum"], 10_000) is None
    assert applicable_rule([], ["standard"], 10_000) is None


def test_commission_is_round_half_even_and_fixed_is_capped_by_the_price():
    assert applicable_rule([{"promoter_tag": "a", "type": "percent", "value": 1}], ["a"], 5_000).commission_minor == 0
    assert applicable_rule([{"promoter_tag": "a", "type": "percent", "value": 1}], ["a"], 15_000).commission_minor == 2
    assert applicable_rule([{"promoter_tag": "a", "type": "fixed", "value": 900}], ["a"], 500).commission_minor == 500


def test_a_sale_adds_to_a_product_shard_its_task_history_its_day_aggregate_and_category():
    from tuishou.dal import keys
    from tuishou.dal.counters import Addition, event_additions

    at = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
    # When a sale of a categorised product on qq is counted
    additions = event_additions(
        "u1", "prd_1", "qq", "transactions", at, aggregate_expires_at=7, shard=3, revenue_minor=900, category="toys"
    )
    # Then it adds to one product shard, the task history, one day aggregate (with the channel's counts) and
    # the promoter's category count
    sale_counts = {"transactions": 1, "revenue_minor": 900, "transactions@qq": 1, "revenue_minor@qq": 900}
    assert additions == [
        Addition("catalog", keys.product_counters("prd_1", 3), {"transactions": 1}),
        Addition("tracking", keys.promoter_task_history("u1", "prd_1"), {"transactions": 1}),
        Addition("tracking", keys.day_promoter("prd_1", "2030-03-01", "u1"), sale_counts, 7),
        Addition("tracking", keys.promoter_categories("u1"), {"cat#toys": 1}),
    ]
    # And a click skips the task history (no score reads it)
    click = event_additions("u1", "prd_1", "qq", "clicks", at, aggregate_expires_at=7, shard=0)
    assert [a.key for a in click] == [keys.product_counters("prd_1", 0), keys.day_promoter("prd_1", "2030-03-01", "u1")]
    with pytest.raises(ValueError):
        event_additions("u1", "prd_1", "qq", "refunds", at, aggregate_expires_at=7, shard=0)  # type: ignore[arg-type]


def test_click_id_is_appended_to_the_landing_url():
    assert with_click_id("https://a.example/p", "clk_1") == "https://a.example/p?tsclid=clk_1"
    assert with_click_id("https://a.example/p?x=1#top", "clk_1") == "https://a.example/p?x=1&tsclid=clk_1#top"


def test_click_channel():
    assert click_channel([]) == "direct"
    assert click_channel([""]) == "direct"
    assert click_channel(["douyin"]) == "douyin"
    assert click_channel(["<script>"]) == "other"
    assert click_channel(["<script>", "qq", "wechat"]) == "qq"
