"""The authorization matrix: every route of template.yaml × {anonymous, promoter, other promoter, merchant,
other merchant, admin} with the status each must get, through the local gateway (real Cognito tokens).

"promoter" and "merchant" own the resources in the paths (a product, a link, a notification); the "other"
ones hold the same role but own nothing there. A new route appends one row to MATRIX; a route of the
template with no row fails ``test_every_template_route_has_a_row``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.tasks import create_product, link_for, product_body, promoter
from tools import template

ROLES = ("anonymous", "promoter", "other_promoter", "merchant", "other_merchant", "admin")
TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24,
    "target_transactions": 3,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
    "coupon_threshold": 1,
    "coupon_value_minor": 300,
}
REMINDER = {
    "task_id": "ctk_1",
    "template_id": "ctt_1",
    "channel": "wechat",
    "deadline": "2030-01-02T08:00:00.000Z",
    "remaining_transactions": 1,
}
ALIPAY_METHOD = {"type": "alipay", "account": "13812345678", "real_name": "林小红"}
STRIPE_METHOD = {"type": "stripe", "connected_account_id": "acct_1Nv0FGQ9RKHgCVdK"}
FAULT_WINDOW = {
    "start": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
    "end": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
    "reason": "matrix",
}

UNKNOWN_REVIEW = "rev_0123456789abcdefghjk"
SELLER = {"alipay_seller_id": "2088000000000001"}


@dataclass(frozen=True)
class Row:
    """``path`` may hold {product_id}, {link_id}, {code}, {promoter_id}, {user_id}, {notification_id},
    {template_id}, {scan_id}, {device_id}, {coupon_code}: the resources of "promoter" / "merchant" (and the
    admin's scan)."""

    route: str  # "METHOD /template/path"
    path: str
    expected: tuple[int, int, int, int, int, int]  # in ROLES order
    body: Any = None


MATRIX: list[Row] = [
    #   route                                                  anon promoter other  merch  other  admin
    Row("GET /swagger", "/swagger", (200, 200, 200, 200, 200, 200)),
    Row("GET /me", "/me", (401, 200, 200, 200, 200, 200)),
    Row("PATCH /me", "/me", (401, 200, 200, 200, 200, 200), {"locale": "en"}),
    Row("POST /merchant/products", "/merchant/products", (401, 403, 403, 201, 201, 403), product_body()),
    Row("GET /merchant/products", "/merchant/products", (401, 403, 403, 200, 200, 403)),
    Row(
        "PUT /merchant/products/{product_id}/reward-rules",
        "/merchant/products/{product_id}/reward-rules",
        (401, 403, 403, 200, 404, 403),
        {"reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 1000}]},
    ),
    Row(
        "PATCH /merchant/products/{product_id}",
        "/merchant/products/{product_id}",
        (401, 403, 403, 200, 404, 403),
        {"holding_days": 7},
    ),
    Row(
        "POST /merchant/products/{product_id}/pause",
        "/merchant/products/{product_id}/pause",
        (401, 403, 403, 200, 404, 403),
    ),
    Row(
        "POST /merchant/products/{product_id}/resume",
        "/merchant/products/{product_id}/resume",
        (401, 403, 403, 200, 404, 403),
    ),
    # both promoters already registered: 409 proves the role check passed
    Row(
        "POST /promoter/profile",
        "/promoter/profile",
        (401, 409, 409, 403, 403, 403),
        {"display_name": "Lin", "phone": "+8613800000000"},
    ),
    Row("GET /promoter/tasks", "/promoter/tasks", (401, 200, 200, 403, 403, 403)),
    # any eligible promoter gets their own link: the owner's exists (200), the other's is new (201)
    Row(
        "POST /promoter/tasks/{product_id}/links", "/promoter/tasks/{product_id}/links", (401, 200, 201, 403, 403, 403)
    ),
    Row(
        "POST /promoter/links/{link_id}/shares",
        "/promoter/links/{link_id}/shares",
        (401, 201, 404, 403, 403, 403),
        {"channel": "wechat"},
    ),
    Row(
        "PUT /admin/promoters/{promoter_id}/tags",
        "/admin/promoters/{promoter_id}/tags",
        (401, 403, 403, 403, 403, 200),
        {"tags": ["standard"]},
    ),
    Row("GET /l/{code}", "/l/{code}", (302, 302, 302, 302, 302, 302)),
    # public, authenticated by the provider signature only: unsigned is 400 whoever calls
    Row("POST /webhooks/{provider}", "/webhooks/stripe", (400, 400, 400, 400, 400, 400), {"id": "evt_x"}),
    Row("GET /promoter/account", "/promoter/account", (401, 200, 200, 403, 403, 403)),
    Row("GET /merchant/account", "/merchant/account", (401, 403, 403, 200, 200, 403)),
    Row("GET /promoter/statements/{month}", "/promoter/statements/2026-01", (401, 200, 200, 403, 403, 403)),
    Row("GET /merchant/statements/{month}", "/merchant/statements/2026-01", (401, 403, 403, 200, 200, 403)),
    Row("GET /admin/accounts/{user_id}", "/admin/accounts/{user_id}", (401, 403, 403, 403, 403, 200)),
    Row("GET /admin/payments/unattributed", "/admin/payments/unattributed", (401, 403, 403, 403, 403, 200)),
    Row("GET /admin/payments/rejected", "/admin/payments/rejected", (401, 403, 403, 403, 403, 200)),
    Row("GET /admin/ledger/audit", "/admin/ledger/audit", (401, 403, 403, 403, 403, 200)),
    Row("GET /promoter/notifications", "/promoter/notifications", (401, 200, 200, 403, 403, 403)),
    Row("GET /merchant/notifications", "/merchant/notifications", (401, 403, 403, 200, 200, 403)),
    # a notification is read only by its recipient; anyone else learns nothing (404)
    Row(
        "POST /me/notifications/{notification_id}/read",
        "/me/notifications/{notification_id}/read",
        (401, 200, 404, 404, 404, 404),
    ),
    Row("GET /me/notification-preferences", "/me/notification-preferences", (401, 200, 200, 200, 200, 200)),
    Row(
        "PUT /me/notification-preferences",
        "/me/notification-preferences",
        (401, 200, 200, 200, 200, 200),
        {"channels": ["inapp"]},
    ),
    # devices and the WeChat binding are the caller's own: anyone else removing a device removes nothing (204)
    Row(
        "POST /me/devices",
        "/me/devices",
        (401, 201, 201, 201, 201, 201),
        {"platform": "fcm", "token": "fcm:matrix-token.value"},
    ),
    Row("GET /me/devices", "/me/devices", (401, 200, 200, 200, 200, 200)),
    Row("DELETE /me/devices/{device_id}", "/me/devices/{device_id}", (401, 204, 204, 204, 204, 204)),
    Row("PUT /me/social/wechat", "/me/social/wechat", (401, 200, 200, 200, 200, 200), {"openid": "oMatrix_openid"}),
    Row("DELETE /me/social/wechat", "/me/social/wechat", (401, 204, 204, 204, 204, 204)),
    Row(
        "POST /admin/channel-task-templates", "/admin/channel-task-templates", (401, 403, 403, 403, 403, 201), TEMPLATE
    ),
    Row("GET /admin/channel-task-templates", "/admin/channel-task-templates", (401, 403, 403, 403, 403, 200)),
    Row("GET /promoter/channel-tasks", "/promoter/channel-tasks", (401, 200, 200, 403, 403, 403)),
    Row(
        "POST /promoter/channel-tasks/{template_id}/accept",
        "/promoter/channel-tasks/{template_id}/accept",
        (401, 201, 201, 403, 403, 403),
    ),
    # an override is the product owner's: the other merchant learns nothing about the product (404)
    Row(
        "PUT /merchant/products/{product_id}/promoter-rewards/{promoter_id}",
        "/merchant/products/{product_id}/promoter-rewards/{promoter_id}",
        (401, 403, 403, 200, 404, 403),
        {"type": "percent", "value": 1500},
    ),
    Row(
        "DELETE /merchant/products/{product_id}/promoter-rewards/{promoter_id}",
        "/merchant/products/{product_id}/promoter-rewards/{promoter_id}",
        (401, 403, 403, 204, 404, 403),
    ),
    Row(
        "GET /merchant/products/{product_id}/stats",
        "/merchant/products/{product_id}/stats",
        (401, 403, 403, 200, 404, 403),
    ),
    # a coupon is its product's merchant's: the other merchant learns nothing about it (404)
    Row("GET /merchant/coupons/{code}", "/merchant/coupons/{coupon_code}", (401, 403, 403, 200, 404, 403)),
    Row("POST /admin/fault-windows", "/admin/fault-windows", (401, 403, 403, 403, 403, 202), FAULT_WINDOW),
    Row("GET /admin/scans/{scan_id}", "/admin/scans/{scan_id}", (401, 403, 403, 403, 403, 200)),
    Row("GET /admin/compensations", "/admin/compensations", (401, 403, 403, 403, 403, 200)),
    Row("GET /promoter/compensations", "/promoter/compensations", (401, 200, 200, 403, 403, 403)),
    # one invite code per promoter; asking again returns it (201 each time)
    Row("POST /promoter/invites", "/promoter/invites", (401, 201, 201, 403, 403, 403)),
    Row("GET /admin/reviews", "/admin/reviews", (401, 403, 403, 403, 403, 200)),
    # no review exists: an admin reaches the route and learns it is unknown (404)
    Row(
        "POST /admin/reviews/{review_id}/approve",
        f"/admin/reviews/{UNKNOWN_REVIEW}/approve",
        (401, 403, 403, 403, 403, 404),
    ),
    Row(
        "POST /admin/reviews/{review_id}/decline",
        f"/admin/reviews/{UNKNOWN_REVIEW}/decline",
        (401, 403, 403, 403, 403, 404),
        {"reason": "not the promoter's sale"},
    ),
    Row("GET /promoter/commissions", "/promoter/commissions", (401, 200, 200, 403, 403, 403)),
    Row("PUT /merchant/payment-settings", "/merchant/payment-settings", (401, 403, 403, 200, 200, 403), SELLER),
    Row("GET /merchant/payment-settings", "/merchant/payment-settings", (401, 403, 403, 200, 200, 403)),
    # block before unblock, last: a block changes no authorization, only compensation eligibility
    Row("PUT /admin/users/{user_id}/block", "/admin/users/{user_id}/block", (401, 403, 403, 403, 403, 200)),
    Row("DELETE /admin/users/{user_id}/block", "/admin/users/{user_id}/block", (401, 403, 403, 403, 403, 200)),
    # payout methods and payouts are the caller's own; the payouts list of another user is never reachable
    Row("PUT /promoter/payout-method", "/promoter/payout-method", (401, 200, 200, 403, 403, 403), ALIPAY_METHOD),
    Row("GET /promoter/payout-method", "/promoter/payout-method", (401, 200, 200, 403, 403, 403)),
    Row("PUT /merchant/payout-method", "/merchant/payout-method", (401, 403, 403, 200, 200, 403), STRIPE_METHOD),
    Row("GET /merchant/payout-method", "/merchant/payout-method", (401, 403, 403, 200, 200, 403)),
    # nobody has money to pay out: 422 (below the minimum) proves the role check passed
    Row("POST /promoter/payouts", "/promoter/payouts", (401, 422, 422, 403, 403, 403), {"currency": "CNY"}),
    Row("POST /merchant/payouts", "/merchant/payouts", (401, 403, 403, 422, 422, 403), {"currency": "USD"}),
    Row("GET /promoter/payouts", "/promoter/payouts", (401, 200, 200, 403, 403, 403)),
    Row("GET /merchant/payouts", "/merchant/payouts", (401, 403, 403, 200, 200, 403)),
    Row("GET /admin/payouts", "/admin/payouts?status=requested", (401, 403, 403, 403, 403, 200)),
]


def test_every_template_route_has_a_row():
    # Given the routes template.yaml deploys
    deployed = {f"{r.method} {r.path}" for r in template.routes()}
    # Then each has exactly one row, and no row names a route that does not exist
    rows = [row.route for row in MATRIX]
    assert len(rows) == len(set(rows)), "duplicate rows"
    assert deployed - set(rows) == set(), "routes missing from the authorization matrix"
    assert set(rows) - deployed == set(), "rows for routes not in template.yaml"


@pytest.fixture
def world(api):
    return make_world(api)


def make_world(api):
    """The callers and the resources "promoter" / "merchant" own."""
    from tuishou.logic.notifications import notify

    users = {
        "promoter": promoter(api),
        "other_promoter": promoter(api),
        "merchant": api.user("merchant"),
        "other_merchant": api.user("merchant"),
        "admin": api.admin,
    }
    product_id = create_product(api, users["merchant"])["product_id"]
    link = link_for(api, users["promoter"], product_id)
    template_id = api.post("/admin/channel-task-templates", TEMPLATE, as_user=users["admin"]).json()["template_id"]
    scan_id = api.post("/admin/fault-windows", FAULT_WINDOW, as_user=users["admin"]).json()["scan_id"]
    ids = {
        "product_id": product_id,
        "link_id": link["link_id"],
        "code": link["code"],
        "promoter_id": users["promoter"].sub,
        "user_id": users["promoter"].sub,
        "template_id": template_id,
        "scan_id": scan_id,
        "notification_id": notify(users["promoter"].sub, "deadline_reminder", REMINDER).notification_id,
        "device_id": api.post(
            "/me/devices", {"platform": "apns", "token": "apns-matrix-token"}, as_user=users["promoter"]
        ).json()["device_id"],
        "coupon_code": _coupon(users["promoter"].sub, users["merchant"].sub, product_id),
    }
    return users, ids


def _coupon(promoter_id: str, merchant_id: str, product_id: str) -> str:
    """A quota-rescue coupon of the merchant's product, as the tracking stream records one."""
    from tuishou import clock
    from tuishou.dal import coupons
    from tuishou.dal.coupons import CouponRecord

    code = "K7P2Q9WX4M3R"
    issued_at = clock.iso()
    valid_until = clock.iso(clock.now() + timedelta(days=7))
    coupon = CouponRecord(code, "clk_matrix", promoter_id, "ctk_1", 300, "CNY", issued_at, "wechat")
    assert coupons.put_coupon(replace(coupon, product_id=product_id, merchant_id=merchant_id, valid_until=valid_until))
    return code


def test_every_route_answers_each_role_as_the_matrix_says(api, world):
    users, ids = world
    mismatches = []
    for row in MATRIX:
        method = row.route.split(" ", 1)[0]
        for role, expected in zip(ROLES, row.expected, strict=True):
            # When each caller calls the route
            response = api.request(
                method, row.path.format(**ids), json_body=row.body, as_user=None if role == "anonymous" else users[role]
            )
            # Then it gets the status of its cell
            if response.status != expected:
                mismatches.append(
                    f"{row.route} as {role}: {response.status} (expected {expected}) {response.text[:120]}"
                )
    assert mismatches == []
