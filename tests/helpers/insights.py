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
    """What clicks, shares and settlements add to the counters and per-day aggregates, through the same
    builders the counting consumers use, folded into the final items (threshold edges without hundreds of
    webhooks)."""
    from tuishou.dal import counters
    from tuishou.logic.counting import CountedEvent, additions

    def event(field: counters.CounterField, revenue_minor: int = 0) -> CountedEvent:
        return CountedEvent(
            event_id="seeded",
            field=field,
            promoter_id=promoter_id,
            product_id=product["product_id"],
            channel=channel,
            at=at,
            revenue_minor=revenue_minor,
            commission_minor=revenue_minor // 10,
            category=product["category"] if revenue_minor else None,
        )

    seeded = (
        [event("clicks")] * clicks + [event("promotions")] * promotions + [event("transactions", sale_minor)] * sales
    )
    with BatchSeeder() as seeder:  # the final counters and aggregates, batch-written
        seeder.transact(counters.updates(a for e in seeded for a in additions(e, shard=0)))


def run_job(stack: LocalStack, at: datetime) -> dict[str, Any]:
    """The daily schedule (one message per merchant shard), then every queued page delivered: the pages'
    summaries added up, as one run reported them before the job fanned out."""
    fanned_out = stack.run_schedule("MerchantInsightsFunction", at)
    pages = deliver_pages(stack)
    total: dict[str, Any] = {"active_tasks": 0, "alerts_sent": 0, "hints_sent": 0, "already_sent": 0}
    total["notifications"] = []
    for page in pages:
        for name in ("active_tasks", "alerts_sent", "hints_sent", "already_sent"):
            total[name] += page[name]
        total["notifications"] += page["notifications"]
    return {**total, "shards": fanned_out["shards"], "pages": len(pages)}


def deliver_pages(stack: LocalStack) -> list[dict[str, Any]]:
    """``stack.drain_queues()``, keeping what each insights page invocation reported."""
    pages: list[dict[str, Any]] = []
    invoke = stack.host.invoke

    def recording(logical_id: str, event: dict[str, Any]) -> Any:
        result = invoke(logical_id, event)
        if logical_id == "MerchantInsightsFunction" and "Records" in event:
            pages.extend(result["pages"])
        return result

    stack.host.invoke = recording  # type: ignore[method-assign]
    try:
        stack.drain_queues()
    finally:
        del stack.host.invoke
    return pages


def inbox(user_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    from tuishou.dal import notifications

    items, _ = notifications.list_inbox(user_id, 100, None)
    return [asdict(i) for i in items if kind is None or i.kind == kind]
