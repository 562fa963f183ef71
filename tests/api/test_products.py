"""Merchants' products: publish, list with counters, reward rules, pause/resume, ownership, bad input."""

import pytest

from tests.helpers.tasks import create_product, link_for, product_body, promoter, share, tasks


def test_publish_returns_201_with_the_product(api):
    # Given a merchant
    merchant = api.user("merchant")
    # When it publishes a product
    response = api.post("/merchant/products", product_body(), as_user=merchant)
    # Then it is created, active and owned by the caller
    assert response.status == 201, response.text
    product = response.json()
    assert product["product_id"].startswith("prd_")
    assert product["merchant_id"] == merchant.sub
    assert product["status"] == "active"
    assert product["reward_rules"] == [{"promoter_tag": "standard", "type": "percent", "value": 1000}]


def test_list_shows_only_the_callers_products_with_counters(api, stack):
    # Given two merchants with products, and shares and a click on one product
    merchant, other = api.user("merchant"), api.user("merchant")
    first = create_product(api, merchant, title="First")
    second = create_product(api, merchant, title="Second")
    create_product(api, other, title="Not mine")
    seller = promoter(api)
    for channel in ("wechat", "qq", "weibo"):  # a link's shares on one channel count once an hour
        link = share(api, seller, first["product_id"], channel)
    assert api.get(f"/l/{link['code']}").status == 302
    stack.drain_streams()  # the tracking stream counts the shares and the click
    # When the merchant lists its products
    items = api.get("/merchant/products", as_user=merchant).json()["items"]
    # Then it sees its own, newest first, with summed counters
    assert [i["title"] for i in items] == ["Second", "First"]
    assert items[1]["counters"] == {"clicks": 1, "promotions": 3, "transactions": 0}
    assert items[0]["counters"] == {"clicks": 0, "promotions": 0, "transactions": 0}
    assert items[0]["product_id"] == second["product_id"]


def test_list_paginates_by_cursor(api):
    merchant = api.user("merchant")
    ids = [create_product(api, merchant, title=f"P{i}")["product_id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = api.get("/merchant/products", as_user=merchant, query={"limit": 2, "cursor": cursor}).json()
        seen += [i["product_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


def test_replace_reward_rules_changes_who_sees_the_task(api):
    # Given a product for standard promoters, and a standard and a gold promoter
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    standard, gold = promoter(api), promoter(api, ["gold"])
    # When the merchant replaces its rules with a gold-only rule
    rules = [{"promoter_tag": "gold", "type": "fixed", "value": 500}]
    response = api.put(
        f"/merchant/products/{product['product_id']}/reward-rules", {"reward_rules": rules}, as_user=merchant
    )
    # Then the product carries the new rules, standard no longer sees it, gold sees the gold reward
    assert response.status == 200, response.text
    assert response.json()["reward_rules"] == rules
    assert tasks(api, standard)["items"] == []
    [task] = tasks(api, gold)["items"]
    assert task["reward"] == rules[0]
    assert task["estimated_commission_minor"] == 500


def test_pause_hides_the_task_and_resume_brings_it_back(api, stack):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    seller = promoter(api)
    link = link_for(api, seller, product["product_id"])
    # When the merchant pauses the product
    paused = api.post(f"/merchant/products/{product['product_id']}/pause", as_user=merchant)
    assert paused.status == 200 and paused.json()["status"] == "paused"
    stack.drain_streams()  # the catalog stream copies the status onto the product's link codes
    # Then the task disappears, its link answers 410 and new links are refused
    assert tasks(api, seller)["items"] == []
    assert api.get(f"/l/{link['code']}").status == 410
    assert api.post(f"/promoter/tasks/{product['product_id']}/links", as_user=seller).status == 403
    # Pausing again is harmless
    assert api.post(f"/merchant/products/{product['product_id']}/pause", as_user=merchant).status == 200
    # When it resumes, the task and the link work again
    resumed = api.post(f"/merchant/products/{product['product_id']}/resume", as_user=merchant)
    assert resumed.status == 200 and resumed.json()["status"] == "active"
    stack.drain_streams()
    assert [t["product_id"] for t in tasks(api, seller)["items"]] == [product["product_id"]]
    assert api.get(f"/l/{link['code']}").status == 302


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PUT", "reward-rules", {"reward_rules": [{"promoter_tag": "gold", "type": "fixed", "value": 1}]}),
        ("POST", "pause", None),
        ("POST", "resume", None),
    ],
)
def test_another_merchants_product_is_404(api, method, suffix, body):
    # Given a product of another merchant
    owner, intruder = api.user("merchant"), api.user("merchant")
    product = create_product(api, owner)
    # When a different merchant touches it
    response = api.request(
        method, f"/merchant/products/{product['product_id']}/{suffix}", json_body=body, as_user=intruder
    )
    # Then it does not exist for them, and nothing changed
    assert response.status == 404
    mine = api.get("/merchant/products", as_user=owner).json()["items"][0]
    assert mine["status"] == "active" and mine["reward_rules"] == product["reward_rules"]


def test_unknown_product_is_404_and_malformed_id_is_422(api):
    merchant = api.user("merchant")
    assert api.post("/merchant/products/prd_0000000000aaaaaaaaaa/pause", as_user=merchant).status == 404
    response = api.post("/merchant/products/not-an-id/pause", as_user=merchant)
    assert response.status == 422
    assert response.json()["error"]["field"] == "product_id"


def test_promoter_cannot_use_merchant_routes(api):
    seller = api.user("promoter")
    assert api.post("/merchant/products", product_body(), as_user=seller).status == 403
    assert api.get("/merchant/products", as_user=seller).status == 403


BAD_PRODUCTS = [
    (
        {"reward_rules": [{"promoter_tag": "Gold Tier", "type": "percent", "value": 100}]},
        "reward_rules[0].promoter_tag",
    ),
    ({"reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 0}]}, "reward_rules[0].value"),
    ({"reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 10001}]}, "reward_rules[0].value"),
    ({"reward_rules": [{"promoter_tag": "standard", "type": "fixed", "value": 0}]}, "reward_rules[0].value"),
    ({"reward_rules": [{"promoter_tag": "standard", "type": "bonus", "value": 5}]}, "reward_rules[0].type"),
    (
        {
            "reward_rules": [
                {"promoter_tag": "standard", "type": "fixed", "value": 1},
                {"promoter_tag": "standard", "type": "fixed", "value": 2},
            ]
        },
        "reward_rules",
    ),
    ({"reward_rules": []}, "reward_rules"),
    ({"currency": "XYZ"}, "currency"),
    ({"currency": "cny"}, "currency"),
    ({"landing_url": "http://shop.example.com/serum"}, "landing_url"),
    ({"landing_url": "javascript:alert(1)"}, "landing_url"),
    ({"image_url": "ftp://img.example.com/a.jpg"}, "image_url"),
    ({"price_minor": 0}, "price_minor"),
    ({"price_minor": "100"}, "price_minor"),
    ({"category": "Beauty Skincare"}, "category"),
    ({"title": "   "}, "title"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_PRODUCTS)
def test_bad_product_is_422_naming_the_field_and_writes_nothing(api, overrides, field):
    merchant = api.user("merchant")
    response = api.post("/merchant/products", product_body(**overrides), as_user=merchant)
    assert response.status == 422, response.text
    assert response.json()["error"]["field"] == field
    assert api.get("/merchant/products", as_user=merchant).json()["items"] == []


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([{"promoter_tag": "GOLD", "type": "fixed", "value": 5}], "reward_rules[0].promoter_tag"),
        ([{"promoter_tag": "gold", "type": "percent", "value": 20000}], "reward_rules[0].value"),
    ],
)
def test_bad_rule_replacement_is_422_and_keeps_the_old_rules(api, rules, field):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    response = api.put(
        f"/merchant/products/{product['product_id']}/reward-rules", {"reward_rules": rules}, as_user=merchant
    )
    assert response.status == 422
    assert response.json()["error"]["field"] == field
    assert api.get("/merchant/products", as_user=merchant).json()["items"][0]["reward_rules"] == product["reward_rules"]


@pytest.mark.parametrize("limit", [0, 101])
def test_merchant_list_limit_out_of_range_is_422(api, limit):
    response = api.get("/merchant/products", as_user=api.user("merchant"), query={"limit": limit})
    assert response.status == 422
    assert response.json()["error"]["field"] == "limit"


def test_merchant_list_malformed_cursor_is_400(api):
    response = api.get("/merchant/products", as_user=api.user("merchant"), query={"cursor": "bm90LWpzb24"})
    assert response.status == 400
    assert response.json()["error"]["field"] == "cursor"
