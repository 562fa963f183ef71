"""The console's journeys in a real browser: a merchant publishes a product, watches a sale reach the
stats charts and finds it in the month's statement; a raise-reward hint is applied from the inbox and the
promoter's listing shows the new reward; an administrator approves a held commission."""

from __future__ import annotations

import csv
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.api import User
from tests.helpers.insights import run_job
from tests.helpers.payments import sign_stripe, stripe_checkout_event
from tests.helpers.tasks import create_product, link_for, promoter
from tools.local_stack import LocalStack


def http(base: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """A request over the loopback HTTP server, as a visitor's browser or Stripe sends it (no redirects)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(f"{base}{path}", data=body, method=method, headers=headers or {})
    try:
        return urllib.request.build_opener(NoRedirect).open(request)
    except urllib.error.HTTPError as answer:  # a 302 or an error: the answer itself
        return answer


def sale(base: str, stack: LocalStack, code: str, amount_minor: int) -> None:
    """A visitor clicks the tracking link, pays, and Stripe sends the signed webhook for it."""
    redirect = http(base, "GET", f"/l/{code}?ch=wechat", headers={"User-Agent": f"Mozilla/5.0 ({uuid.uuid4().hex})"})
    assert redirect.status == 302
    click_id = parse_qs(urlsplit(redirect.headers["Location"]).query)["tsclid"][0]
    assert stack.provider is not None
    event = stripe_checkout_event(f"pi_{uuid.uuid4().hex[:16]}", amount_minor, click_id=click_id)
    body = json.dumps(event).encode()
    signature = sign_stripe(body, stack.provider.stripe_webhook_secret)
    answer = http(
        base, "POST", "/webhooks/stripe", body, {"Content-Type": "application/json", "Stripe-Signature": signature}
    )
    assert answer.status == 200, answer.read()


def decimal_of(minor: int) -> str:
    """A positive CNY amount as the statement writes it (``9950`` -> ``99.50``)."""
    return f"{minor // 100}.{minor % 100:02d}"


def test_merchant_publishes_a_product_and_the_stats_chart_shows_its_sale_and_statement(console, api, stack):
    # Given a merchant signed in to the console
    signed_in = console.sign_in("tea-shop", "merchant")
    console.go("products", ready="[data-testid=create-product]")
    # When they publish a product with a reward rule for the standard tag
    form = console.page.get_by_test_id("create-product")
    form.locator("[name=title]").fill("Longjing tea")
    form.locator("[name=category]").fill("food/tea")
    form.locator("[name=price]").fill("99.50")
    form.locator("[name=landing_url]").fill("https://shop.example.com/longjing")
    console.page.get_by_test_id("publish").click()
    # Then it is listed as active at its price
    product_link = console.page.get_by_test_id("products").get_by_role("link", name="Longjing tea")
    product_link.wait_for()
    assert "CN¥99.50" in console.page.get_by_test_id("products").inner_text()
    product_id = product_link.get_attribute("href").rsplit("/", 1)[1]
    console.remember("products-published")
    # When a promoter's link brings a sale (a signed Stripe webhook) and the counters are derived
    seller = promoter(api)
    sale(console.base, stack, link_for(api, seller, product_id)["code"], 9950)
    stack.drain_streams()
    # Then the product's stats show it: the sales chart has today's bar, revenue and commission add up
    console.go(f"products/{product_id}", ready="[data-testid=stats] svg[data-metric=transactions]")
    today = datetime.now(UTC).date().isoformat()
    sales_bar = console.page.locator(f"svg[data-metric=transactions] rect[data-label='{today}']")
    assert sales_bar.get_attribute("data-value") == "1"
    assert int(sales_bar.get_attribute("height")) > 0
    assert console.page.locator("svg[data-metric=revenue_minor]").get_attribute("data-total") == "9950"
    assert console.page.get_by_test_id("total-transactions").inner_text().endswith("1")
    assert "CN¥99.50" in console.page.get_by_test_id("total-revenue_minor").inner_text()
    assert "CN¥9.95" in console.page.get_by_test_id("total-commission_minor").inner_text()
    assert seller.sub in console.page.get_by_test_id("stats").inner_text()  # top promoters
    # When the merchant downloads this month's statement (the month of their time zone, the page's default)
    console.go("statements", ready="[data-testid=download-statement]")
    with console.page.expect_download() as downloading:
        console.page.get_by_test_id("download-statement").click()
    statement = downloading.value
    assert (
        console.page.get_by_test_id("statement-rows").inner_text() == "Entry rows in the statement: 1."
    )  # the sale's revenue
    console.remember("statement-downloaded")
    # Then it is the server's CSV under the server's file name, with the sale's revenue credited pending
    month = console.page.locator("[name=month]").input_value()
    assert statement.suggested_filename == f"tuishou-statement-{month}.csv"
    with open(statement.path(), newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    merchant = User(signed_in["sub"], signed_in["id_token"], "merchant", signed_in["username"])
    account = api.get("/merchant/account", as_user=merchant)
    assert account.status == 200, account.text
    [revenue] = [e for e in account.json()["entries"] if e["kind"] == "sale_revenue"]
    assert [
        (r["currency"], r["kind"], r["reference"], r["state"], r["amount"]) for r in rows if r["kind"] == "sale_revenue"
    ] == [("CNY", "sale_revenue", revenue["reference"], "pending", decimal_of(revenue["amount_minor"]))]


def test_a_raise_reward_hint_is_applied_and_the_promoters_listing_shows_the_new_reward(
    console, api, stack, monkeypatch
):
    # Given a merchant of the console, two products paying 10 %, and a promoter who sells mostly kitchenware
    # (3 woks) and also 2 serums: the serum is far from their first category, so a raise is suggested
    signed_in = console.sign_in("serum-shop", "merchant")
    merchant = User(signed_in["sub"], signed_in["id_token"], "merchant", signed_in["username"])
    wok = create_product(api, merchant, title="Wok", category="home/kitchen", price_minor=5000)
    serum = create_product(api, merchant, title="Serum", category="beauty/skincare", price_minor=5000)
    seller = promoter(api)
    for product, sales in ((wok, 3), (serum, 2)):
        code = link_for(api, seller, product["product_id"])["code"]
        for _ in range(sales):
            sale(console.base, stack, code, 5000)
    stack.drain_streams()
    # And the daily insights job, with "more than 1 sale" as its hint threshold, hinted at raising the reward
    monkeypatch.setenv("TUISHOU_INSIGHTS_HINT_SALES_ABOVE", "1")
    tomorrow = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(days=1)
    run_job(stack, tomorrow)
    # When the merchant applies the suggested reward from the inbox
    console.go("inbox", ready="[data-testid=apply-hint]")
    hint = console.page.locator("li[data-kind=raise_reward_hint]")
    assert "12%" in hint.get_by_test_id("apply-hint").inner_text()
    hint.get_by_test_id("apply-hint").click()
    hint.locator(".notice").wait_for()
    console.remember("inbox-applied")
    # Then the promoter's task listing shows the new reward and its estimated commission
    listing = api.get("/promoter/tasks", as_user=seller)
    assert listing.status == 200, listing.text
    [task] = [t for t in listing.json()["items"] if t["product_id"] == serum["product_id"]]
    assert (task["reward"]["type"], task["reward"]["value"]) == ("percent", 1200)
    assert task["estimated_commission_minor"] == 600


def test_an_admin_approves_a_held_commission(console, api, stack):
    # Given a sale paid at more than ten times the product's price: its commission is held for review
    merchant = api.user("merchant")
    product = create_product(api, merchant, title="Kettle", price_minor=1000)
    seller = promoter(api)
    sale(console.base, stack, link_for(api, seller, product["product_id"])["code"], 20000)
    stack.drain_streams()
    # When an administrator approves it in the review queue
    console.sign_in("ops", "admin")
    console.go("admin/reviews", ready="[data-testid=reviews], main p.muted, main .error")
    row = console.page.get_by_test_id("reviews").locator("tr", has_text=seller.sub)
    row.get_by_test_id("approve").click()
    row.wait_for(state="detached")  # the open queue is shown again, without it
    console.remember("reviews-approved")
    # Then the promoter's commission is granted
    granted = api.get("/promoter/commissions", as_user=seller, query={"status": "granted"})
    assert granted.status == 200, granted.text
    assert [c["product_id"] for c in granted.json()["items"]] == [product["product_id"]]
