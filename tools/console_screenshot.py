"""``make console-screenshot``: the README's picture of the merchant dashboard (docs/img/console-dashboard.png).

A local stack in this process (moto, as ``make local`` runs it) on a free loopback port; a merchant publishes
a product through the API; promoters share it and real sales arrive as signed Stripe webhooks; the six days
before today are counted through the counting consumer's own item builders (a week of activity without
waiting a week); then Debian's chromium, driven by Playwright, shows the product's stats page."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tools import template
from tools.gateway import HttpResponse
from tools.local_stack import LocalStack, serve

OUTPUT = template.ROOT / "docs" / "img" / "console-dashboard.png"
# Per day before today: (clicks, promotions, sales) of the product, oldest first.
EARLIER_DAYS = [(18, 6, 1), (25, 8, 2), (22, 7, 1), (40, 11, 3), (35, 9, 2), (52, 14, 4)]
PRICE_MINOR = 9950


def _call(stack: LocalStack, method: str, path: str, token: str | None = None, body: Any = None) -> HttpResponse:
    assert stack.gateway is not None
    headers = {"Content-Type": "application/json", **({"Authorization": token} if token else {})}
    payload = json.dumps(body).encode() if body is not None else b""
    return stack.gateway.handle(method, path, headers, payload)


def _ok(response: HttpResponse) -> Any:
    if response.status >= 300 and response.status != 302:
        raise RuntimeError(f"{response.status}: {response.text}")
    return response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None


def _promoter(stack: LocalStack, name: str) -> dict[str, Any]:
    user = stack.create_user(f"{name.lower()}-{uuid.uuid4().hex[:6]}", "promoter")
    _ok(_call(stack, "POST", "/promoter/profile", user["id_token"], {"display_name": name, "phone": "+8613800000000"}))
    return user


def _sale(stack: LocalStack, code: str, channel: str) -> None:
    """A visitor's click on a share URL, then Stripe's signed ``checkout.session.completed`` for it."""
    assert stack.provider is not None
    visitor = {"User-Agent": f"Mozilla/5.0 (visitor {uuid.uuid4().hex[:12]})"}
    assert stack.gateway is not None
    redirect = stack.gateway.handle("GET", f"/l/{code}?ch={channel}", visitor)
    click_id = parse_qs(urlsplit(redirect.headers["Location"]).query)["tsclid"][0]
    session = {
        "id": f"cs_{uuid.uuid4().hex[:16]}",
        "object": "checkout.session",
        "payment_intent": f"pi_{uuid.uuid4().hex[:16]}",
        "amount_total": PRICE_MINOR,
        "currency": "cny",
        "payment_status": "paid",
        "metadata": {"tsclid": click_id},
    }
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed"}
    body = json.dumps({**event, "created": int(time.time()), "data": {"object": session}}).encode()
    stamp = int(time.time())
    secret = stack.provider.stripe_webhook_secret.encode()
    signature = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={signature}"}
    _ok(stack.gateway.handle("POST", "/webhooks/stripe", headers, body))


def _count_earlier_days(product_id: str, promoter_ids: list[str]) -> None:
    """What the counting consumer would have added for the earlier days' clicks, shares and sales."""
    from tuishou.dal import counters, dynamo
    from tuishou.logic.counting import CountedEvent, additions

    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    events = []
    for back, (clicks, promotions, sales) in enumerate(reversed(EARLIER_DAYS), start=1):
        at = today - timedelta(days=back)
        for n in range(clicks + promotions + sales):
            field: counters.CounterField = (
                "clicks" if n < clicks else "promotions" if n < clicks + promotions else "transactions"
            )
            revenue = PRICE_MINOR if field == "transactions" else 0
            promoter_id = promoter_ids[n % len(promoter_ids)]
            channel = ("wechat", "xiaohongshu", "douyin")[n % 3]
            events.append(
                CountedEvent(f"seed-{back}-{n}", field, promoter_id, product_id, channel, at, revenue, revenue // 10)
            )
    items = counters.updates(a for event in events for a in additions(event, shard=0))
    for start in range(0, len(items), 25):
        dynamo.transact(items[start : start + 25])


def seed(stack: LocalStack) -> tuple[dict[str, Any], str]:
    """A merchant with a week of activity on one product; returns the merchant and the product id."""
    merchant = stack.create_user("tea-house", "merchant")
    product = _ok(
        _call(
            stack,
            "POST",
            "/merchant/products",
            merchant["id_token"],
            {
                "title": "西湖龙井 Longjing tea 250 g",
                "category": "food/tea",
                "price_minor": PRICE_MINOR,
                "currency": "CNY",
                "landing_url": "https://shop.example.com/longjing",
                "reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 1000}],
            },
        )
    )
    promoters = [_promoter(stack, name) for name in ("Lin", "Wei", "Fang")]
    for number, promoter in enumerate(promoters):
        link = _ok(_call(stack, "POST", f"/promoter/tasks/{product['product_id']}/links", promoter["id_token"]))
        for channel in ("wechat", "xiaohongshu")[: number + 1]:
            _call(
                stack, "POST", f"/promoter/links/{link['link_id']}/shares", promoter["id_token"], {"channel": channel}
            )
        for _ in range(3 - number):
            _sale(stack, link["code"], "wechat" if number != 1 else "xiaohongshu")
    _count_earlier_days(product["product_id"], [p["sub"] for p in promoters])
    stack.drain_streams()
    return merchant, product["product_id"]


def capture(base: str, merchant: dict[str, Any], product_id: str, output: Path, language: str = "zh-CN") -> None:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("no chromium on PATH: apt-get install -y chromium")
    session = json.dumps({"id_token": merchant["id_token"], "username": merchant["username"], "role": "merchant"})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        context.add_init_script(
            f"sessionStorage.setItem('tuishou.session', {json.dumps(session)});"
            f"localStorage.setItem('tuishou.language', {json.dumps(language)});"
        )
        page = context.new_page()
        page.goto(f"{base}/console/#/products/{product_id}")
        page.wait_for_selector("[data-testid=stats] svg[data-metric=transactions]")
        output.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(output), full_page=True)
        browser.close()


def main() -> None:
    from moto.server import ThreadedMotoServer

    from tools.moto_fidelity import serialize_dynamodb

    serialize_dynamodb()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    try:
        stack = LocalStack(f"http://{host}:{port}").provision()
        assert stack.gateway is not None
        server = serve(stack.gateway, 0)
        merchant, product_id = seed(stack)
        capture(f"http://127.0.0.1:{server.server_address[1]}", merchant, product_id, OUTPUT)
        server.shutdown()
        if stack.wechat is not None:
            stack.wechat.stop()
    finally:
        moto.stop()
    print(f"wrote {OUTPUT.relative_to(template.ROOT)}")


if __name__ == "__main__":
    main()
