"""Pure rules of channel tasks: quota met, coupon threshold, the clawback window, stable
notification ids."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuishou import clock, ids
from tuishou.logic.channel_tasks import CLAWBACK_WINDOW, ActiveTask, within_clawback_window
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


def test_notify_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify("u1", "spam")


COMPLETED = datetime(2030, 3, 2, 6, 0, tzinfo=UTC)


@given(offset_ms=st.integers(min_value=-30 * 86_400_000, max_value=30 * 86_400_000))
def test_a_full_refund_claws_back_exactly_up_to_seven_days_after_completion(offset_ms):
    # Given a task completed at COMPLETED and a full refund recorded offset_ms later (or earlier)
    refunded = COMPLETED + timedelta(milliseconds=offset_ms)
    # Then the rule applies exactly when the refund is at most the window after completion
    assert within_clawback_window(clock.iso(COMPLETED), clock.iso(refunded)) == (
        timedelta(milliseconds=offset_ms) <= CLAWBACK_WINDOW
    )
    assert timedelta(days=7) == CLAWBACK_WINDOW


@given(seed=st.text(min_size=1, max_size=80), other=st.text(min_size=1, max_size=80))
def test_a_stable_id_is_a_valid_id_named_by_its_fact_alone(seed, other):
    # When two ids are derived for one moment
    first, again = ids.stable_id("ntf", COMPLETED, seed), ids.stable_id("ntf", COMPLETED, seed)
    # Then they are well-formed ids, equal for the same fact and (almost surely) different for another
    assert ids.is_id(first, "ntf") and first == again
    assert (ids.stable_id("ntf", COMPLETED, other) == first) == (other == seed)
    # And they sort by time like new ids
    assert ids.stable_id("ntf", COMPLETED + timedelta(milliseconds=1), seed) > first
