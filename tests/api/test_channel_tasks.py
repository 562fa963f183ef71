"""Channel bonus tasks: templates, acceptance, counting windows, "and" quotas, exactly-once completion,
expiry and the request budgets of the hooks. Time is moved with time-machine."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.helpers import devices
from tuishou.logic import channel_tasks
from tuishou.logic.channel_tasks import record_channel_promotion, record_channel_transaction

T0 = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)

TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24,
    "target_transactions": 2,
    "target_promotions": None,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
    "coupon_threshold": 1,
    "coupon_value_minor": 300,
}


def make_template(api, **overrides):
    response = api.post("/admin/channel-task-templates", {**TEMPLATE, **overrides}, as_user=api.admin)
    assert response.status == 201, response.text
    return response.json()


def items_of(api, promoter):
    response = api.get("/promoter/channel-tasks", as_user=promoter)
    assert response.status == 200, response.text
    return {i["template_id"]: i for i in response.json()["items"]}


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


# ---------------------------------------------------------------- templates
def test_admin_creates_and_lists_templates_with_the_contract_fields(api, clock):
    # When an admin defines two templates
    first = make_template(api)
    clock.shift(1)
    second = make_template(api, channel="douyin", target_transactions=None, target_promotions=10, coupon_threshold=0)
    # Then both are listed newest first with the contract's field names
    items = api.get("/admin/channel-task-templates", as_user=api.admin).json()["items"]
    assert [i["template_id"] for i in items] == [second["template_id"], first["template_id"]]
    for field in (
        "channel",
        "duration_hours",
        "target_transactions",
        "target_promotions",
        "bonus_minor",
        "currency",
        "reminder_threshold_hours",
        "coupon_threshold",
        "coupon_value_minor",
        "template_id",
    ):
        assert field in items[0]
    assert items[0]["target_transactions"] is None and items[0]["target_promotions"] == 10


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_transactions": None, "target_promotions": None}, "target_transactions"),
        ({"bonus_minor": 0}, "bonus_minor"),
        ({"bonus_minor": -5}, "bonus_minor"),
        ({"coupon_value_minor": 0}, "coupon_value_minor"),
        ({"duration_hours": 0}, "duration_hours"),
        ({"target_transactions": 0}, "target_transactions"),
        ({"channel": "myspace"}, "channel"),
        ({"currency": "XXX"}, "currency"),
        ({"bonus_minor": 12.5}, "bonus_minor"),
        ({"target_transactions": None, "target_promotions": 3}, "coupon_threshold"),
    ],
)
def test_bad_templates_are_rejected_naming_the_field_and_write_nothing(api, change, field):
    response = api.post("/admin/channel-task-templates", {**TEMPLATE, **change}, as_user=api.admin)
    assert response.status == 422, response.text
    assert response.json()["error"]["field"] == field
    assert api.get("/admin/channel-task-templates", as_user=api.admin).json()["items"] == []


def test_only_admins_define_templates(api):
    promoter = api.user("promoter")
    assert api.post("/admin/channel-task-templates", TEMPLATE, as_user=promoter).status == 403
    assert api.get("/admin/channel-task-templates", as_user=api.user("merchant")).status == 403


# ---------------------------------------------------------------- offers and accept
def test_offers_are_listed_and_the_share_offer_is_the_channels_newest_template(api, clock):
    # Given templates on two channels (wechat twice: the newer one is wechat's offer)
    make_template(api)
    clock.shift(60)
    newer = make_template(api, bonus_minor=8000)
    douyin = make_template(api, channel="douyin")
    promoter = api.user("promoter")
    # Then the promoter sees one offer per channel, and the share hook offers wechat's newest
    items = items_of(api, promoter)
    assert set(items) == {newer["template_id"], douyin["template_id"]}
    assert items[newer["template_id"]]["status"] == "offered"
    assert items[newer["template_id"]]["deadline"] is None
    assert channel_tasks.offer_for_channel("wechat").template_id == newer["template_id"]
    assert channel_tasks.offer_for_channel("qq") is None


def test_accept_starts_the_task_with_a_deadline_and_rejects_a_second_accept(api, clock):
    template = make_template(api)
    promoter = api.user("promoter")
    # When the promoter accepts
    response = api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    # Then the task is active until acceptance + duration
    assert response.status == 201, response.text
    task = response.json()
    assert task["status"] == "active"
    assert task["deadline"] == "2030-03-02T08:00:00.000Z"
    assert task["progress"] == {"transactions": 0, "promotions": None}
    assert task["targets"] == {"transactions": 2, "promotions": None}
    # And accepting again is a conflict that changes nothing
    again = api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    assert again.status == 409
    assert again.json()["error"]["field"] == "template_id"
    assert items_of(api, promoter)[template["template_id"]]["deadline"] == task["deadline"]


def test_accepting_an_unknown_template_is_404_and_writes_nothing(api, dynamodb_requests):
    promoter = api.user("promoter")
    dynamodb_requests.reset()
    malformed = api.post("/promoter/channel-tasks/not-a-template/accept", as_user=promoter)
    assert malformed.status == 404 and malformed.json()["error"]["field"] == "template_id"
    # validated before any DynamoDB call but the caller's rate-limit window (every write request counts in it)
    assert (dynamodb_requests.beyond_rate_limit, dynamodb_requests.rate_limit_windows) == (0, 1)
    dynamodb_requests.reset()
    unknown = api.post("/promoter/channel-tasks/ctt_0000000000aaaaaaaaaa/accept", as_user=promoter)
    assert unknown.status == 404
    assert set(dynamodb_requests.operations) == {"UpdateItem", "GetItem"}
    assert dynamodb_requests.operations["UpdateItem"] == dynamodb_requests.rate_limit_windows == 1


def test_a_second_template_on_the_same_channel_waits_for_the_active_task(api, clock):
    first = make_template(api)
    second = make_template(api, bonus_minor=9000)
    promoter = api.user("promoter")
    assert api.post(f"/promoter/channel-tasks/{first['template_id']}/accept", as_user=promoter).status == 201
    response = api.post(f"/promoter/channel-tasks/{second['template_id']}/accept", as_user=promoter)
    assert response.status == 409
    assert "another task" in response.json()["error"]["message"]


# ---------------------------------------------------------------- counting
def test_counting_starts_at_acceptance_and_only_on_the_tasks_channel(api, clock, fake_ledger):
    template = make_template(api, target_transactions=3)
    promoter = api.user("promoter")
    # Given a sale on wechat before acceptance
    before = T0 - timedelta(minutes=1)
    assert (
        record_channel_transaction(promoter.sub, "wechat", before, "stripe:pi_0", grant=fake_ledger.grant).outcome
        == "no_task"
    )
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    clock.shift(600)
    # When a sale timed before acceptance arrives late, a sale on weibo and one on wechat arrive
    late = record_channel_transaction(promoter.sub, "wechat", before, "stripe:pi_1", grant=fake_ledger.grant)
    other = record_channel_transaction(
        promoter.sub, "weibo", T0 + timedelta(minutes=5), "stripe:pi_2", grant=fake_ledger.grant
    )
    counted = record_channel_transaction(
        promoter.sub, "wechat", T0 + timedelta(minutes=5), "stripe:pi_3", grant=fake_ledger.grant
    )
    # Then only the wechat sale after acceptance counts
    assert (late.outcome, other.outcome, counted.outcome) == ("not_counted", "no_task", "counted")
    assert items_of(api, promoter)[template["template_id"]]["progress"] == {"transactions": 1, "promotions": None}


def test_a_duplicate_settlement_counts_once(api, clock, fake_ledger):
    template = make_template(api, target_transactions=3)
    promoter = api.user("promoter")
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    for _ in range(3):
        record_channel_transaction(promoter.sub, "wechat", T0, "alipay:2030030122001", grant=fake_ledger.grant)
    assert items_of(api, promoter)[template["template_id"]]["progress"]["transactions"] == 1


def test_and_quota_completes_only_when_both_targets_are_met(api, clock, fake_ledger, stack):
    template = make_template(api, target_transactions=2, target_promotions=2, coupon_threshold=0)
    promoter = api.user("promoter")
    devices.push_ready(promoter.sub)
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    # When both sales arrive but only one share
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_2", grant=fake_ledger.grant)
    third = record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_3", grant=fake_ledger.grant)
    record_channel_promotion(promoter.sub, "wechat", T0, grant=fake_ledger.grant, event_ref="shr_1")
    # Then it is still active (sales beyond the target do not count), with no bonus
    assert third.outcome == "not_counted"
    task = items_of(api, promoter)[template["template_id"]]
    assert (task["status"], task["progress"]) == ("active", {"transactions": 2, "promotions": 1})
    assert fake_ledger.balance(promoter.sub, "CNY") == 0
    # When the second share arrives, the task completes and pays the bonus
    done = record_channel_promotion(promoter.sub, "wechat", T0, grant=fake_ledger.grant, event_ref="shr_2")
    assert done.outcome == "completed"
    task = items_of(api, promoter)[template["template_id"]]
    assert (task["status"], task["progress"]) == ("completed", {"transactions": 2, "promotions": 2})
    assert fake_ledger.balance(promoter.sub, "CNY") == 5000
    kinds = [(n["kind"], n["channel"]) for n in stack.notifications()]
    assert kinds == [("channel_bonus_completed", "inapp"), ("channel_bonus_completed", "push")]


def test_completion_credits_the_bonus_once_under_concurrent_duplicate_events(api, clock, fake_ledger, stack):
    template = make_template(api, target_transactions=2)
    promoter = api.user("promoter")
    devices.push_ready(promoter.sub)
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    # When eight deliveries of the deciding sale (and of other sales) race
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def deliver(i: int) -> None:
        barrier.wait()
        ref = "stripe:pi_2" if i % 2 else f"stripe:pi_x{i}"
        outcomes.append(record_channel_transaction(promoter.sub, "wechat", T0, ref, grant=fake_ledger.grant).outcome)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one completes, the bonus is credited once, and one completion notice goes out
    assert outcomes.count("completed") == 1
    assert fake_ledger.balance(promoter.sub, "CNY") == 5000
    assert fake_ledger.calls == [f"channel_bonus:{items_of(api, promoter)[template['template_id']]['task_id']}"]
    assert [n["kind"] for n in stack.notifications()].count("channel_bonus_completed") == 2  # inapp + push
    # And later sales change nothing
    late = record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_9", grant=fake_ledger.grant)
    assert late.outcome == "no_task"
    assert items_of(api, promoter)[template["template_id"]]["progress"]["transactions"] == 2


def test_a_crash_before_the_grant_leaves_one_recorded_ungranted_event_for_the_scan(api, clock, fake_ledger):
    from tests.helpers.channel_tasks import FailingGrant
    from tuishou.dal import ledger as ledger_dal

    template = make_template(api, target_transactions=1)
    promoter = api.user("promoter")
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    # Given the ledger is down when the task completes
    with pytest.raises(ConnectionError):
        record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=FailingGrant())
    # Then the task is completed and its channel_bonus event is in the one rewardable-event store, ungranted,
    # in its hour bucket (the compensation scan grants it: tests/api/test_compensation.py)
    task_id = items_of(api, promoter)[template["template_id"]]["task_id"]
    assert items_of(api, promoter)[template["template_id"]]["status"] == "completed"
    event = ledger_dal.get_event(f"channel_bonus:{task_id}")
    assert (event["kind"], event["amount_minor"], event["user_id"]) == ("channel_bonus", 5000, promoter.sub)
    assert event["gsi1pk"] == "EVENTS#2030-03-01T08" and "granted_at" not in event
    # And a duplicate settlement completes nothing more
    assert (
        record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant).outcome
        == "no_task"
    )
    assert fake_ledger.calls == []


def test_expiry_stops_counting_and_allows_a_fresh_start(api, clock, fake_ledger):
    template = make_template(api, duration_hours=2)
    promoter = api.user("promoter")
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    # When the deadline passes and the deciding sale comes after it
    clock.move_to(T0 + timedelta(hours=2))
    late = record_channel_transaction(
        promoter.sub, "wechat", T0 + timedelta(hours=2), "stripe:pi_2", grant=fake_ledger.grant
    )
    # Then it does not count, the task shows expired and no bonus is paid
    assert late.outcome == "not_counted"
    view = {t.template_id: t for t in channel_tasks.list_for_promoter(promoter.sub).items}[template["template_id"]]
    assert (view.status, view.progress.transactions) == ("expired", 1)
    assert fake_ledger.balance(promoter.sub, "CNY") == 0
    # And the promoter may start it again, counting from zero
    restarted = channel_tasks.accept(promoter.sub, template["template_id"])
    assert restarted.status == "active" and restarted.progress.transactions == 0
    assert restarted.deadline == "2030-03-01T12:00:00.000Z"


def test_an_expired_task_of_another_template_keeps_its_final_progress(api, clock, fake_ledger):
    first = make_template(api, duration_hours=1)
    second = make_template(api, target_transactions=5)
    promoter = api.user("promoter")
    channel_tasks.accept(promoter.sub, first["template_id"])
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    clock.move_to(T0 + timedelta(hours=3))
    channel_tasks.accept(promoter.sub, second["template_id"])
    views = {t.template_id: t for t in channel_tasks.list_for_promoter(promoter.sub).items}
    assert (views[first["template_id"]].status, views[first["template_id"]].progress.transactions) == ("expired", 1)
    assert (views[second["template_id"]].status, views[second["template_id"]].progress.transactions) == ("active", 0)


# ---------------------------------------------------------------- request budgets
def test_hooks_cost_nothing_without_an_active_task_and_at_most_two_requests_with_one(
    api, clock, fake_ledger, dynamodb_requests
):
    template = make_template(api, target_transactions=5)
    promoter = api.user("promoter")
    # A flow that already holds the counter item (ReturnValues=ALL_NEW) and finds no task: zero requests
    dynamodb_requests.reset()
    assert (
        record_channel_transaction(
            promoter.sub,
            "wechat",
            T0,
            "stripe:pi_0",
            grant=fake_ledger.grant,
            active=channel_tasks.active_task_from({"clicks": 3}, promoter.sub, "wechat"),
        ).outcome
        == "no_task"
    )
    assert dynamodb_requests.total == 0
    # Without the counter item: one GetItem
    record_channel_promotion(promoter.sub, "wechat", T0, grant=fake_ledger.grant)
    assert dynamodb_requests.operations == {"GetItem": 1}
    channel_tasks.accept(promoter.sub, template["template_id"])
    # With an active task: GetItem + the counting transaction (the ref item and the ADD), or only the
    # transaction when the pointer is known
    dynamodb_requests.reset()
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_1", grant=fake_ledger.grant)
    assert dynamodb_requests.operations == {"GetItem": 1, "TransactWriteItems": 1}
    pointer = channel_tasks.active_task(promoter.sub, "wechat")
    dynamodb_requests.reset()
    record_channel_transaction(promoter.sub, "wechat", T0, "stripe:pi_2", grant=fake_ledger.grant, active=pointer)
    assert dynamodb_requests.operations == {"TransactWriteItems": 1}
    # A task that does not count promotions: the share hook writes nothing
    dynamodb_requests.reset()
    record_channel_promotion(promoter.sub, "wechat", T0, grant=fake_ledger.grant, active=pointer)
    assert dynamodb_requests.total == 0
