"""The daily MerchantInsightsFunction: low-performance alerts and raise-reward hints at their threshold
edges, dedup across runs and periods, and its reads as a function of active tasks (not history)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.helpers.insights import click, inbox, pay, record_activity, run_job
from tests.helpers.tasks import create_product, link_for, promoter
from tuishou.dal.keys import ACTIVE_TASK_SHARDS, merchant_shard


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Runs on Wednesday 2030-01-09: window = 2030-01-02 .. 2030-01-08, period = the ISO week from 2030-01-07.
RUN = at("2030-01-09T02:00:00")
IN_WINDOW, BEFORE_WINDOW, RUN_DAY = at("2030-01-08T12:00:00"), at("2030-01-01T12:00:00"), at("2030-01-09T01:00:00")


@pytest.fixture
def published(api):
    """Products published well before the window (2029-12-20), by the merchant this returns."""
    with time_machine.travel("2029-12-20T10:00:00Z", tick=True):
        merchant = api.user("merchant")

        def publish(title: str, category: str = "home/kitchen", price_minor: int = 10000) -> dict:
            return create_product(api, merchant, title=title, category=category, price_minor=price_minor)

        seller = promoter(api)
        yield merchant, publish, seller


def test_low_performance_alerts_at_the_thresholds(api, stack, published):
    merchant, publish, seller = published
    # Given (thresholds: fewer than 3 sales, fewer than 5 promotions in the 7 complete days before the run)
    two, three, four = publish("Two sales"), publish("Three sales"), publish("Four sales")
    for product, sales in ((two, 2), (three, 3), (four, 4)):
        record_activity(product, seller.sub, IN_WINDOW, sales=sales, promotions=5)
    # sales outside the window do not count: 2 inside + 1 the day before + 1 on the run day -> still low
    outside = publish("Sales outside the window")
    record_activity(outside, seller.sub, IN_WINDOW, sales=2, promotions=5)
    record_activity(outside, seller.sub, BEFORE_WINDOW, sales=1, promotions=1)
    record_activity(outside, seller.sub, RUN_DAY, sales=1, promotions=1)
    promos4, promos5 = publish("Four promotions"), publish("Five promotions")
    record_activity(promos4, seller.sub, IN_WINDOW, sales=3, promotions=4)
    record_activity(promos5, seller.sub, IN_WINDOW, sales=3, promotions=5)
    with time_machine.travel("2030-01-05T10:00:00Z", tick=True):  # published inside the window: too new
        create_product(api, api.user("merchant"), title="Brand new")
    # When the daily job runs
    result = run_job(stack, RUN)
    # Then the merchant gets one alert per kind listing exactly the tasks below each threshold
    alerts = {a["data"]["signal"]: a for a in inbox(merchant.sub, "low_performance")}
    assert set(alerts) == {"low_transactions", "low_promotions"}
    low_tx = alerts["low_transactions"]["data"]
    assert [(t["title"], t["transactions"]) for t in low_tx["tasks"]] == sorted(
        [("Two sales", 2), ("Sales outside the window", 2)], key=lambda t: (t[1], _pid(t[0], two, outside))
    )
    assert (low_tx["threshold"], low_tx["first_day"], low_tx["last_day"]) == (3, "2030-01-02", "2030-01-08")
    low_promotions = alerts["low_promotions"]["data"]["tasks"]
    assert [(t["title"], t["promotions"]) for t in low_promotions] == [("Four promotions", 4)]
    assert "Two sales (2)" in alerts["low_transactions"]["text"]
    # And the merchant's inbox route renders them
    response = api.get("/merchant/notifications", as_user=merchant)
    assert response.status == 200, response.text
    assert {i["data"]["signal"] for i in response.json()["items"]} == {"low_transactions", "low_promotions"}
    assert result["alerts_sent"] == 2 and result["hints_sent"] == 0
    assert {n["recipient"] for n in stack.notifications() if n["kind"] == "low_performance"} == {merchant.sub}


def _pid(title: str, two: dict, outside: dict) -> str:
    return two["product_id"] if title == "Two sales" else outside["product_id"]


def test_raise_reward_hints_at_the_thresholds(api, stack, published):
    merchant, publish, p = published
    # Given promoter P whose first category is home/kitchen (20 sales there)
    kitchen = publish("Wok", "home/kitchen")
    record_activity(kitchen, p.sub, IN_WINDOW, sales=20)
    skincare, makeup, garden = (
        publish("Serum", "beauty/skincare"),
        publish("Lipstick", "beauty/makeup"),
        publish("Rake", "home/garden"),
    )
    record_activity(skincare, p.sub, IN_WINDOW, sales=6)  # relevance 0, 6 > 5 sales -> hint
    record_activity(makeup, p.sub, IN_WINDOW, sales=5)  # relevance 0, exactly 5 sales -> no hint
    record_activity(garden, p.sub, IN_WINDOW, sales=7)  # relevance exactly 0.5 -> no hint
    # And promoter Q whose first category is home/kitchen/pots, selling home/garden: relevance 1/3
    with time_machine.travel("2029-12-20T10:05:00Z", tick=True):
        q = promoter(api)
    pots = publish("Pot", "home/kitchen/pots")
    record_activity(pots, q.sub, BEFORE_WINDOW, sales=10)  # history counts for the first category
    record_activity(garden, q.sub, IN_WINDOW, sales=6)
    # When the job runs
    result = run_job(stack, RUN)
    # Then exactly the two qualifying pairs are hinted, with who, sales, current and suggested reward
    hints = sorted((h["data"] for h in inbox(merchant.sub, "raise_reward_hint")), key=lambda d: d["title"])
    assert [(h["title"], h["promoter_id"], h["sales"], h["relevance"]) for h in hints] == [
        ("Rake", q.sub, 6, "0.3333"),
        ("Serum", p.sub, 6, "0.0000"),
    ]
    serum = hints[1]
    assert serum["first_category"] == "home/kitchen" and serum["task_category"] == "beauty/skincare"
    assert serum["current_reward"] == {"type": "percent", "value": 1000, "source": "tag_rule"}
    assert serum["suggested_reward"] == {"type": "percent", "value": 1200}
    assert (serum["current_commission_minor"], serum["suggested_commission_minor"]) == (1000, 1200)
    assert serum["promoter_name"] == "Lin" and result["hints_sent"] == 2
    # And the merchant's inbox route renders the hints, nested rewards included
    response = api.get("/merchant/notifications", as_user=merchant)
    assert response.status == 200, response.text
    rendered = {i["data"]["title"]: i["data"] for i in response.json()["items"] if i["kind"] == "raise_reward_hint"}
    assert rendered["Serum"]["suggested_reward"] == {"type": "percent", "value": 1200}


def test_hint_shows_the_override_in_force_and_comes_from_real_sales(api, stack, payments, monkeypatch):
    with time_machine.travel("2030-01-08T10:00:00Z", tick=True):
        # Given P's real sales through signed webhooks: 3 in home/kitchen, 2 of a beauty/skincare serum, and a
        # merchant who reads English
        merchant = api.user("merchant")
        assert api.patch("/me", {"locale": "en"}, as_user=merchant).status == 200
        kitchen = create_product(api, merchant, title="Wok", category="home/kitchen")
        serum = create_product(api, merchant, title="Serum", category="beauty/skincare")
        p = promoter(api)
        kitchen_link, serum_link = link_for(api, p, kitchen["product_id"]), link_for(api, p, serum["product_id"])
        for _ in range(3):
            pay(payments, click(api, kitchen_link["code"]), 5000)
        for _ in range(2):
            pay(payments, click(api, serum_link["code"]), 5000)
        stack.drain_streams()  # sales are counted (per-day aggregates, categories) by the ledger stream
        path = f"/merchant/products/{serum['product_id']}/promoter-rewards/{p.sub}"
        assert api.put(path, {"type": "fixed", "value": 700}, as_user=merchant).status == 200
    # When the job runs with "more than 1 sale" as the hint threshold (configuration)
    monkeypatch.setenv("TUISHOU_INSIGHTS_HINT_SALES_ABOVE", "1")
    run_job(stack, RUN)
    # Then the hint names the override as the current reward and suggests +20 %
    [hint] = inbox(merchant.sub, "raise_reward_hint")
    assert hint["data"]["sales"] == 2 and hint["data"]["first_category"] == "home/kitchen"
    assert hint["data"]["current_reward"] == {"type": "fixed", "value": 700, "source": "promoter_override"}
    assert hint["data"]["suggested_reward"] == {"type": "fixed", "value": 840}
    assert "¥7.00 per sale" in hint["text"] and "¥8.40 per sale" in hint["text"]


def test_each_signal_is_sent_once_per_period_and_again_the_next_period(api, stack, published):
    merchant, publish, p = published
    kitchen, serum = publish("Wok", "home/kitchen"), publish("Serum", "beauty/skincare")
    record_activity(kitchen, p.sub, IN_WINDOW, sales=20)
    record_activity(serum, p.sub, IN_WINDOW, sales=6)
    # Given the first run sent a hint and the low-promotions alert (no promotions at all)
    first = run_job(stack, RUN)
    assert (first["hints_sent"], first["alerts_sent"]) == (1, 1)
    # When it runs again (a retry, or the next day in the same period)
    again = run_job(stack, RUN)
    next_day = run_job(stack, at("2030-01-10T02:00:00"))
    # Then nothing more is sent
    assert (again["hints_sent"], again["alerts_sent"], again["already_sent"]) == (0, 0, 2)
    assert (next_day["hints_sent"], next_day["alerts_sent"]) == (0, 0)
    assert len(inbox(merchant.sub)) == 2
    # When the next period starts (Monday 2030-01-14; 2030-01-08 is still in its window)
    later = run_job(stack, at("2030-01-14T02:00:00"))
    # Then each signal is sent once more
    assert (later["hints_sent"], later["alerts_sent"]) == (1, 1)
    assert len(inbox(merchant.sub, "raise_reward_hint")) == 2


def test_a_stale_claim_is_sent_by_a_later_run_and_a_fresh_one_is_not(api, stack, published):
    from tuishou.dal import insights as insights_dal

    merchant, publish, p = published
    record_activity(publish("Quiet"), p.sub, IN_WINDOW, sales=1, promotions=9)
    # Given another run claimed the low-transactions alert a minute ago (and is still sending)
    insights_dal.claim_marker(
        merchant.sub, "2030-01-07", "low_transactions", "all", "2030-01-09T01:59:00.000Z", "2030-01-09T01:39:00.000Z"
    )
    with time_machine.travel(RUN, tick=False):
        assert run_job(stack, RUN)["alerts_sent"] == 0
    # When that run died: 20 minutes later its claim is stale and this run sends the alert
    with time_machine.travel(at("2030-01-09T02:20:00"), tick=False):
        assert run_job(stack, RUN)["alerts_sent"] == 1
    assert len(inbox(merchant.sub, "low_performance")) == 1


def _job_reads(stack, dynamo_calls, when: datetime) -> tuple[int, int]:
    dynamo_calls.clear()
    run_job(stack, when)
    reads = [(op, items) for op, items in dynamo_calls if op == "Query"]
    return len(reads), sum(items for _, items in reads)


@pytest.mark.slow
def test_job_reads_depend_on_active_tasks_and_window_activity_not_on_catalogue_or_history(
    api, stack, published, dynamo_calls
):
    merchant, publish, p = published
    active = [publish(f"Active {i}") for i in range(5)]
    for product in active:
        record_activity(product, p.sub, IN_WINDOW, sales=1, clicks=1, promotions=1)
    # Given 5 active tasks with one sale, click and share each in the window (one aggregate item per task)
    small = _job_reads(stack, dynamo_calls, RUN)
    # When the catalogue grows by 30 paused products and every product gets 40 days of older history
    for i in range(30):
        paused = publish(f"Paused {i}")
        assert api.post(f"/merchant/products/{paused['product_id']}/pause", as_user=merchant).status == 200
        record_activity(paused, p.sub, IN_WINDOW, sales=3)
    for product in active:
        for day in range(2, 6):
            record_activity(product, p.sub, at(f"2029-12-{day * 5:02d}T12:00:00"), sales=2, clicks=2)
    large = _job_reads(stack, dynamo_calls, at("2030-01-09T03:00:00"))
    # Then the job reads exactly as much: 1 index Query per merchant shard (one item per active task; the
    # job fans out one invocation per shard) + 1 Query per active task returning its window's aggregate
    # items (one per promoter and day)
    assert small == large == (ACTIVE_TASK_SHARDS + 5, 5 + _window_items(active))
    # And doubling the active tasks doubles the per-task reads
    for i in range(5):
        product = publish(f"More {i}")
        active.append(product)
        record_activity(product, p.sub, IN_WINDOW, sales=1, clicks=1, promotions=1)
    doubled = (ACTIVE_TASK_SHARDS + 10, 10 + _window_items(active))
    assert _job_reads(stack, dynamo_calls, at("2030-01-09T04:00:00")) == doubled


def _window_items(products: list[dict]) -> int:
    from tuishou.dal import insights as insights_dal

    aggregates = [
        a for p in products for a in insights_dal.window_aggregates(p["product_id"], "2030-01-02", "2030-01-08")
    ]
    return sum(1 for a in aggregates if a.scope == "promoter")  # one item each (its channels ride on it)


def _signals(notifications: list[dict]) -> list[tuple[str, str, str, str]]:
    return sorted((n["merchant_id"], n["kind"], n["signal"], n["subject"]) for n in notifications)


def test_the_fanned_out_job_adds_up_to_one_run_over_every_task(api, stack, monkeypatch):
    from tuishou.logic import insights

    # Given three merchants with three tasks each and a promoter whose first category is home/kitchen
    with time_machine.travel("2029-12-20T10:00:00Z", tick=True):
        merchants = [api.user("merchant") for _ in range(3)]
        seller = promoter(api)
        catalogue = {
            m.sub: [
                create_product(api, m, title=f"{n}-{c}", category=c)
                for c in ("home/kitchen", "beauty/skincare", "home/garden")
            ]
            for n, m in enumerate(merchants)
        }
    # And the same activity in two consecutive weekly windows: few sales (alerts), and 6 skincare sales
    # outside the promoter's category (a hint)
    for when in (IN_WINDOW, at("2030-01-15T12:00:00")):
        for n, (kitchen, skincare, garden) in enumerate(catalogue.values()):
            record_activity(kitchen, seller.sub, when, sales=20, promotions=10)
            record_activity(skincare, seller.sub, when, sales=6 - n, promotions=n)
            record_activity(garden, seller.sub, when, sales=n)
    # When one run reads every shard in this process for one week, and the job fans out the next week, in
    # pages of two tasks (a page never splits a merchant, so each page here holds one merchant's three)
    monkeypatch.setenv("TUISHOU_INSIGHTS_TASKS_PER_INVOCATION", "2")
    single = insights.run(RUN)
    fanned = run_job(stack, at("2030-01-16T02:00:00"))
    # Then the fanned-out pages add up to the single run: same tasks, same signals to the same merchants
    # (one page per shard, and one more for each further merchant in a shard: merchant ids are random, so two
    # of the three may share one)
    sharing = len(merchants) - len({merchant_shard(m.sub) for m in merchants})
    assert fanned["shards"] == ACTIVE_TASK_SHARDS and fanned["pages"] == ACTIVE_TASK_SHARDS + sharing
    assert (fanned["active_tasks"], fanned["alerts_sent"], fanned["hints_sent"]) == (
        single.active_tasks,
        single.alerts_sent,
        single.hints_sent,
    )
    assert _signals(fanned["notifications"]) == _signals(single.notifications)
    assert single.active_tasks == 9 and single.alerts_sent > 0 and single.hints_sent > 0
    # And each merchant's alert lists the same tasks both weeks
    for merchant in merchants:
        weeks = {}
        for alert in inbox(merchant.sub, "low_performance"):
            weeks.setdefault(alert["data"]["first_day"], []).append(
                (alert["data"]["signal"], [t["product_id"] for t in alert["data"]["tasks"]])
            )
        assert len(weeks) == 2 and sorted(weeks["2030-01-02"]) == sorted(weeks["2030-01-09"])
