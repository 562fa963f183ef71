"""Pure rules of channel tasks: quota met, coupon threshold, reminder text."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuishou.logic.channel_tasks import ActiveTask, reminder_text
from tuishou.logic.coupons import coupon_due
from tuishou.logic.notifications import notify


def task(target_tx=3, target_promo=None, tx=0, promo=0, threshold=2):
    return ActiveTask(
        promoter_id="p",
        channel="wechat",
        task_id="ctk_1",
        template_id="ctt_1",
        accepted_at="2030-03-01T08:00:00.000Z",
        deadline_at="2030-03-02T08:00:00.000Z",
        target_transactions=target_tx,
        target_promotions=target_promo,
        bonus_minor=100,
        currency="CNY",
        coupon_threshold=threshold,
        coupon_value_minor=10,
        transactions=tx,
        promotions=promo,
    )


@given(target=st.integers(1, 50), counted=st.integers(0, 60), threshold=st.integers(0, 50))
def test_coupon_is_due_exactly_when_remaining_is_within_the_threshold(target, counted, threshold):
    due = coupon_due(task(target_tx=target, tx=counted, threshold=threshold), "2030-03-01T09:00:00.000Z")
    assert due == (0 < target - counted <= threshold)


def test_coupon_is_never_due_outside_the_window():
    open_task = task(tx=2)
    assert coupon_due(open_task, "2030-03-01T09:00:00.000Z")
    assert not coupon_due(open_task, "2030-03-01T07:59:59.999Z")
    assert not coupon_due(open_task, "2030-03-02T08:00:00.000Z")


def test_and_quota_needs_both_targets():
    assert not task(target_tx=2, target_promo=2, tx=2, promo=1).met
    assert task(target_tx=2, target_promo=2, tx=2, promo=2).met
    assert task(target_tx=None, target_promo=1, promo=1).met


@pytest.mark.parametrize(
    ("tx", "promo", "now", "text"),
    [
        (1, 0, datetime(2030, 3, 2, 3, 0, tzinfo=UTC), "2 sales to go, 5 h left"),
        (2, 0, datetime(2030, 3, 2, 3, 30, tzinfo=UTC), "1 sale to go, 4 h left"),
        (0, 1, datetime(2030, 3, 2, 7, 30, tzinfo=UTC), "3 sales and 2 shares to go, less than 1 h left"),
    ],
)
def test_reminder_text(tx, promo, now, text):
    assert reminder_text(task(target_promo=3 if promo else None, tx=tx, promo=promo), now) == text


def test_notify_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify("u1", "spam", "hello")
