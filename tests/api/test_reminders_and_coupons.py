"""At-risk reminders (once per task, only in the window, also under concurrent scans; reads ≈ tasks due)
and quota-rescue coupons (exactly at the threshold, bound to the click, single-use)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.helpers import devices
from tuishou.logic import channel_tasks
from tuishou.logic.channel_tasks import record_channel_transaction, scan_reminders
from tuishou.logic.coupons import coupon_for_click, coupon_of_click, redeem_coupon_for_click

T0 = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24,
    "target_transactions": 3,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
    "coupon_threshold": 2,
    "coupon_value_minor": 300,
}


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def started_task(api, **overrides):
    template = api.post("/admin/channel-task-templates", {**TEMPLATE, **overrides}, as_user=api.admin).json()
    promoter = api.user("promoter")
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter).status == 201
    return template, promoter


def reminders(stack):
    return [n for n in stack.notifications() if n["kind"] == "deadline_reminder"]


# ---------------------------------------------------------------- reminders
def test_the_reminder_fires_once_inside_the_window_and_never_before(api, stack, clock, fake_ledger):
    # Given a 24 h task (reminder 5 h before the deadline) with one of three sales made
    _template, promoter = started_task(api)
    devices.push_ready(promoter.sub)
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    # When the hourly scan runs while more than 5 h remain
    for hour in range(1, 19):
        assert scan_reminders(T0 + timedelta(hours=hour)).sent == 0
    assert reminders(stack) == []
    # Then the first scan with less than 5 h left reminds, through the scheduled function
    result = stack.run_schedule("DeadlineReminderFunction", at=T0 + timedelta(hours=19, minutes=30))
    assert result["sent"] == 1
    sent = reminders(stack)
    # (in the default locale and time zone: the deadline, 08:00 UTC, is 16:00 in Shanghai)
    assert [(n["channel"], n["recipient"], n["text"]) for n in sent] == [
        ("inapp", promoter.sub, "微信任务还差 2 笔销售，3月2日 16:00 截止"),
        ("push", promoter.sub, "微信任务还差 2 笔销售，3月2日 16:00 截止"),
    ]
    # And later scans, retries included, never remind again
    for moment in (T0 + timedelta(hours=19, minutes=30), T0 + timedelta(hours=20), T0 + timedelta(hours=23)):
        assert scan_reminders(moment).sent == 0
    assert len(reminders(stack)) == 2


def test_no_reminder_after_the_deadline_or_once_the_quota_is_met(api, stack, clock, fake_ledger):
    # Given one task that completes and one whose deadline passes before any scan
    _met_template, achiever = started_task(api, target_transactions=1, coupon_threshold=0)
    record_channel_transaction(achiever.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    _late_template, _idler = started_task(api, channel="qq", duration_hours=2, reminder_threshold_hours=1)
    # When scans run after the deadline
    result = scan_reminders(T0 + timedelta(hours=3))
    # Then nothing is sent and the expired task leaves the index
    assert result.sent == 0 and result.expired == 1
    assert scan_reminders(T0 + timedelta(hours=4)).due == 0
    assert reminders(stack) == []


def test_two_concurrent_scans_send_one_reminder_per_task(api, stack, clock):
    promoters = [started_task(api)[1] for _ in range(3)]
    moment = T0 + timedelta(hours=20)
    results = []
    barrier = threading.Barrier(2)

    def scan() -> None:
        barrier.wait()
        results.append(scan_reminders(moment))

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in results) == 3
    inapp = [n["recipient"] for n in reminders(stack) if n["channel"] == "inapp"]
    assert sorted(inapp) == sorted(p.sub for p in promoters)


def test_the_scan_reads_only_due_tasks(api, stack, clock, dynamodb_requests):
    # Given five tasks far from their reminder and two that are due
    for _ in range(5):
        started_task(api, duration_hours=72)
    for _ in range(2):
        started_task(api, channel="weibo", duration_hours=6)
    # When the scan runs two hours later
    dynamodb_requests.reset()
    result = scan_reminders(T0 + timedelta(hours=2), lookback_hours=6)
    # Then it queried seven hour buckets and read exactly the two due tasks (plus their live progress)
    assert (result.due, result.sent) == (2, 2)
    assert dynamodb_requests.operations["Query"] == 7
    assert "Scan" not in dynamodb_requests.operations
    assert dynamodb_requests.items_by_operation["Query"] == 2
    assert dynamodb_requests.operations["GetItem"] == 4  # each reminded task's live progress, its promoter's locale


# ---------------------------------------------------------------- coupons
def test_coupons_appear_exactly_at_the_threshold_and_stop_at_completion(api, stack, clock, fake_ledger):
    # Given a task of 3 sales with coupons when 2 or fewer remain
    _template, promoter = started_task(api, target_transactions=4)
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    # Then with 3 to go there is no coupon
    assert coupon_for_click(promoter.sub, "wechat", "clk_a", T0) is None
    # When the second sale leaves exactly 2 to go, a click on that channel gets one, another channel none
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_2", grant=fake_ledger.grant)
    coupon = coupon_for_click(promoter.sub, "wechat", "clk_b", T0)
    assert coupon is not None and coupon.value_minor == 300 and coupon.click_id == "clk_b"
    assert coupon_for_click(promoter.sub, "weibo", "clk_c", T0) is None
    issued = [n for n in stack.notifications() if n["kind"] == "coupon_issued"]
    assert {n["recipient"] for n in issued} == {promoter.sub}
    assert issued[0]["text"] == "微信的顾客本小时领取了 1 张 ¥3.00 优惠券，还差 2 笔销售"
    # When the quota is met, coupons stop
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_3", grant=fake_ledger.grant)
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_4", grant=fake_ledger.grant)
    assert coupon_for_click(promoter.sub, "wechat", "clk_d", T0) is None


def test_a_coupon_is_bound_to_its_click_and_single_use(api, clock, fake_ledger):
    _template, promoter = started_task(api, target_transactions=2)
    first = coupon_for_click(promoter.sub, "wechat", "clk_1", T0)
    # The same click (a reload) gets the same coupon; another click another code
    assert coupon_for_click(promoter.sub, "wechat", "clk_1", T0) == first
    second = coupon_for_click(promoter.sub, "wechat", "clk_2", T0)
    assert second.code != first.code
    # The payment for the click redeems it once
    redeemed = redeem_coupon_for_click("clk_1", T0, payment_ref="stripe:pi_1")
    assert redeemed.status == "redeemed" and redeemed.code == first.code
    assert redeem_coupon_for_click("clk_1", T0, payment_ref="stripe:pi_1") is None
    assert coupon_of_click("clk_2").status == "issued"
    assert redeem_coupon_for_click("clk_without_coupon") is None


def test_no_coupons_after_the_deadline(api, clock):
    _template, promoter = started_task(api, target_transactions=2, duration_hours=1)
    clock.move_to(T0 + timedelta(hours=1))
    assert coupon_for_click(promoter.sub, "wechat", "clk_1", T0 + timedelta(hours=1)) is None


def test_coupon_hook_rejects_a_malformed_click_id_before_any_request(api, dynamodb_requests):
    from tuishou.errors import Unprocessable

    dynamodb_requests.reset()
    with pytest.raises(Unprocessable):
        coupon_for_click("p", "wechat", "bad id!", T0)
    assert dynamodb_requests.total == 0


def test_the_coupon_check_costs_nothing_when_the_caller_holds_the_counter_item(api, clock, dynamodb_requests):
    _template, promoter = started_task(api, target_transactions=9)
    pointer = channel_tasks.active_task(promoter.sub, "wechat")
    dynamodb_requests.reset()
    assert coupon_for_click(promoter.sub, "wechat", "clk_1", T0, active=pointer) is None
    assert dynamodb_requests.total == 0
