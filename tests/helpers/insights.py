"""Builders for the merchant-insights tests: real clicks and Stripe payments through the routes and the
signed webhook, direct per-day activity for threshold edges, the daily job and the merchant's inbox."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.api import ApiClient
from tests.helpers.payments import PaymentsKit, stripe_checkout_event
from tests.helpers.seeding import BatchSeeder
from tools.local_stack import LocalStack


def click(api: ApiClient, code: str, channel: str | None = None) -> str:
    """GET /l/{code} (optionally from a share URL) by a new visitor (its own browser, so every call counts)
    and return the click id the redirect carries."""
    browser = {"User-Agent": f"Mozilla/5.0 (visitor {uuid.uuid4().hex[:12]})"}
    response = api.get(f"/l/{code}", query={"ch": channel} if channel else None, headers=browser)
    assert response.status == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["tsclid"][0]


def pay(payments: PaymentsKit, click_id: str, amount_minor: int) -> dict[str, Any]:
    """A signed Stripe ``checkout.session.completed`` for the click; returns the webhook's answer."""
    response = payments.stripe(stripe_checkout_event(f"pi_{uuid.uuid4().hex[:16]}", amount_minor, click_id=click_id))
    assert response.status == 200, response.text
    return response.json()


def record_activity(
    product: dict[str, Any],
    promoter_id: str,
    at: datetime,
    *,
    clicks: int = 0,
    promotions: int = 0,
    sales: int = 0,
    sale_minor: int = 1000,
    channel: str = "wechat",
) -> None:
    """What clicks, shares and settlements add to the per-day aggregates, through the same item builders
    the hot paths put in their transactions, folded into the final items (threshold edges without hundreds of
    webhooks)."""
    from tuishou.dal.insights import sale_updates, window_updates

    items: list[dict[str, Any]] = []
    items += [
        u for _ in range(clicks) for u in window_updates(promoter_id, product["product_id"], channel, "clicks", at)
    ]
    items += [
        u
        for _ in range(promotions)
        for u in window_updates(promoter_id, product["product_id"], channel, "promotions", at)
    ]
    items += [
        u for _ in range(sales) for u in sale_updates(promoter_id, product, channel, at, sale_minor, sale_minor // 10)
    ]
    with BatchSeeder() as seeder:  # the final aggregates, batch-written
        seeder.transact(items)


def run_job(stack: LocalStack, at: datetime) -> dict[str, Any]:
    return stack.run_schedule("MerchantInsightsFunction", at)


def inbox(user_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    from tuishou.dal import notifications

    items, _ = notifications.list_inbox(user_id, 100, None)
    return [asdict(i) for i in items if kind is None or i.kind == kind]
