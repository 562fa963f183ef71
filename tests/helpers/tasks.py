"""Builders for the promotion-task tests: products, promoters with tags, counters."""

from __future__ import annotations

from typing import Any

from tests.helpers.api import ApiClient, User
from tests.helpers.seeding import BatchSeeder


def product_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Hydrating serum",
        "category": "beauty/skincare",
        "price_minor": 10000,
        "currency": "CNY",
        "landing_url": "https://shop.example.com/serum?src=ts",
        "image_url": "https://img.example.com/serum.jpg",
        "description": "50 ml",
        "reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 1000}],
    }
    body.update(overrides)
    return body


def create_product(api: ApiClient, merchant: User, **overrides: Any) -> dict[str, Any]:
    response = api.post("/merchant/products", product_body(**overrides), as_user=merchant)
    assert response.status == 201, response.text
    return response.json()


def promoter(api: ApiClient, tags: list[str] | None = None) -> User:
    """A promoter with a registered profile and, when given, admin-set tags."""
    user = api.user("promoter")
    response = api.post("/promoter/profile", {"display_name": "Lin", "phone": "+8613800000000"}, as_user=user)
    assert response.status == 201, response.text
    if tags is not None:
        response = api.put(f"/admin/promoters/{user.sub}/tags", {"tags": tags}, as_user=api.admin)
        assert response.status == 200, response.text
    return user


def link_for(api: ApiClient, user: User, product_id: str) -> dict[str, Any]:
    response = api.post(f"/promoter/tasks/{product_id}/links", as_user=user)
    assert response.status in (200, 201), response.text
    return response.json()


def share(api: ApiClient, user: User, product_id: str, channel: str = "wechat", times: int = 1) -> dict[str, Any]:
    link = link_for(api, user, product_id)
    for _ in range(times):
        response = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": channel}, as_user=user)
        assert response.status == 201, response.text
    return link


def share_on(api: ApiClient, user: User, product_id: str, channels: tuple[str, ...]) -> dict[str, Any]:
    """One share on each of ``channels``: each is a promotion (a link's shares on one channel in one hour
    count once)."""
    link = link_for(api, user, product_id)
    for channel in channels:
        share(api, user, product_id, channel)
    return link


def settle_transactions(promoter_id: str, product_id: str, times: int, channel: str = "wechat") -> None:
    """What counting ``times`` settlements adds (counters, task history, aggregates), folded and batch-written."""
    from tuishou import clock
    from tuishou.dal import counters
    from tuishou.logic.counting import CountedEvent, additions

    sale = CountedEvent("seeded", "transactions", promoter_id, product_id, channel, clock.now())
    with BatchSeeder() as seeder:
        seeder.transact(counters.updates(a for _ in range(times) for a in additions(sale, counters.random_shard())))


def tasks(api: ApiClient, user: User, **query: Any) -> dict[str, Any]:
    response = api.get("/promoter/tasks", as_user=user, query=query)
    assert response.status == 200, response.text
    return response.json()


def all_pages(api: ApiClient, user: User, **query: Any) -> list[dict[str, Any]]:
    items, cursor = [], None
    for _ in range(100):
        page = tasks(api, user, cursor=cursor, **query)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")
