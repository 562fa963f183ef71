"""The ledger stream consumer (``tuishou.logic.ledger_changes.derive``) driven with the records a stream
delivers for real settlements (signed webhooks): a settled sale is counted, counts toward the channel task
and completes it (bonus granted and notified); a full refund reverses that progress and, within the
clawback window, takes the bonus back. Every record delivered twice changes nothing the second time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import devices
from tests.helpers import ledger_changes as records
from tests.helpers.payments import account_balance, stripe_checkout_event, stripe_refund_event
from tuishou import clock
from tuishou.dal import keys
from tuishou.logic import channel_tasks
from tuishou.logic.ledger_changes import derive

TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24,
    "target_transactions": 2,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
}


def _accepted(api, payments, **overrides):
    """A promoter (with a profile) who accepted a wechat task, and the template."""
    template = api.post("/admin/channel-task-templates", {**TEMPLATE, **overrides}, as_user=api.admin).json()
    promoter = api.user("promoter")
    assert api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter).status == 201
    return promoter, template


def _sell(payments, promoter_id: str, payment_id: str, amount: int = 10000) -> None:
    seeded = records.click_now(payments, promoter_id)
    assert payments.stripe(stripe_checkout_event(payment_id, amount, click_id=seeded.click_id)).status == 200


def _task(api, promoter, template) -> dict:
    items = api.get("/promoter/channel-tasks", as_user=promoter).json()["items"]
    return next(i for i in items if i["template_id"] == template["template_id"])


def _bonus_notices(stack, promoter) -> list[str]:
    return [
        n["channel"]
        for n in stack.notifications()
        if n["recipient"] == promoter.sub and n["kind"] == "channel_bonus_completed"
    ]


def _promoter_entries(payments, promoter) -> list[tuple[str, int]]:
    return sorted((e["kind"], int(e["amount_minor"])) for e in payments.entries() if e["account_id"] == promoter.sub)


def test_a_settled_sale_counts_once_and_moves_progress_once_however_often_it_is_delivered(api, payments):
    # Given a promoter on a 2-sale wechat task, and a sale through a wechat click
    promoter, template = _accepted(api, payments)
    _sell(payments, promoter.sub, "pi_one")
    settled = records.inserted(payments, "pi_one")
    # When the consumer receives its settlement record three times
    for _ in range(3):
        derive([settled])
    # Then the sale is counted once, with its revenue, and counts once toward the task
    product_id = settled.image["product_id"]
    history = payments.item("tracking", keys.promoter_task_history(promoter.sub, product_id))
    assert history["transactions"] == 1
    assert _task(api, promoter, template)["progress"]["transactions"] == 1
    # And the counter item holds no set of refs: each counted event is its own item with a TTL
    counter = payments.item("tracking", keys.promoter_channel(promoter.sub, "wechat"))
    assert "chtask_refs" not in counter
    ref = payments.item("tracking", keys.channel_task_ref(promoter.sub, "wechat", "tx:stripe:pi_one"))
    deadline = clock.parse_iso(_task(api, promoter, template)["deadline"])
    assert ref["expires_at"] > deadline.timestamp()


def test_completion_in_the_consumer_grants_and_notifies_once_under_replay(api, payments, stack):
    # Given a promoter one sale from the target
    promoter, template = _accepted(api, payments, target_transactions=1)
    devices.push_ready(promoter.sub)
    _sell(payments, promoter.sub, "pi_win")
    # When the settlement record is delivered twice and the bonus event's own record twice
    derive([records.inserted(payments, "pi_win")])
    derive([records.inserted(payments, "pi_win")])
    task = _task(api, promoter, template)
    bonus = records.event_inserted(payments, f"channel_bonus:{task['task_id']}")
    derive([bonus])
    derive([bonus])
    # Then the task completed once, the bonus is credited once and the promoter is notified once
    assert (task["status"], task["progress"]["transactions"]) == ("completed", 1)
    assert _promoter_entries(payments, promoter) == [("channel_bonus", 5000), ("sale_commission", 1000)]
    assert sorted(_bonus_notices(stack, promoter)) == ["inapp", "push"]
    payments.assert_ledger_consistent()


def test_a_crash_between_counting_and_completion_is_finished_by_the_replay(api, payments, monkeypatch):
    # Given the consumer dies right after counting the deciding sale
    promoter, template = _accepted(api, payments, target_transactions=1)
    _sell(payments, promoter.sub, "pi_crash")
    settled = records.inserted(payments, "pi_crash")

    def die(*_args, **_kwargs):
        raise ConnectionError("the function died")

    with monkeypatch.context() as patched:
        patched.setattr(channel_tasks.store, "complete_task", die)
        with pytest.raises(ConnectionError):
            derive([settled])
    assert _task(api, promoter, template)["status"] == "active"
    # When Lambda retries the chunk
    derive([settled])
    # Then the task completes and pays its bonus once
    assert _task(api, promoter, template)["status"] == "completed"
    assert ("channel_bonus", 5000) in _promoter_entries(payments, promoter)


def test_a_crash_before_the_notice_is_made_good_by_the_bonus_events_record(api, payments, stack, monkeypatch):
    # Given the consumer dies after completing and granting, before notifying
    promoter, template = _accepted(api, payments, target_transactions=1)
    devices.push_ready(promoter.sub)
    _sell(payments, promoter.sub, "pi_quiet")

    def die(*_args, **_kwargs):
        raise ConnectionError("SNS is down")

    with monkeypatch.context() as patched:
        patched.setattr(channel_tasks, "notify", die)
        with pytest.raises(ConnectionError):
            derive([records.inserted(payments, "pi_quiet")])
    assert _bonus_notices(stack, promoter) == []
    # When the retry redelivers the settlement and the bonus event's record arrives
    derive([records.inserted(payments, "pi_quiet")])
    task = _task(api, promoter, template)
    derive([records.event_inserted(payments, f"channel_bonus:{task['task_id']}")])
    # Then the promoter is notified once and paid once
    assert sorted(_bonus_notices(stack, promoter)) == ["inapp", "push"]
    assert [k for k, _ in _promoter_entries(payments, promoter)].count("channel_bonus") == 1


def test_a_full_refund_reverses_an_active_tasks_progress_once_and_a_partial_one_nothing(api, payments):
    # Given two counted sales on a 3-sale task
    promoter, template = _accepted(api, payments, target_transactions=3)
    _sell(payments, promoter.sub, "pi_keep")
    _sell(payments, promoter.sub, "pi_back")
    derive([records.inserted(payments, "pi_keep"), records.inserted(payments, "pi_back")])
    # When one is refunded in part, the other in full (each record delivered twice)
    before_keep, before_back = records.settlement(payments, "pi_keep"), records.settlement(payments, "pi_back")
    payments.stripe(stripe_refund_event("pi_keep", 4000, 10000))
    payments.stripe(stripe_refund_event("pi_back", 10000, 10000))
    partial = records.change("MODIFY", records.settlement(payments, "pi_keep"), before_keep)
    full = records.change("MODIFY", records.settlement(payments, "pi_back"), before_back)
    derive([partial, full, partial, full])
    # Then only the fully refunded sale leaves the task's progress, once
    assert _task(api, promoter, template)["progress"]["transactions"] == 1
    assert payments.item("tracking", keys.channel_task_reversal(promoter.sub, "wechat", "tx:stripe:pi_back"))
    # And a sale replacing it counts again
    _sell(payments, promoter.sub, "pi_next")
    derive([records.inserted(payments, "pi_next")])
    assert _task(api, promoter, template)["progress"]["transactions"] == 2


def test_a_full_refund_soon_after_completion_claws_the_bonus_back_once(api, payments):
    # Given a task completed by one sale, its bonus credited
    promoter, template = _accepted(api, payments, target_transactions=1)
    _sell(payments, promoter.sub, "pi_refunded")
    derive([records.inserted(payments, "pi_refunded")])
    before = records.settlement(payments, "pi_refunded")
    # When the sale is refunded in full within the clawback window (the record delivered twice)
    payments.stripe(stripe_refund_event("pi_refunded", 10000, 10000))
    refunded = records.change("MODIFY", records.settlement(payments, "pi_refunded"), before)
    derive([refunded])
    derive([refunded])
    # Then the completed task shows the reversed progress and the bonus is taken back once
    task = _task(api, promoter, template)
    assert (task["status"], task["progress"]["transactions"]) == ("completed", 0)
    assert _promoter_entries(payments, promoter) == [
        ("channel_bonus", 5000),
        ("channel_bonus_clawback", -5000),
        ("refund_commission", -1000),
        ("sale_commission", 1000),
    ]
    account = api.get("/promoter/account", as_user=promoter).json()
    assert account["balances"] == [account_balance(0)]  # refunded from pending, bonus clawed from available
    payments.assert_ledger_consistent()


def test_a_refund_after_the_clawback_window_leaves_the_completed_task_alone(api, payments):
    # Given a task completed by one sale
    promoter, template = _accepted(api, payments, target_transactions=1)
    _sell(payments, promoter.sub, "pi_late")
    derive([records.inserted(payments, "pi_late")])
    before = records.settlement(payments, "pi_late")
    completed_at = clock.parse_iso(_task(api, promoter, template)["completed_at"])
    # When its full refund is recorded just after the window
    payments.stripe(stripe_refund_event("pi_late", 10000, 10000))
    after = records.settlement(payments, "pi_late")
    late = clock.iso(completed_at + channel_tasks.CLAWBACK_WINDOW + timedelta(seconds=1))
    derive([records.change("MODIFY", {**after, "refund_updated_at": late}, before)])
    # Then the task keeps its progress and the promoter keeps the bonus
    assert _task(api, promoter, template)["progress"]["transactions"] == 1
    assert ("channel_bonus", 5000) in _promoter_entries(payments, promoter)
    assert "channel_bonus_clawback" not in [k for k, _ in _promoter_entries(payments, promoter)]


def test_a_sale_refunded_in_full_before_it_settled_never_counts_toward_the_task(api, payments):
    # Given a refund that overtook its payment
    promoter, template = _accepted(api, payments)
    seeded = records.click_now(payments, promoter.sub)
    payments.stripe(stripe_refund_event("pi_early", 10000, 10000))
    payments.stripe(stripe_checkout_event("pi_early", 10000, click_id=seeded.click_id))
    # When its settlement record arrives
    derive([records.inserted(payments, "pi_early")])
    # Then it is counted as a transaction but not toward the task
    assert _task(api, promoter, template)["progress"]["transactions"] == 0
    history = payments.item("tracking", keys.promoter_task_history(promoter.sub, seeded.product_id))
    assert history["transactions"] == 1
