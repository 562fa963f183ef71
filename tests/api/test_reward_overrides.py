"""Per-promoter reward overrides: set and remove, ownership and bad input, and the override beating the tag
rule in the task list, link eligibility and settlement (through a signed Stripe webhook)."""

from __future__ import annotations

import uuid

from tests.helpers.insights import click, pay
from tests.helpers.tasks import create_product, link_for, promoter, tasks
from tuishou.dal import keys
from tuishou.ids import new_id


def _path(product_id: str, promoter_id: str) -> str:
    return f"/merchant/products/{product_id}/promoter-rewards/{promoter_id}"


def test_override_beats_the_tag_rule_in_listing_and_settlement_until_removed(api, payments):
    # Given a 10 % task and two standard promoters
    merchant = api.user("merchant")
    product = create_product(api, merchant, price_minor=10000)
    favoured, other = promoter(api), promoter(api)
    # When the merchant pays the favoured promoter a fixed 25.00 on this product
    response = api.put(_path(product["product_id"], favoured.sub), {"type": "fixed", "value": 2500}, as_user=merchant)
    assert response.status == 200, response.text
    assert response.json()["type"] == "fixed" and response.json()["value"] == 2500
    # Then the favoured promoter's listing shows the override (all sorts); the other still sees 10 %
    for sort in ("global", "personal", "combined"):
        [task] = tasks(api, favoured, sort=sort)["items"]
        assert task["reward"] == {"promoter_tag": "standard", "type": "fixed", "value": 2500}
        assert task["estimated_commission_minor"] == 2500
    [task] = tasks(api, other)["items"]
    assert task["reward"]["type"] == "percent" and task["estimated_commission_minor"] == 1000
    # And a sale through the favoured promoter's link settles at the override
    link = link_for(api, favoured, product["product_id"])
    assert pay(payments, click(api, link["code"]), 8000)["outcome"] == "settled"
    [settled] = payments.settlements()
    assert settled["commission_minor"] == 2500 and settled["merchant_minor"] == 5500
    assert settled["rule"]["source"] == "promoter_override"
    payments.assert_ledger_consistent()
    # When the override is removed, the next sale pays the tag rule again
    assert api.delete(_path(product["product_id"], favoured.sub), as_user=merchant).status == 204
    assert pay(payments, click(api, link["code"]), 8000)["outcome"] == "settled"
    latest = max(payments.settlements(), key=lambda s: s["settled_at"])
    assert latest["commission_minor"] == 800 and "source" not in latest["rule"]
    assert tasks(api, favoured)["items"][0]["estimated_commission_minor"] == 1000
    # And removing it again is idempotent
    assert api.delete(_path(product["product_id"], favoured.sub), as_user=merchant).status == 204


def test_override_does_not_make_a_product_a_task(api):
    # Given a product with a rule only for gold, and a standard promoter with an override on it
    merchant = api.user("merchant")
    product = create_product(api, merchant, reward_rules=[{"promoter_tag": "gold", "type": "percent", "value": 500}])
    outsider = promoter(api)
    assert (
        api.put(_path(product["product_id"], outsider.sub), {"type": "percent", "value": 2000}, as_user=merchant).status
        == 200
    )
    # Then the product is neither listed nor linkable for them (eligibility stays by tag)
    assert tasks(api, outsider)["items"] == []
    assert api.post(f"/promoter/tasks/{product['product_id']}/links", as_user=outsider).status == 403


def test_ownership_and_unknown_promoter_are_404_and_nothing_is_written(api, stack):
    owner, intruder = api.user("merchant"), api.user("merchant")
    product = create_product(api, owner)
    target = promoter(api)
    body = {"type": "percent", "value": 1500}
    # A merchant cannot override on another merchant's product (nor remove one)
    assert api.put(_path(product["product_id"], target.sub), body, as_user=intruder).status == 404
    assert api.delete(_path(product["product_id"], target.sub), as_user=intruder).status == 404
    # A promoter that does not exist, and a merchant (not a promoter) as target, are 404
    assert api.put(_path(product["product_id"], str(uuid.uuid4())), body, as_user=owner).status == 404
    assert api.put(_path(product["product_id"], owner.sub), body, as_user=owner).status == 404
    # An unknown product is 404; a promoter cannot call the route
    assert api.put(_path(new_id("prd"), target.sub), body, as_user=owner).status == 404
    assert api.put(_path(product["product_id"], target.sub), body, as_user=target).status == 403
    profile = _profile(target.sub)
    assert keys.reward_override_attribute(product["product_id"]) not in profile


def test_bad_override_input_names_the_field_and_writes_nothing(api, dynamo_calls):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    target = promoter(api)
    cases = [
        ({"type": "percent", "value": 0}, "value"),
        ({"type": "percent", "value": 10001}, "value"),
        ({"type": "fixed", "value": 0}, "value"),
        ({"type": "fixed", "value": "5"}, "value"),
        ({"type": "bonus", "value": 5}, "type"),
        ({"value": 5}, "type"),
    ]
    dynamo_calls.clear()
    for body, field in cases:
        response = api.put(_path(product["product_id"], target.sub), body, as_user=merchant)
        assert response.status == 422, (body, response.text)
        assert response.json()["error"]["field"] == field, response.text
    bad_product = api.put(_path("not-a-product", target.sub), {"type": "percent", "value": 5}, as_user=merchant)
    assert bad_product.status == 422 and bad_product.json()["error"]["field"] == "product_id"
    bad_promoter = api.put(_path(product["product_id"], "nobody"), {"type": "percent", "value": 5}, as_user=merchant)
    assert bad_promoter.status == 422 and bad_promoter.json()["error"]["field"] == "promoter_id"
    # the bodies are refused before the route runs (no request); the two malformed path ids by the route,
    # after the caller's rate-limit window counted them (one UpdateItem each), and before anything else
    assert dynamo_calls == [("UpdateItem", 0), ("UpdateItem", 0)]


def test_override_routes_cost_two_requests_and_listing_stays_within_budget(api, dynamo_calls):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    target = promoter(api)
    dynamo_calls.clear()
    api.put(_path(product["product_id"], target.sub), {"type": "percent", "value": 1500}, as_user=merchant)
    # the first UpdateItem is the merchant's rate-limit window (every write route counts in it)
    assert [op for op, _ in dynamo_calls] == ["UpdateItem", "GetItem", "UpdateItem"]
    for sort, expected in (("global", ["GetItem", "Query"]), ("combined", ["GetItem", "Query", "Query"])):
        dynamo_calls.clear()
        assert tasks(api, target, sort=sort)["items"][0]["estimated_commission_minor"] == 1500
        assert [op for op, _ in dynamo_calls] == expected


def _profile(user_id: str) -> dict:
    import boto3

    from tuishou.dal import dynamo

    found = boto3.client("dynamodb").get_item(TableName=dynamo.table("users"), Key=dynamo.key(*keys.profile(user_id)))
    return dynamo.from_item(found["Item"])
