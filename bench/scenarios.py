"""Benchmark scenarios: each prepares data on a fresh emulated account and returns the call to time.

One row per API route and scheduled job of template.yaml (``target``: ``"METHOD /path"`` or
``"job:LogicalId"``; tests/unit/test_bench_coverage.py fails when one is missing). A new route or job
(issue 6 insights, issue 7 compensation scan) appends its ``Scenario`` to ``ALL``.

Setup calls the handlers with authorizer claims directly (the JWT check is the gateway's, not the function's),
so setup costs nothing a scenario measures. A scenario's baseline is the baseline handler (bench/baseline.py)
doing the same DynamoDB operations the route made, one small item each."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import Measurement
from tests.helpers.events import api_event, claims_for
from tests.helpers.payments import (
    PaymentsKit,
    alipay_body,
    alipay_params,
    sign_stripe,
    stripe_checkout_event,
    stripe_refund_event,
)
from tools.gateway import FunctionHost
from tools.local_stack import LocalStack

# The listing and reminder scan at two sizes: ×20 is the large size, ×1 = large / 20.
LISTING_PRODUCTS_X20 = 10_000
REMINDER_ACTIVE_TASKS_X20 = 200
REMINDER_DUE_TASKS = 3

Call = Callable[[], Any]


@dataclass
class Prepared:
    """What a scenario's setup hands back: the call to time and, for one-shot calls, an untimed ``prepare``."""

    call: Call
    prepare: Call | None = None


@dataclass
class BenchContext:
    stack: LocalStack
    functions: FunctionHost

    # ------------------------------------------------------------------ handler calls
    def route_call(self, function_id: str, method: str, path: str | Callable[[], str], *,
                   claims: dict[str, str] | Callable[[], dict[str, str]] | None = None, body: Any = None,
                   query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Call:
        """A call of the route's handler with a real-shaped proxy event (the authorizer already ran)."""

        def call() -> Any:
            the_path = path() if callable(path) else path
            the_claims = claims() if callable(claims) else claims
            the_body = body() if callable(body) else body
            event = api_event(method, the_path, body=the_body, claims=the_claims, query=query, headers=headers)
            result = self.functions.invoke(function_id, event)
            if result["statusCode"] >= 400:  # a measured error path would be a wrong number
                raise RuntimeError(f"{method} {the_path} -> {result['statusCode']}: {result.get('body')}")
            return result

        return call

    def invoke(self, method: str, path: str, claims: dict[str, str] | None, body: Any = None,
               query: dict[str, str] | None = None) -> Any:
        """Setup through the real handler; any status >= 400 is a broken setup."""
        route = next(r for r in self.stack.gateway.routes if r.method == method and r.pattern.match(path))
        result = self.functions.invoke(route.function_id,
                                       api_event(method, path, body=body, claims=claims, query=query))
        if result["statusCode"] >= 400:
            raise RuntimeError(f"setup {method} {path} -> {result['statusCode']}: {result.get('body')}")
        return json.loads(result["body"]) if result.get("body") else None

    def user(self, role: str) -> dict[str, str]:
        return claims_for(str(uuid.uuid4()), role)  # Cognito subs are UUIDs

    # ------------------------------------------------------------------ domain setup
    @property
    def admin(self) -> dict[str, str]:
        return claims_for("00000000-0000-4000-8000-00000000a0a0", "admin")

    def product(self, merchant: dict[str, str], tag: str = "standard") -> dict[str, Any]:
        return self.invoke("POST", "/merchant/products", merchant, product_body(tag))

    def promoter(self, tags: list[str] | None = None) -> dict[str, str]:
        claims = self.user("promoter")
        self.invoke("POST", "/promoter/profile", claims, {"display_name": "Bench", "phone": "+8613800000000"})
        if tags:
            self.invoke("PUT", f"/admin/promoters/{claims['sub']}/tags", self.admin, {"tags": tags})
        return claims

    def link(self, promoter: dict[str, str], product_id: str) -> dict[str, Any]:
        return self.invoke("POST", f"/promoter/tasks/{product_id}/links", promoter)

    def template(self, **overrides: Any) -> dict[str, Any]:
        return self.invoke("POST", "/admin/channel-task-templates", self.admin, {**TEMPLATE, **overrides})

    def payments(self) -> PaymentsKit:
        return PaymentsKit(self.stack)


TEMPLATE = {"channel": "wechat", "duration_hours": 72, "target_transactions": 1000, "target_promotions": 1000,
            "bonus_minor": 5000, "currency": "CNY", "reminder_threshold_hours": 5, "coupon_threshold": 2,
            "coupon_value_minor": 300}


def product_body(tag: str = "standard") -> dict[str, Any]:
    return {"title": "Hydrating serum", "category": "beauty/skincare", "price_minor": 10000, "currency": "CNY",
            "landing_url": "https://shop.example.com/serum", "description": "50 ml",
            "reward_rules": [{"promoter_tag": tag, "type": "percent", "value": 1000}]}


# ---------------------------------------------------------------- the scenario record
@dataclass
class Scenario:
    name: str
    kind: str  # route | job | hook | scale
    target: str  # "METHOD /path" of template.yaml, "job:LogicalId", or "hook:name"
    setup: Callable[[BenchContext], Prepared]
    budget: str = ""
    check: Callable[[dict[str, Any]], bool] | None = None
    same_as: str | None = None  # scale pair: requests and items read must equal this scenario's
    runs: int | None = None
    notes: str = ""
    baseline: bool = True

    def result(self, counts: dict[str, Any], p50: float, p95: float, baseline_p50: float | None) -> Measurement:
        return Measurement(
            name=self.name, kind=self.kind, requests=counts["requests"], items_read=counts["items_read"],
            scans=counts["scans"], p50_ms=round(p50, 3), p95_ms=round(p95, 3),
            baseline_p50_ms=round(baseline_p50, 3) if baseline_p50 else None, budget=self.budget,
            within_budget=self.check(counts) if self.check else None, notes=self.notes,
            operations=counts["operations"])


def at_most(requests: int, *, scans: bool = False) -> Callable[[dict[str, Any]], bool]:
    return lambda c: c["requests"] <= requests and (scans or c["scans"] == 0)


def no_scan(c: dict[str, Any]) -> bool:
    return c["scans"] == 0


# ---------------------------------------------------------------- identity and docs
def _me(ctx: BenchContext) -> Prepared:
    return Prepared(ctx.route_call("MeFunction", "GET", "/me", claims=claims_for("bench-user", "promoter")))


def _swagger(ctx: BenchContext) -> Prepared:
    return Prepared(ctx.route_call("SwaggerFunction", "GET", "/swagger"))


# ---------------------------------------------------------------- merchant products
def _create_product(ctx: BenchContext) -> Prepared:
    merchant = ctx.user("merchant")
    return Prepared(ctx.route_call("MerchantProductsFunction", "POST", "/merchant/products", claims=merchant,
                                   body=product_body()))


def _list_products(ctx: BenchContext) -> Prepared:
    merchant = ctx.user("merchant")
    for _ in range(25):
        ctx.product(merchant)
    return Prepared(ctx.route_call("MerchantProductsFunction", "GET", "/merchant/products", claims=merchant))


def _replace_rules(ctx: BenchContext) -> Prepared:
    merchant = ctx.user("merchant")
    product_id = ctx.product(merchant)["product_id"]
    rules = {"reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 1200},
                              {"promoter_tag": "gold", "type": "fixed", "value": 1500}]}
    return Prepared(ctx.route_call("MerchantProductsFunction", "PUT", f"/merchant/products/{product_id}/reward-rules",
                                   claims=merchant, body=rules))


def _toggle(action: str) -> Callable[[BenchContext], Prepared]:
    opposite = "resume" if action == "pause" else "pause"

    def setup(ctx: BenchContext) -> Prepared:
        merchant = ctx.user("merchant")
        product_id = ctx.product(merchant)["product_id"]
        return Prepared(
            ctx.route_call("MerchantProductsFunction", "POST", f"/merchant/products/{product_id}/{action}",
                           claims=merchant),
            prepare=lambda: ctx.invoke("POST", f"/merchant/products/{product_id}/{opposite}", merchant))

    return setup


# ---------------------------------------------------------------- promoters, links, clicks
def _register_profile(ctx: BenchContext) -> Prepared:
    return Prepared(ctx.route_call("PromoterFunction", "POST", "/promoter/profile", claims=lambda: ctx.user("promoter"),
                                   body={"display_name": "Lin", "phone": "+8613800000000"}))


def _set_tags(ctx: BenchContext) -> Prepared:
    promoter = ctx.promoter()
    return Prepared(ctx.route_call("AdminFunction", "PUT", f"/admin/promoters/{promoter['sub']}/tags",
                                   claims=ctx.admin, body={"tags": ["standard", "gold"]}))


def _listing(products: int) -> Callable[[BenchContext], Prepared]:
    def setup(ctx: BenchContext) -> Prepared:
        promoter = ctx.promoter()
        merchant = ctx.user("merchant")
        for _ in range(3):  # a personal history, so the personal coefficient reads something
            ctx.invoke("POST", f"/promoter/links/{ctx.link(promoter, ctx.product(merchant)['product_id'])['link_id']}"
                               "/shares", promoter, {"channel": "wechat"})
        bulk_products(products)  # last: every write into a large emulated table is slower
        return Prepared(ctx.route_call("PromoterFunction", "GET", "/promoter/tasks", claims=promoter,
                                       query={"sort": "combined", "limit": "20"}))

    return setup


def bulk_products(count: int) -> None:
    """``count`` active products with their task-index entries, written with BatchWriteItem (as the create
    route writes them, minus the per-product transaction) so the ×20 catalogue is affordable to build."""
    from tuishou import clock
    from tuishou.dal import catalog, dynamo
    from tuishou.ids import new_id
    from tuishou.logic.products import task_entries

    db, table = dynamo.client(), dynamo.table("catalog")
    merchant_id, now = "bench-bulk-merchant", clock.iso()
    requests: list[dict[str, Any]] = []
    for n in range(count):
        product = {**product_body(), "product_id": new_id("prd"), "merchant_id": merchant_id, "status": "active",
                   "created_at": now, "updated_at": now, "version": 1, "price_minor": 1000 + n % 5000}
        requests.append({"PutRequest": {"Item": catalog._product_item(product)}})
        for entry in task_entries(product, global_micros=(n * 7919) % 1_000_000):
            requests.append({"PutRequest": {"Item": catalog._entry_item(entry)}})
    for start in range(0, len(requests), 25):
        pending = {table: requests[start:start + 25]}
        while pending:
            pending = db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None


def _create_link(existing: bool) -> Callable[[BenchContext], Prepared]:
    def setup(ctx: BenchContext) -> Prepared:
        merchant, promoter = ctx.user("merchant"), ctx.promoter()
        product = {"id": ctx.product(merchant)["product_id"]}
        if existing:
            ctx.link(promoter, product["id"])
            return Prepared(ctx.route_call("PromoterFunction", "POST", f"/promoter/tasks/{product['id']}/links",
                                           claims=promoter))

        def fresh_product() -> None:
            product["id"] = ctx.product(merchant)["product_id"]

        return Prepared(ctx.route_call("PromoterFunction", "POST", lambda: f"/promoter/tasks/{product['id']}/links",
                                       claims=promoter), prepare=fresh_product)

    return setup


def _share(ctx: BenchContext) -> Prepared:
    merchant, promoter = ctx.user("merchant"), ctx.promoter()
    link = ctx.link(promoter, ctx.product(merchant)["product_id"])
    return Prepared(ctx.route_call("PromoterFunction", "POST", f"/promoter/links/{link['link_id']}/shares",
                                   claims=promoter, body={"channel": "weibo"}))


def _click(channel: str | None) -> Callable[[BenchContext], Prepared]:
    def setup(ctx: BenchContext) -> Prepared:
        merchant, promoter = ctx.user("merchant"), ctx.promoter()
        link = ctx.link(promoter, ctx.product(merchant)["product_id"])
        return Prepared(ctx.route_call("RedirectFunction", "GET", f"/l/{link['code']}",
                                       query={"ch": channel} if channel else None))

    return setup


def _ranking(products: int) -> Callable[[BenchContext], Prepared]:
    def setup(ctx: BenchContext) -> Prepared:
        bulk_products(products)
        return Prepared(lambda: ctx.stack.run_schedule("RankingRecalculationFunction"))

    return setup


# ---------------------------------------------------------------- payments
def _stripe_first(ctx: BenchContext) -> Prepared:
    kit, pending = ctx.payments(), {}

    def prepare() -> None:
        seeded = kit.seed_click()
        event = stripe_checkout_event(f"pi_{uuid.uuid4().hex[:16]}", 9900, click_id=seeded.click_id)
        pending["body"] = json.dumps(event).encode()

    return Prepared(_stripe_call(ctx, kit, pending), prepare)


def _stripe_call(ctx: BenchContext, kit: PaymentsKit, pending: dict[str, bytes]) -> Call:
    def call() -> Any:
        signature = sign_stripe(pending["body"], kit.provider.stripe_webhook_secret)
        return ctx.route_call("WebhookFunction", "POST", "/webhooks/stripe", body=pending["body"],
                              headers={"Stripe-Signature": signature})()

    return call


def _stripe_duplicate(ctx: BenchContext) -> Prepared:
    kit = ctx.payments()
    seeded = kit.seed_click()
    pending = {"body": json.dumps(stripe_checkout_event("pi_duplicate", 9900, click_id=seeded.click_id)).encode()}
    _stripe_call(ctx, kit, pending)()  # the first delivery; every timed call is a duplicate
    return Prepared(_stripe_call(ctx, kit, pending))


def _stripe_refund(ctx: BenchContext) -> Prepared:
    kit, pending = ctx.payments(), {}

    def prepare() -> None:
        seeded = kit.seed_click()
        payment_id = f"pi_{uuid.uuid4().hex[:16]}"
        paid = json.dumps(stripe_checkout_event(payment_id, 9900, click_id=seeded.click_id)).encode()
        _stripe_call(ctx, kit, {"body": paid})()
        pending["body"] = json.dumps(stripe_refund_event(payment_id, 3300, 9900)).encode()

    return Prepared(_stripe_call(ctx, kit, pending), prepare)


def _alipay_first(ctx: BenchContext) -> Prepared:
    kit, pending = ctx.payments(), {}

    def prepare() -> None:
        seeded = kit.seed_click()
        params = alipay_params(kit.provider.alipay_app_id, f"2024{uuid.uuid4().int % 10**20:020d}", "99.00",
                               seeded.click_id)
        pending["body"] = alipay_body(params, kit.provider.alipay_private_key_pem)

    def call() -> Any:
        return ctx.route_call("WebhookFunction", "POST", "/webhooks/alipay", body=pending["body"],
                              headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})()

    return Prepared(call, prepare)


def _settled_accounts(ctx: BenchContext) -> tuple[Any, PaymentsKit]:
    kit = ctx.payments()
    seeded = None
    for n in range(5):
        seeded = kit.seed_click(promoter_id=seeded.promoter_id if seeded else None,
                                merchant_id=seeded.merchant_id if seeded else None)
        body = json.dumps(stripe_checkout_event(f"pi_acct_{n}", 9900, click_id=seeded.click_id)).encode()
        _stripe_call(ctx, kit, {"body": body})()
    return seeded, kit


def _account(role: str) -> Callable[[BenchContext], Prepared]:
    def setup(ctx: BenchContext) -> Prepared:
        seeded, _ = _settled_accounts(ctx)
        if role == "admin":
            return Prepared(ctx.route_call("AccountsFunction", "GET", f"/admin/accounts/{seeded.promoter_id}",
                                           claims=ctx.admin))
        user_id = seeded.promoter_id if role == "promoter" else seeded.merchant_id
        return Prepared(ctx.route_call("AccountsFunction", "GET", f"/{role}/account",
                                       claims=claims_for(user_id, role)))

    return setup


def _unattributed(ctx: BenchContext) -> Prepared:
    kit = ctx.payments()
    for n in range(5):
        _stripe_call(ctx, kit, {"body": json.dumps(stripe_checkout_event(f"pi_un_{n}", 500)).encode()})()
    return Prepared(ctx.route_call("AccountsFunction", "GET", "/admin/payments/unattributed", claims=ctx.admin))


# ---------------------------------------------------------------- notifications
def _inbox(role: str) -> Callable[[BenchContext], Prepared]:
    def setup(ctx: BenchContext) -> Prepared:
        from tuishou.logic.notifications import notify

        user = ctx.user(role)
        for n in range(10):
            notify(user["sub"], "deadline_reminder", f"reminder {n}")
        return Prepared(ctx.route_call("NotificationsFunction", "GET", f"/{role}/notifications", claims=user))

    return setup


def _mark_read(ctx: BenchContext) -> Prepared:
    from tuishou.logic.notifications import notify

    user = ctx.user("promoter")
    sent = notify(user["sub"], "deadline_reminder", "2 sales to go, 5 h left")
    return Prepared(ctx.route_call("NotificationsFunction", "POST", f"/me/notifications/{sent.notification_id}/read",
                                   claims=user))


def _preferences(method: str) -> Callable[[BenchContext], Prepared]:
    def setup(ctx: BenchContext) -> Prepared:
        user = ctx.user("promoter")
        body = {"channels": ["inapp", "sms"]} if method == "PUT" else None
        return Prepared(ctx.route_call("NotificationsFunction", method, "/me/notification-preferences",
                                       claims=user, body=body))

    return setup


# ---------------------------------------------------------------- channel tasks
def _create_template(ctx: BenchContext) -> Prepared:
    return Prepared(ctx.route_call("ChannelTasksFunction", "POST", "/admin/channel-task-templates", claims=ctx.admin,
                                   body={**TEMPLATE, "channel": "douyin"}))


def _list_templates(ctx: BenchContext) -> Prepared:
    for channel in ("wechat", "weibo", "douyin", "qq", "sms"):
        ctx.template(channel=channel)
    return Prepared(ctx.route_call("ChannelTasksFunction", "GET", "/admin/channel-task-templates", claims=ctx.admin))


def _promoter_channel_tasks(ctx: BenchContext) -> Prepared:
    promoter = ctx.promoter()
    for channel in ("wechat", "weibo", "douyin"):
        template = ctx.template(channel=channel)
        ctx.invoke("POST", f"/promoter/channel-tasks/{template['template_id']}/accept", promoter)
    return Prepared(ctx.route_call("ChannelTasksFunction", "GET", "/promoter/channel-tasks", claims=promoter))


def _accept(ctx: BenchContext) -> Prepared:
    template = ctx.template()
    return Prepared(ctx.route_call("ChannelTasksFunction", "POST",
                                   f"/promoter/channel-tasks/{template['template_id']}/accept",
                                   claims=lambda: ctx.user("promoter")))


# ---------------------------------------------------------------- channel-task progress hooks (issue 5 budgets)
def _hook(kind: str, state: str) -> Callable[[BenchContext], Prepared]:
    """The share / settlement progress hook as the flow calls it. ``state``: ``active`` (a task counts on the
    channel), ``none-held`` (no task, the flow holds the promoter×channel counter item it just wrote),
    ``none-unread`` (no task, the hook must look)."""

    def setup(ctx: BenchContext) -> Prepared:
        from tuishou.logic import channel_tasks
        from tuishou.logic.ledger import grant_event

        promoter = ctx.user("promoter")
        if state == "active":
            template = ctx.template()
            ctx.invoke("POST", f"/promoter/channel-tasks/{template['template_id']}/accept", promoter)
        refs = itertools.count()

        def call() -> Any:
            at = datetime.now(UTC)
            active: Any = channel_tasks.UNREAD
            if state == "none-held":
                active = channel_tasks.active_task_from({"clicks": 3}, promoter["sub"], "wechat")
            if kind == "share":
                return channel_tasks.record_channel_promotion(promoter["sub"], "wechat", at, grant=grant_event,
                                                              event_ref=f"shr_{next(refs)}", active=active)
            return channel_tasks.record_channel_transaction(promoter["sub"], "wechat", at, f"stripe:pi_{next(refs)}",
                                                            grant=grant_event, active=active)

        return Prepared(call)

    return setup


# ---------------------------------------------------------------- reminder scan (issue 5 budget)
def _reminder_scan(active_tasks: int) -> Callable[[BenchContext], Prepared]:
    """``active_tasks`` tasks far from their reminder time and REMINDER_DUE_TASKS due ones; the scan runs 2 h
    after acceptance. A reminded task leaves the index, so ``prepare`` puts the due tasks back (untimed)."""

    def setup(ctx: BenchContext) -> Prepared:
        from tuishou.dal import dynamo, keys

        far = ctx.template(duration_hours=72)
        due = ctx.template(channel="weibo", duration_hours=6)
        for _ in range(active_tasks):
            ctx.invoke("POST", f"/promoter/channel-tasks/{far['template_id']}/accept", ctx.user("promoter"))
        due_keys = []
        for _ in range(REMINDER_DUE_TASKS):
            promoter = ctx.user("promoter")
            ctx.invoke("POST", f"/promoter/channel-tasks/{due['template_id']}/accept", promoter)
            due_keys.append(dynamo.key(*keys.channel_task(promoter["sub"], due["template_id"])))
        db, table = dynamo.client(), dynamo.table("users")
        snapshots = [db.get_item(TableName=table, Key=k, ConsistentRead=True)["Item"] for k in due_keys]
        at = datetime.now(UTC) + timedelta(hours=2)

        def prepare() -> None:
            for item in snapshots:
                db.put_item(TableName=table, Item=item)

        return Prepared(lambda: ctx.stack.run_schedule("DeadlineReminderFunction", at=at), prepare)

    return setup


def _reminder_check(c: dict[str, Any]) -> bool:
    # items read = due tasks (bucket Queries) + one live-progress GetItem each; nothing proportional to active tasks
    return c["scans"] == 0 and c["items_read"] <= 2 * REMINDER_DUE_TASKS


X1, X20 = LISTING_PRODUCTS_X20 // 20, LISTING_PRODUCTS_X20
R1, R20 = REMINDER_ACTIVE_TASKS_X20 // 20, REMINDER_ACTIVE_TASKS_X20

ALL: list[Scenario] = [
    Scenario("GET /me", "route", "GET /me", _me, "0 requests", lambda c: c["requests"] == 0),
    Scenario("GET /swagger", "route", "GET /swagger", _swagger, "0 requests", lambda c: c["requests"] == 0),
    # issue 3: products, profiles, the task list, links, shares, clicks
    Scenario("POST /merchant/products", "route", "POST /merchant/products", _create_product, "no Scan", no_scan),
    Scenario("GET /merchant/products (25 products)", "route", "GET /merchant/products", _list_products, "no Scan",
             no_scan),
    Scenario("PUT /merchant/products/{id}/reward-rules", "route", "PUT /merchant/products/{product_id}/reward-rules",
             _replace_rules, "no Scan", no_scan),
    Scenario("POST /merchant/products/{id}/pause", "route", "POST /merchant/products/{product_id}/pause",
             _toggle("pause"), "no Scan", no_scan),
    Scenario("POST /merchant/products/{id}/resume", "route", "POST /merchant/products/{product_id}/resume",
             _toggle("resume"), "no Scan", no_scan),
    Scenario("POST /promoter/profile", "route", "POST /promoter/profile", _register_profile, "no Scan", no_scan),
    Scenario("PUT /admin/promoters/{id}/tags", "route", "PUT /admin/promoters/{promoter_id}/tags", _set_tags,
             "no Scan", no_scan),
    Scenario(f"GET /promoter/tasks x1 ({X1:,} products)", "scale", "GET /promoter/tasks", _listing(X1),
             "<= 3 requests, no Scan", at_most(3), runs=10),
    Scenario(f"GET /promoter/tasks x20 ({X20:,} products)", "scale", "GET /promoter/tasks", _listing(X20),
             "<= 3 requests, no Scan, same requests and items read as x1", at_most(3),
             same_as=f"GET /promoter/tasks x1 ({X1:,} products)", runs=10),
    Scenario("POST /promoter/tasks/{id}/links (new)", "route", "POST /promoter/tasks/{product_id}/links",
             _create_link(existing=False), "no Scan", no_scan),
    Scenario("POST /promoter/tasks/{id}/links (existing)", "route", "POST /promoter/tasks/{product_id}/links",
             _create_link(existing=True), "no Scan", no_scan),
    Scenario("POST /promoter/links/{id}/shares", "route", "POST /promoter/links/{link_id}/shares", _share,
             "no Scan", no_scan,
             notes="the channel-task progress hook is not wired into this route yet (see hook rows)"),
    Scenario("GET /l/{code}", "route", "GET /l/{code}", _click(None), "<= 2 requests", at_most(2)),
    Scenario("GET /l/{code}?ch=wechat", "route", "GET /l/{code}", _click("wechat"), "<= 2 requests", at_most(2),
             notes="coupon eligibility (+1 GetItem for channel-marked clicks) is not wired into the route yet"),
    Scenario(f"job: ranking recalculation ({X1:,} products)", "job", "job:RankingRecalculationFunction",
             _ranking(X1), "off the request path; reads the catalogue once", None, runs=2),
    # issue 4: payments, ledger, accounts
    Scenario("POST /webhooks/stripe (first delivery)", "route", "POST /webhooks/{provider}", _stripe_first,
             "<= 4 requests", at_most(4)),
    Scenario("POST /webhooks/stripe (duplicate)", "route", "POST /webhooks/{provider}", _stripe_duplicate,
             "<= 2 requests, no ledger write",
             lambda c: c["requests"] <= 2 and not ({"TransactWriteItems", "PutItem", "UpdateItem", "BatchWriteItem"}
                                                   & set(c["operations"]))),
    Scenario("POST /webhooks/stripe (refund)", "route", "POST /webhooks/{provider}", _stripe_refund, "no Scan",
             no_scan),
    Scenario("POST /webhooks/alipay (first delivery)", "route", "POST /webhooks/{provider}", _alipay_first,
             "<= 4 requests", at_most(4)),
    Scenario("GET /promoter/account", "route", "GET /promoter/account", _account("promoter"), "no Scan", no_scan),
    Scenario("GET /merchant/account", "route", "GET /merchant/account", _account("merchant"), "no Scan", no_scan),
    Scenario("GET /admin/accounts/{user_id}", "route", "GET /admin/accounts/{user_id}", _account("admin"),
             "no Scan", no_scan),
    Scenario("GET /admin/payments/unattributed", "route", "GET /admin/payments/unattributed", _unattributed,
             "no Scan", no_scan),
    # issue 5: notifications, channel tasks, hooks, reminders
    Scenario("GET /promoter/notifications", "route", "GET /promoter/notifications", _inbox("promoter"), "no Scan",
             no_scan),
    Scenario("GET /merchant/notifications", "route", "GET /merchant/notifications", _inbox("merchant"), "no Scan",
             no_scan),
    Scenario("POST /me/notifications/{id}/read", "route", "POST /me/notifications/{notification_id}/read",
             _mark_read, "no Scan", no_scan),
    Scenario("GET /me/notification-preferences", "route", "GET /me/notification-preferences", _preferences("GET"),
             "no Scan", no_scan),
    Scenario("PUT /me/notification-preferences", "route", "PUT /me/notification-preferences", _preferences("PUT"),
             "no Scan", no_scan),
    Scenario("POST /admin/channel-task-templates", "route", "POST /admin/channel-task-templates", _create_template,
             "no Scan", no_scan),
    Scenario("GET /admin/channel-task-templates", "route", "GET /admin/channel-task-templates", _list_templates,
             "no Scan", no_scan),
    Scenario("GET /promoter/channel-tasks", "route", "GET /promoter/channel-tasks", _promoter_channel_tasks,
             "no Scan", no_scan),
    Scenario("POST /promoter/channel-tasks/{id}/accept", "route", "POST /promoter/channel-tasks/{template_id}/accept",
             _accept, "no Scan", no_scan),
    Scenario("hook: share progress (active task)", "hook", "hook:share", _hook("share", "active"),
             "<= 2 extra requests", at_most(2), baseline=False),
    Scenario("hook: share progress (no task, counter item held)", "hook", "hook:share", _hook("share", "none-held"),
             "0 requests without an active task", lambda c: c["requests"] == 0, baseline=False),
    Scenario("hook: share progress (no task, not held)", "hook", "hook:share", _hook("share", "none-unread"),
             "0 requests without an active task", lambda c: c["requests"] == 0, baseline=False,
             notes="1 GetItem when the caller does not pass the counter item it wrote"),
    Scenario("hook: settlement progress (active task)", "hook", "hook:settlement",
             _hook("settlement", "active"), "<= 2 extra requests", at_most(2), baseline=False),
    Scenario("hook: settlement progress (no task, counter item held)", "hook", "hook:settlement",
             _hook("settlement", "none-held"), "0 requests without an active task",
             lambda c: c["requests"] == 0, baseline=False),
    Scenario(f"job: reminder scan x1 ({R1} active, {REMINDER_DUE_TASKS} due)", "scale", "job:DeadlineReminderFunction",
             _reminder_scan(R1), f"items read ~ tasks due ({REMINDER_DUE_TASKS}), no Scan", _reminder_check, runs=10),
    Scenario(f"job: reminder scan x20 ({R20} active, {REMINDER_DUE_TASKS} due)", "scale",
             "job:DeadlineReminderFunction", _reminder_scan(R20),
             f"items read ~ tasks due ({REMINDER_DUE_TASKS}), same as x1", _reminder_check,
             same_as=f"job: reminder scan x1 ({R1} active, {REMINDER_DUE_TASKS} due)", runs=10),
    # TODO(issue 6): "job:MerchantInsightsFunction" at x1 and x20, and its routes
    #   (PUT/DELETE /merchant/products/{product_id}/promoter-rewards/{promoter_id},
    #   GET /merchant/products/{product_id}/stats) - append rows when the functions exist; no numbers until then.
    # TODO(issue 7): "job:CompensationScanFunction" at x1 and x20 (items read <= 1.2 x events + c), and the
    #   /admin/fault-windows, /admin/scans/{scan_id}, /admin/compensations, /promoter/compensations,
    #   /promoter/invites, /admin/users/{user_id}/block routes.
]


def targets() -> set[str]:
    return {s.target for s in ALL}
