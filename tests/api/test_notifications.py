"""Notification delivery: preferences route each notification to the right SNS channels (seen through the
topic's tap), the in-app inbox with read/unread and pagination, and bad input."""

from __future__ import annotations

import boto3
import time_machine

from tuishou.dal import dynamo, keys
from tuishou.logic.notifications import delivery_channels, notify


def set_phone(user_id: str, phone: str) -> None:
    pk, sk = keys.profile(user_id)
    boto3.client("dynamodb").put_item(
        TableName=dynamo.table("users"), Item=dynamo.to_item({"pk": pk, "sk": sk, "phone": phone, "tags": ["standard"]})
    )


REMINDER = {
    "task_id": "tsk_1",
    "template_id": "tpl_1",
    "channel": "wechat",
    "deadline": "2030-03-02T08:00:00.000Z",
    "remaining_transactions": 2,
}
COUPONS = {
    "task_id": "tsk_1",
    "channel": "wechat",
    "value_minor": 300,
    "currency": "CNY",
    "coupons": 1,
    "hour": "2030-03-01T08",
}
COMPENSATION = {"event_id": "evt_1", "type": "sale_commission", "amount_minor": 1230, "currency": "CNY"}


def low_performance(title: str) -> dict:
    return {
        "signal": "low_transactions",
        "measure": "transactions",
        "threshold": 3,
        "window_days": 7,
        "first_day": "2030-02-22",
        "last_day": "2030-02-28",
        "tasks": [{"product_id": "prd_1", "title": title, "transactions": 0}],
    }


def published(stack, kind=None):
    return [(n["channel"], n["recipient"], n["kind"]) for n in stack.notifications() if kind in (None, n["kind"])]


DAYTIME = "2030-03-01T03:00:00Z"  # 11:00 in Asia/Shanghai, the default time zone: outside quiet hours


def test_default_preferences_deliver_inapp_and_push(api, stack):
    promoter = api.user("promoter")
    view = api.get("/me/notification-preferences", as_user=promoter).json()
    assert view == {
        "channels": ["inapp", "push"],
        "effective_channels": ["inapp", "push"],
        "kinds": {},
        "quiet_hours": {"start": "22:00", "end": "08:00"},
    }
    with time_machine.travel(DAYTIME, tick=False):
        sent = notify(promoter.sub, "deadline_reminder", REMINDER)
        # Then the inbox has it, and push was queued and found no registered device
        assert published(stack) == [("inapp", promoter.sub, "deadline_reminder")]
    item = api.get("/promoter/notifications", as_user=promoter).json()["items"][0]
    assert item["notification_id"] == sent.notification_id
    assert [(d["channel"], d["status"], d["reason"]) for d in item["deliveries"]] == [
        ("inapp", "delivered", None),
        ("push", "skipped", "no_device"),
    ]


def test_sms_opt_in_goes_out_only_with_a_phone_on_the_profile(api, stack):
    promoter = api.user("promoter")
    # Given the promoter opts into sms only (inapp stays on) without a phone
    response = api.put("/me/notification-preferences", {"channels": ["sms"]}, as_user=promoter)
    assert response.status == 200, response.text
    assert response.json()["channels"] == ["inapp", "sms"]
    assert response.json()["effective_channels"] == ["inapp"]
    with time_machine.travel(DAYTIME, tick=True):
        notify(promoter.sub, "deadline_reminder", REMINDER)
        assert published(stack) == [("inapp", promoter.sub, "deadline_reminder")]
        # When a phone is on the profile
        set_phone(promoter.sub, "+8613800138000")
        notify(promoter.sub, "deadline_reminder", {**REMINDER, "remaining_transactions": 1})
        # Then sms goes out too, push does not, and the recipient is the user, never the phone number
        later = stack.notifications()[1:]
        assert [(n["channel"], n["recipient"]) for n in later] == [("inapp", promoter.sub), ("sms", promoter.sub)]
        assert all("13800138000" not in str(n) for n in later)
        # But a kind anonymous traffic can cause (a coupon on a share-URL click) is never sent by SMS
        notify(promoter.sub, "coupon_issued", COUPONS)
        assert published(stack, "coupon_issued") == [("inapp", promoter.sub, "coupon_issued")]


def notice(item: dict) -> str:
    """Which notice an inbox item is (its one task's title, in the text too)."""
    title = item["data"]["tasks"][0]["title"]
    assert title in item["text"]
    return title


def test_merchant_inbox_newest_first_with_pagination_and_read_flags(api, stack):
    merchant = api.user("merchant")
    with time_machine.travel("2030-03-01T08:00:00Z", tick=True) as traveller:
        for i in range(3):
            notify(merchant.sub, "low_performance", low_performance(f"notice {i}"))
            traveller.shift(2)
    page = api.get("/merchant/notifications", as_user=merchant, query={"limit": 2})
    assert page.status == 200, page.text
    first = page.json()
    assert [notice(i) for i in first["items"]] == ["notice 2", "notice 1"]
    assert all(i["read"] is False for i in first["items"])
    rest = api.get("/merchant/notifications", as_user=merchant, query={"limit": 2, "cursor": first["next_cursor"]})
    assert [notice(i) for i in rest.json()["items"]] == ["notice 0"]
    # When the merchant marks one read, only that one is read
    target = first["items"][1]["notification_id"]
    assert api.post(f"/me/notifications/{target}/read", as_user=merchant).status == 200
    items = api.get("/merchant/notifications", as_user=merchant).json()["items"]
    assert {notice(i): i["read"] for i in items} == {"notice 2": False, "notice 1": True, "notice 0": False}


def test_a_user_cannot_read_or_mark_another_users_notification(api, stack):
    owner, other = api.user("promoter"), api.user("promoter")
    sent = notify(owner.sub, "compensation", COMPENSATION)
    assert api.post(f"/me/notifications/{sent.notification_id}/read", as_user=other).status == 404
    assert api.get("/promoter/notifications", as_user=other).json()["items"] == []
    assert api.get("/promoter/notifications", as_user=owner).json()["items"][0]["read"] is False


def test_inbox_routes_are_for_their_role(api):
    promoter = api.user("promoter")
    assert api.get("/merchant/notifications", as_user=promoter).status == 403
    assert api.get("/promoter/notifications", as_user=api.user("merchant")).status == 403


def test_bad_preferences_and_queries_are_rejected_naming_the_field(api, dynamodb_requests):
    promoter = api.user("promoter")
    dynamodb_requests.reset()
    cases = [
        ({"channels": ["fax"]}, "channels[0]"),
        ({"channels": []}, "channels"),
        ({"channels": ["sms", "sms"]}, "channels"),
        ({}, "channels"),
    ]
    for body, field in cases:
        response = api.put("/me/notification-preferences", body, as_user=promoter)
        assert response.status == 422, body
        assert response.json()["error"]["field"] == field, response.text
    assert dynamodb_requests.total == 0
    assert api.get("/promoter/notifications", as_user=promoter, query={"limit": 0}).status == 422
    bad_cursor = api.get("/promoter/notifications", as_user=promoter, query={"cursor": "not-a-cursor"})
    assert bad_cursor.status == 400 and bad_cursor.json()["error"]["field"] == "cursor"
    bad_id = api.post("/me/notifications/nope/read", as_user=promoter)
    assert bad_id.status == 422 and bad_id.json()["error"]["field"] == "notification_id"


def test_delivery_channel_rules():
    assert delivery_channels(None, None) == ["inapp", "push"]
    assert delivery_channels(["push", "sms"], "+8613800138000") == ["inapp", "push", "sms"]
    assert delivery_channels(["sms"], "") == ["inapp"]
    assert delivery_channels([], None) == ["inapp"]
    assert delivery_channels(["sms", "wechat"], "13800138000") == ["inapp", "wechat"]  # not E.164: unverified


# ---------------------------------------------------------------- typed data, every kind, every inbox
EVERY_KIND = {
    "deadline_reminder": {
        "task_id": "ctk_1",
        "template_id": "ctt_1",
        "channel": "wechat",
        "deadline": "2030-01-02T08:00:00.000Z",
        "remaining_transactions": 2,
        "remaining_promotions": None,
    },
    "channel_bonus_completed": {
        "task_id": "ctk_1",
        "template_id": "ctt_1",
        "channel": "wechat",
        "bonus_minor": 5000,
        "currency": "CNY",
    },
    "coupon_issued": {
        "task_id": "ctk_1",
        "channel": "wechat",
        "value_minor": 300,
        "currency": "CNY",
        "coupons": 3,
        "hour": "2030-01-01T12",
    },
    "low_performance": {
        "signal": "low_transactions",
        "measure": "transactions",
        "threshold": 3,
        "window_days": 7,
        "first_day": "2030-01-02",
        "last_day": "2030-01-08",
        "tasks": [{"product_id": "prd_1", "title": "Tea", "transactions": 2}],
    },
    "raise_reward_hint": {
        "promoter_id": "p-1",
        "promoter_name": "Lin",
        "product_id": "prd_1",
        "title": "Tea",
        "sales": 6,
        "window_days": 7,
        "first_category": "home",
        "task_category": "beauty",
        "relevance": "0.3333",
        "currency": "CNY",
        "current_reward": {"type": "percent", "value": 1000, "source": "tag_rule"},
        "current_commission_minor": 1000,
        "suggested_reward": {"type": "percent", "value": 1200},
        "suggested_commission_minor": 1200,
    },
    "compensation": {
        "event_id": "sale_commission:stripe:pi_1",
        "type": "sale_commission",
        "amount_minor": 1230,
        "currency": "CNY",
    },
    "payout_paid": {"payout_id": "pout_1", "amount_minor": 5000, "currency": "CNY"},
    "payout_failed": {"payout_id": "pout_2", "amount_minor": 5000, "currency": "CNY", "reason": "PAYEE_NOT_EXIST"},
    "commission_under_review": {"commission_minor": 1230, "currency": "CNY", "occurred_at": "2030-01-02T03:04:05.000Z"},
}


def test_one_notification_of_every_kind_renders_through_every_inbox_route(api):
    # Given a promoter and a merchant who each hold one notification of every kind
    from tuishou.models.notifications import DATA_MODELS, NotificationKind

    assert set(EVERY_KIND) == set(NotificationKind.__args__)
    inboxes = {"/promoter/notifications": api.user("promoter"), "/merchant/notifications": api.user("merchant")}
    for user in inboxes.values():
        for kind, data in EVERY_KIND.items():
            notify(user.sub, kind, data)
    # When each reads their inbox route
    for route, user in inboxes.items():
        response = api.get(route, as_user=user)
        # Then every kind renders with its data as created
        assert response.status == 200, response.text
        rendered = {i["kind"]: i["data"] for i in response.json()["items"]}
        assert rendered == {k: DATA_MODELS[k].model_validate(d).model_dump(mode="json") for k, d in EVERY_KIND.items()}


def test_data_of_the_wrong_shape_fails_when_the_notification_is_created(api, stack):
    # Given a promoter
    promoter = api.user("promoter")
    # When a feature notifies with data its kind does not define
    import pytest

    with pytest.raises(ValueError):
        notify(promoter.sub, "coupon_issued", {"task_id": "ctk_1", "unexpected": {"nested": 1}})
    # Then nothing was written or sent, and the inbox still renders
    assert api.get("/promoter/notifications", as_user=promoter).json()["items"] == []
    assert stack.notifications() == []
