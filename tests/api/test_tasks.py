"""GET /promoter/tasks: eligibility by tag, the three orders against hand-computed scores, pagination,
bad input and the DynamoDB budget."""

import pytest

from tests.helpers.tasks import all_pages, create_product, promoter, settle_transactions, share, share_on, tasks

STANDARD_10PCT = {"promoter_tag": "standard", "type": "percent", "value": 1000}
GOLD_20PCT = {"promoter_tag": "gold", "type": "percent", "value": 2000}
GOLD_FIXED = {"promoter_tag": "gold", "type": "fixed", "value": 700}


@pytest.fixture
def catalogue(api):
    """Three products: standard only, gold only, and both (gold pays more)."""
    merchant = api.user("merchant")
    return {
        "standard_only": create_product(api, merchant, title="S", reward_rules=[STANDARD_10PCT]),
        "gold_only": create_product(api, merchant, title="G", reward_rules=[GOLD_FIXED]),
        "both": create_product(api, merchant, title="B", price_minor=5000, reward_rules=[STANDARD_10PCT, GOLD_20PCT]),
    }


def _by_title(items):
    return {i["title"]: (i["reward"], i["estimated_commission_minor"]) for i in items}


@pytest.mark.usefixtures("catalogue")
def test_a_promoter_sees_only_products_with_a_rule_for_their_tag_with_their_reward(api):
    # Given a standard promoter
    standard = promoter(api)
    # When it lists its tasks, then it sees the standard products with the standard reward
    for sort in ("global", "personal", "combined"):
        assert _by_title(tasks(api, standard, sort=sort)["items"]) == {
            "S": (STANDARD_10PCT, 1000),
            "B": (STANDARD_10PCT, 500),
        }, sort


@pytest.mark.usefixtures("catalogue")
def test_a_gold_promoter_sees_gold_tasks_with_the_gold_reward(api):
    gold = promoter(api, ["gold"])
    assert _by_title(tasks(api, gold)["items"]) == {"G": (GOLD_FIXED, 700), "B": (GOLD_20PCT, 1000)}


@pytest.mark.usefixtures("catalogue")
def test_several_tags_see_the_union_with_the_best_paying_rule_once(api):
    both = promoter(api, ["standard", "gold"])
    for sort in ("global", "personal", "combined"):
        items = tasks(api, both, sort=sort)["items"]
        assert len(items) == 3, sort
        assert _by_title(items) == {"S": (STANDARD_10PCT, 1000), "G": (GOLD_FIXED, 700), "B": (GOLD_20PCT, 1000)}


@pytest.mark.usefixtures("catalogue")
def test_a_tag_with_no_rules_sees_nothing(api):
    assert tasks(api, promoter(api, ["platinum"]))["items"] == []


@pytest.mark.usefixtures("catalogue")
def test_no_profile_is_403_and_merchants_are_403(api):
    assert api.get("/promoter/tasks", as_user=api.user("promoter")).status == 403
    assert api.get("/promoter/tasks", as_user=api.user("merchant")).status == 403


@pytest.fixture
def ranked(api, stack):
    """Hand-computed scenario (weights 0.7 / 0.3, lambda 0.5).

    counters            P1 (¥10 comm)   P2 (¥20 comm)   P3 (¥30 comm)
    all: tx, promo        2, 1            0, 5            1, 0
    X:   tx, promo        0, 0            0, 2            1, 0
    g = 0.7 tx + 0.3 p    1.7             1.5             0.7
    p (X)                 0               0.6             0.7
    c = .5 g/1.7 + .5 p/.7  0.5           0.869748        0.705882
    """
    merchant = api.user("merchant")
    rule = lambda bps: [{"promoter_tag": "standard", "type": "percent", "value": bps}]  # noqa: E731
    p1 = create_product(api, merchant, title="P1", reward_rules=rule(1000))["product_id"]
    p2 = create_product(api, merchant, title="P2", reward_rules=rule(2000))["product_id"]
    p3 = create_product(api, merchant, title="P3", reward_rules=rule(3000))["product_id"]
    x, y = promoter(api), promoter(api)
    share_on(api, x, p2, ("wechat", "qq"))
    share_on(api, y, p2, ("wechat", "qq", "douyin"))
    share(api, y, p1, "weibo", times=1)
    settle_transactions(x.sub, p3, 1)
    settle_transactions(y.sub, p1, 2)
    link = share(api, x, p1, times=0)  # clicks never count towards scores
    for _ in range(5):
        api.get(f"/l/{link['code']}")
    stack.drain_streams()  # the tracking stream counts the shares and clicks
    return {"x": x, "ids": {p1: "P1", p2: "P2", p3: "P3"}}


def _scored(page, ids):
    return [(ids[i["product_id"]], i["score"]) for i in page["items"]]


def test_before_recalculation_global_ties_break_by_commission(api, ranked):
    # Global scores are refreshed by the schedule; until then all are 0: higher commission first
    assert _scored(tasks(api, ranked["x"], sort="global"), ranked["ids"]) == [("P3", 0), ("P2", 0), ("P1", 0)]


def test_global_order_matches_hand_computed_g(api, stack, ranked):
    # When the hourly recalculation runs
    result = stack.run_schedule("RankingRecalculationFunction")
    assert result["reranked"] == 3
    # Then global order is by g
    assert _scored(tasks(api, ranked["x"], sort="global"), ranked["ids"]) == [("P1", 1.7), ("P2", 1.5), ("P3", 0.7)]
    # And a second run changes nothing
    assert stack.run_schedule("RankingRecalculationFunction")["reranked"] == 0


def test_personal_order_matches_hand_computed_p(api, stack, ranked):
    stack.run_schedule("RankingRecalculationFunction")
    assert _scored(tasks(api, ranked["x"], sort="personal"), ranked["ids"]) == [("P3", 0.7), ("P2", 0.6), ("P1", 0.0)]


def test_combined_is_the_default_and_matches_hand_computed_c(api, stack, ranked):
    stack.run_schedule("RankingRecalculationFunction")
    expected = [("P2", 0.869748), ("P3", 0.705882), ("P1", 0.5)]
    assert _scored(tasks(api, ranked["x"], sort="combined"), ranked["ids"]) == expected
    assert _scored(tasks(api, ranked["x"]), ranked["ids"]) == expected


@pytest.fixture
def many(api):
    merchant = api.user("merchant")
    gold = [
        create_product(
            api,
            merchant,
            title=f"g{i}",
            price_minor=1000 + i,
            reward_rules=[{"promoter_tag": "gold", "type": "percent", "value": 1000}],
        )["product_id"]
        for i in range(3)
    ]
    mixed = [
        create_product(
            api,
            merchant,
            title=f"m{i}",
            price_minor=2000 + 10 * i,
            reward_rules=[STANDARD_10PCT, {"promoter_tag": "gold", "type": "percent", "value": 500 + 300 * i}],
        )["product_id"]
        for i in range(4)
    ]
    plain = [
        create_product(api, merchant, title=f"s{i}", price_minor=1500 + i, reward_rules=[STANDARD_10PCT])["product_id"]
        for i in range(4)
    ]
    return gold, mixed, plain


@pytest.mark.parametrize("sort", ["global", "personal", "combined"])
@pytest.mark.parametrize("tags", [None, ["standard", "gold"]])
def test_pages_follow_one_stable_order_without_gaps_or_duplicates(api, stack, many, sort, tags):
    # Given a promoter (one tag or two overlapping tags) with some history, after a recalculation
    user = promoter(api, tags)
    gold, mixed, plain = many
    share_on(api, user, mixed[1], ("wechat", "qq"))
    share(api, user, plain[2], times=1)
    stack.run_schedule("RankingRecalculationFunction")
    # When it pages through with limit 3
    paged = all_pages(api, user, sort=sort, limit=3)
    # Then the pages concatenate to the one-page listing: same items, same order, each once
    whole = tasks(api, user, sort=sort, limit=100)
    assert whole["next_cursor"] is None
    assert [i["product_id"] for i in paged] == [i["product_id"] for i in whole["items"]]
    expected = set(mixed + plain) | (set(gold) if tags else set())
    assert {i["product_id"] for i in paged} == expected
    # And the order is score desc, commission desc, product id asc
    keys = [(-i["score"], -i["estimated_commission_minor"], i["product_id"]) for i in paged]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"limit": 0}, 422, "limit"),
        ({"limit": 101}, 422, "limit"),
        ({"limit": "ten"}, 422, "limit"),
        ({"sort": "random"}, 422, "sort"),
        ({"cursor": "!!!"}, 400, "cursor"),
        ({"cursor": "eyJzb3J0IjogImdsb2JhbCJ9"}, 400, "cursor"),
    ],
)
@pytest.mark.usefixtures("catalogue")
def test_bad_query_is_4xx_naming_the_field(api, query, status, field):
    response = api.get("/promoter/tasks", as_user=promoter(api), query=query)
    assert response.status == status, response.text
    assert response.json()["error"]["field"] == field


def test_a_cursor_of_another_sort_is_400(api, many):
    user = promoter(api)
    cursor = tasks(api, user, sort="global", limit=2)["next_cursor"]
    assert cursor
    response = api.get("/promoter/tasks", as_user=user, query={"sort": "personal", "cursor": cursor})
    assert response.status == 400
    assert response.json()["error"]["field"] == "cursor"


def _listing_cost(api, dynamo_calls, user, sort, **query):
    dynamo_calls.clear()
    tasks(api, user, sort=sort, **query)
    return list(dynamo_calls)


@pytest.mark.parametrize("sort", ["global", "personal", "combined"])
def test_listing_cost_is_flat_in_catalogue_size_and_within_three_requests(api, stack, dynamo_calls, sort, monkeypatch):
    # Given a candidate set smaller than the catalogue (as 100 vs 10,000 products would be)
    monkeypatch.setenv("TUISHOU_TASK_CANDIDATES", "8")
    merchant = api.user("merchant")
    user = promoter(api)
    share(api, user, create_product(api, merchant)["product_id"])
    for _ in range(9):
        create_product(api, merchant)
    small = _listing_cost(api, dynamo_calls, user, sort, limit=5)
    # When the catalogue grows fourfold
    for _ in range(30):
        create_product(api, merchant)
    large = _listing_cost(api, dynamo_calls, user, sort, limit=5)
    # Then the same requests read the same number of items, never a Scan, at most 3 requests
    assert small == large
    assert len(large) <= 3
    assert "Scan" not in {operation for operation, _ in large}
