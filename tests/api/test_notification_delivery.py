"""Delivery from the inbox item: one delivery per channel (inapp, push, sms, wechat), exactly once through
crashes and replays, the delivery status on the inbox item, preferences per kind, quiet hours in the user's
time zone and the SMS daily cap."""

from __future__ import annotations

import boto3
import pytest
import time_machine

from tests.api.test_notifications import EVERY_KIND, set_phone
from tests.helpers import devices
from tuishou.dal import devices as device_store
from tuishou.dal import dynamo, keys
from tuishou.dal import notifications as store
from tuishou.dal import sms as sms_adapter
from tuishou.logic.notification_texts import DEFAULT_LOCALE, DEFAULT_TIME_ZONE, render
from tuishou.logic.notifications import notify

DAYTIME = "2030-03-01T03:00:00Z"  # 11:00 in Asia/Shanghai
PHONE = "+8613800138000"


def everything_on(api, user) -> None:
    """A user with all four channels: preferences, a verified phone, a device and a WeChat binding."""
    response = api.put("/me/notification-preferences", {"channels": ["inapp", "push", "sms", "wechat"]}, as_user=user)
    assert response.status == 200, response.text
    set_phone(user.sub, PHONE)
    devices.add_device(user.sub, "phone")
    devices.bind_wechat(user.sub, "openid-1")


def default_text(kind: str) -> str:
    """The text of ``kind`` (with its sample data) in the default locale and time zone."""
    return render(kind, EVERY_KIND[kind], DEFAULT_LOCALE, DEFAULT_TIME_ZONE).body


def deliveries_of(api, user, route="/promoter/notifications"):
    items = api.get(route, as_user=user).json()["items"]
    return {i["notification_id"]: {d["channel"]: (d["status"], d["reason"]) for d in i["deliveries"]} for i in items}


def counting_sms(monkeypatch) -> list[str]:
    """Every SMS actually handed to SNS, by phone."""
    sent: list[str] = []
    real = sms_adapter.send_sms

    def send(phone: str, body: str) -> str:
        sent.append(phone)
        return real(phone, body)

    monkeypatch.setattr(sms_adapter, "send_sms", send)
    return sent


def test_every_kind_reaches_every_channel_once(api, stack, monkeypatch):
    # Given a promoter with all four channels on, by day in their time zone
    promoter = api.user("promoter")
    everything_on(api, promoter)
    sms_sent = counting_sms(monkeypatch)
    monkeypatch.setenv("TUISHOU_SMS_DAILY_CAP", str(len(EVERY_KIND)))  # one SMS of each kind fits in the day
    with time_machine.travel(DAYTIME, tick=True):
        # When one notification of every kind is written (SMS never for the anonymous-traffic kind)
        sent = {kind: notify(promoter.sub, kind, data).notification_id for kind, data in EVERY_KIND.items()}
        delivered = stack.notifications()
    # Then each kind was delivered once per channel, with its text in the promoter's locale, to the promoter
    by_kind: dict[str, list[str]] = {}
    for d in delivered:
        assert d["recipient"] == promoter.sub and d["text"] == default_text(d["kind"])
        assert d["notification_id"] == sent[d["kind"]]
        by_kind.setdefault(d["kind"], []).append(d["channel"])
    expected = {kind: ["inapp", "push", "sms", "wechat"] for kind in EVERY_KIND} | {
        "coupon_issued": ["inapp", "push", "wechat"]
    }
    assert {k: sorted(v) for k, v in by_kind.items()} == {k: sorted(v) for k, v in expected.items()}
    kinds = len(EVERY_KIND)
    assert len(sms_sent) == kinds - 1 and devices.push_count() == kinds and len(devices.wechat_messages(stack)) == kinds
    # And the inbox shows every channel's status
    statuses = deliveries_of(api, promoter)
    assert statuses[sent["coupon_issued"]]["sms"] == ("skipped", "anonymous_traffic")
    assert statuses[sent["compensation"]] == {c: ("delivered", None) for c in ("inapp", "push", "sms", "wechat")}


def test_a_crash_between_the_fact_and_its_delivery_still_delivers_exactly_once(api, stack, monkeypatch):
    # Given a promoter with SMS on, whose first routing attempt and first SMS attempt both crash
    promoter = api.user("promoter")
    everything_on(api, promoter)
    sms_sent = counting_sms(monkeypatch)
    crashes = {"route": 1, "sms": 1}
    real_enqueue, real_send = store.enqueue_delivery, sms_adapter.send_sms

    def crashing_enqueue(*args):
        if crashes["route"]:
            crashes["route"] -= 1
            raise RuntimeError("crash after the item was written, before its deliveries were queued")
        real_enqueue(*args)

    def crashing_send(phone, body):
        if crashes["sms"]:
            crashes["sms"] -= 1
            raise RuntimeError("crash while sending")
        return real_send(phone, body)

    monkeypatch.setattr(store, "enqueue_delivery", crashing_enqueue)
    monkeypatch.setattr(sms_adapter, "send_sms", crashing_send)
    with time_machine.travel(DAYTIME, tick=True):
        # When the money's notice is written, and the stream and the queues retry after each crash
        sent = notify(promoter.sub, "compensation", EVERY_KIND["compensation"])
        first = stack.notifications()
        # And every stream record is replayed (a new event source mapping) and the queues drained again
        stack.replay_streams()
        again = stack.notifications()
    # Then each channel delivered exactly once
    assert crashes == {"route": 0, "sms": 0}
    assert sorted(d["channel"] for d in first) == ["inapp", "push", "sms", "wechat"]
    assert again == first
    assert len(sms_sent) == 1 and devices.push_count() == 1 and len(devices.wechat_messages(stack)) == 1
    assert deliveries_of(api, promoter)[sent.notification_id]["sms"] == ("delivered", None)
    assert stack.dead_letters("SmsDeliveryQueue") == 0


@pytest.mark.parametrize(
    ("utc", "delivered"),
    [
        ("2030-03-01T13:59:00Z", True),  # 21:59 in Shanghai
        ("2030-03-01T14:00:00Z", False),  # 22:00: quiet hours start
        ("2030-03-01T23:59:00Z", False),  # 07:59
        ("2030-03-02T00:00:00Z", True),  # 08:00: quiet hours end
    ],
)
def test_quiet_hours_hold_back_push_and_sms_in_the_users_time_zone(api, stack, utc, delivered):
    # Given a promoter with push and sms on
    promoter = api.user("promoter")
    everything_on(api, promoter)
    # When a low-performance notice is written at the given time
    with time_machine.travel(utc, tick=False):
        sent = notify(promoter.sub, "low_performance", EVERY_KIND["low_performance"])
        stack.notifications()
    # Then push and sms go out only outside 22:00-08:00 local time; inapp and wechat always
    statuses = deliveries_of(api, promoter)[sent.notification_id]
    phone_channels = ("delivered", None) if delivered else ("skipped", "quiet_hours")
    assert statuses == {"inapp": ("delivered", None), "wechat": ("delivered", None)} | {
        "push": phone_channels,
        "sms": phone_channels,
    }


@pytest.mark.parametrize(("minutes_left", "urgent"), [(60, True), (61, False)])
def test_a_deadline_within_the_hour_is_urgent_and_bypasses_quiet_hours(api, stack, minutes_left, urgent):
    # Given a promoter with push on, at 23:00 in Shanghai
    promoter = api.user("promoter")
    everything_on(api, promoter)
    now = "2030-03-01T15:00:00Z"
    deadline = f"2030-03-01T{15 + minutes_left // 60}:{minutes_left % 60:02d}:00.000Z"
    data = {**EVERY_KIND["deadline_reminder"], "deadline": deadline}
    # When a deadline reminder is written
    with time_machine.travel(now, tick=False):
        sent = notify(promoter.sub, "deadline_reminder", data)
        stack.notifications()
    # Then push goes out only when the deadline is within the hour
    expected = ("delivered", None) if urgent else ("skipped", "quiet_hours")
    assert deliveries_of(api, promoter)[sent.notification_id]["push"] == expected


def test_quiet_hours_follow_the_users_time_zone_and_choice(api, stack):
    # Given a promoter in Europe/Berlin whose quiet hours are 12:00-13:00
    promoter = api.user("promoter")
    everything_on(api, promoter)
    pk, sk = keys.user_locale(promoter.sub)
    boto3.client("dynamodb").put_item(
        TableName=dynamo.table("users"),
        Item=dynamo.to_item({"pk": pk, "sk": sk, "locale": "en", "time_zone": "Europe/Berlin"}),
    )
    body = {"channels": ["push"], "quiet_hours": {"start": "12:00", "end": "13:00"}}
    assert api.put("/me/notification-preferences", body, as_user=promoter).status == 200
    # When notices are written at 11:30 UTC (12:30 in Berlin, 19:30 in Shanghai) and 12:30 UTC (13:30 Berlin)
    sent = []
    for utc in ("2030-03-01T11:30:00Z", "2030-03-01T12:30:00Z"):
        with time_machine.travel(utc, tick=False):
            sent.append(notify(promoter.sub, "low_performance", EVERY_KIND["low_performance"]))
            stack.notifications()
    # Then the first is held back, the second goes out
    statuses = deliveries_of(api, promoter)
    assert statuses[sent[0].notification_id]["push"] == ("skipped", "quiet_hours")
    assert statuses[sent[1].notification_id]["push"] == ("delivered", None)


def test_sms_daily_cap_is_per_user_and_local_day(api, stack, monkeypatch):
    # Given a promoter with only sms on (cap 5 a day)
    promoter = api.user("promoter")
    set_phone(promoter.sub, PHONE)
    assert api.put("/me/notification-preferences", {"channels": ["sms"]}, as_user=promoter).status == 200
    sms_sent = counting_sms(monkeypatch)
    # When six notices are written by day, then one more after midnight in Shanghai (16:00 UTC)
    sent = []
    with time_machine.travel(DAYTIME, tick=True):
        for _ in range(6):
            sent.append(notify(promoter.sub, "compensation", EVERY_KIND["compensation"]))
        stack.notifications()
    with time_machine.travel("2030-03-02T00:30:00Z", tick=True):  # 08:30 the next local day
        sent.append(notify(promoter.sub, "compensation", EVERY_KIND["compensation"]))
        stack.notifications()
    # Then five went out, the sixth was skipped for the cap, and the next day's went out
    statuses = deliveries_of(api, promoter)
    assert [statuses[s.notification_id]["sms"] for s in sent] == [("delivered", None)] * 5 + [
        ("skipped", "daily_cap"),
        ("delivered", None),
    ]
    assert len(sms_sent) == 6


def test_preferences_per_kind_replace_the_general_choice(api, stack):
    # Given a promoter with push on, but only the inbox for coupon notices
    promoter = api.user("promoter")
    devices.add_device(promoter.sub, "phone")
    body = {"channels": ["push"], "kinds": {"coupon_issued": ["inapp"]}}
    response = api.put("/me/notification-preferences", body, as_user=promoter)
    assert response.status == 200, response.text
    assert response.json()["kinds"] == {"coupon_issued": ["inapp"]}
    # When a coupon notice and a compensation notice are written
    with time_machine.travel(DAYTIME, tick=True):
        notify(promoter.sub, "coupon_issued", EVERY_KIND["coupon_issued"])
        notify(promoter.sub, "compensation", EVERY_KIND["compensation"])
        delivered = [(d["kind"], d["channel"]) for d in stack.notifications()]
    # Then only the compensation notice was pushed
    assert sorted(delivered) == [
        ("compensation", "inapp"),
        ("compensation", "push"),
        ("coupon_issued", "inapp"),
    ]


def test_a_device_sns_disabled_is_forgotten(api, stack):
    # Given a promoter with two devices, one of them disabled by SNS
    promoter = api.user("promoter")
    old = devices.add_device(promoter.sub, "old phone")
    new = devices.add_device(promoter.sub, "new phone")
    devices.disable(old)
    # When a notice is pushed
    with time_machine.travel(DAYTIME, tick=True):
        notify(promoter.sub, "compensation", EVERY_KIND["compensation"])
        stack.notifications()
    # Then it reached the live device and the disabled one is dropped
    assert list(devices.pushes()) == [new.endpoint_arn]
    assert [d.device_id for d in device_store.devices_of(promoter.sub)] == [new.device_id]
    assert old.endpoint_arn not in {e["EndpointArn"] for e in devices.endpoints()}
