"""Compensation scan: fault injection, exactly-once under races, kills and overlaps, legitimacy checks,
records, notifications, the contract's routes, and the scan's read budget."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import devices
from tests.helpers.compensation import Killed
from tests.helpers.payments import account_balance
from tests.helpers.seeding import BatchSeeder
from tuishou import clock
from tuishou.dal import dynamo
from tuishou.dal import ledger as ledger_dal
from tuishou.logic import compensation
from tuishou.models.ledger import RewardableEvent

COMMISSION = 1230  # 10% of 123.00


def _run_to_end(scan_id: str) -> compensation.RunResult:
    return compensation.run(scan_id, lambda: 10**9)


# ---------------------------------------------------------------- fault injection
def test_k_dropped_grants_are_compensated_exactly_once(api, stack, compensation_kit, payments):
    # Given the fault switch drops the next 3 grants, and 5 sales settle
    compensation_kit.faults('{"grant.skip": 3}')
    sales = [compensation_kit.sell() for _ in range(5)]
    # Then 3 sales have their event but no grant, and nobody was paid for them
    assert len(compensation_kit.grants()) == 2
    owed = [s for s in sales if compensation_kit.balance(s.seeded.promoter_id) == 0]
    assert len(owed) == 3
    payments.assert_ledger_consistent()
    # When an admin declares the fault window and the scan runs
    first = compensation_kit.scan(api)
    # Then exactly the 3 are compensated, each promoter once, and the ledger balances
    assert (
        first["status"],
        first["examined"],
        first["compensated"],
        first["already_granted"],
        first["flagged"],
        first["errors"],
    ) == ("done", 5, 3, 2, 0, 0)
    assert all(compensation_kit.balance(s.seeded.promoter_id) == COMMISSION for s in sales)
    assert all(compensation_kit.balance(s.seeded.merchant_id) == 12300 - COMMISSION for s in sales)
    assert len(compensation_kit.grants()) == 5
    payments.assert_ledger_consistent()
    # And a second scan of the same window grants nothing
    second = compensation_kit.scan(api)
    assert (second["compensated"], second["already_granted"]) == (0, 5)
    payments.assert_ledger_consistent()
    # And the switch is spent: the next sale is paid normally
    sixth = compensation_kit.sell()
    assert compensation_kit.balance(sixth.seeded.promoter_id) == COMMISSION


def test_each_compensation_is_recorded_and_the_user_told(api, stack, compensation_kit):
    # Given a promoter whose sale's grant was dropped
    compensation_kit.faults('{"grant.skip": 1}')
    sale = compensation_kit.sell()
    devices.push_ready(sale.seeded.promoter_id)
    # When the scan runs
    summary = compensation_kit.scan(api)
    # Then the promoter's account carries the compensation record
    assert summary["compensated"] == 1
    record = compensation_kit.records()[0]
    assert (record["event_id"], record["status"], record["type"], record["amount_minor"], record["reason"]) == (
        sale.event_id,
        "compensated",
        "sale_commission",
        COMMISSION,
        "payment outage",
    )
    # And a `compensation` notification names the amount and the day of the sale
    sent = [n for n in stack.notifications() if n["kind"] == "compensation"]
    day = datetime.now(ZoneInfo("Asia/Shanghai"))  # the default locale's time zone
    assert {n["channel"] for n in sent} == {"inapp", "push"}
    assert sent[0]["recipient"] == sale.seeded.promoter_id
    assert sent[0]["text"] == f"因系统故障延迟的销售佣金（{day.month}月{day.day}日）已补发：¥12.30。"


def test_the_notification_follows_the_users_preferences(api, stack, compensation_kit):
    # Given a promoter who chose SMS (the seeded profile has a phone), and a dropped grant
    seeded = compensation_kit.payments.seed_click()
    from tuishou.logic import notifications
    from tuishou.models.notifications import QuietHours

    notifications.set_preferences(
        seeded.promoter_id, ["inapp", "sms"], quiet_hours=QuietHours(start="00:00", end="00:00")
    )
    compensation_kit.faults('{"grant.skip": 1}')
    compensation_kit.sell(seeded)
    # When the scan compensates it
    compensation_kit.scan(api)
    # Then the notice goes to the inbox and by SMS, not by push
    channels = {n["channel"] for n in stack.notifications() if n["kind"] == "compensation"}
    assert channels == {"inapp", "sms"}


def test_the_fault_switch_skips_exactly_k_under_concurrency(stack):
    from tuishou.logic import faults

    # Given the switch armed for 5 skips
    faults.set_faults('{"grant.skip": 5}')
    fired: list[bool] = []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        barrier.wait()
        fired.append(faults.fire(faults.GRANT_SKIP))

    # When 20 grants race through the fault point
    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly 5 were skipped; writing the switch again arms a fresh budget
    assert fired.count(True) == 5
    faults.set_faults('{"grant.skip": 1}')
    assert [faults.fire(faults.GRANT_SKIP) for _ in range(3)] == [True, False, False]
    faults.set_faults("{}")
    assert faults.fire(faults.GRANT_SKIP) is False


def test_local_faults_route_rejects_what_it_cannot_parse(stack):
    for body in (b'{"grant.skip": -1}', b'{"nope": 1}', b"[1]", b"{not json"):
        response = stack.gateway.handle("PUT", "/_local/faults", {}, body)
        assert response.status == 422, body
    assert stack.gateway.handle("PUT", "/_local/faults", {}, b"{}").status == 200


# ---------------------------------------------------------------- legitimacy checks
def test_blocked_self_purchase_and_velocity_are_flagged_not_granted(
    api, stack, compensation_kit, payments, monkeypatch
):
    monkeypatch.setenv("TUISHOU_VELOCITY_MAX_PER_HOUR", "2")
    blocked, cheat, busy, honest = (payments.seed_click() for _ in range(4))
    compensation_kit.set_profile_email(cheat.promoter_id, "Cheat@Example.com")
    # Given an admin blocks one promoter
    assert api.put(f"/admin/users/{blocked.promoter_id}/block", as_user=api.admin).status == 200
    # And every grant below is dropped: a blocked promoter's sale, a promoter paying their own link,
    # three sales in one hour by one promoter (limit 2), and an honest sale
    compensation_kit.faults('{"grant.skip": 6}')
    compensation_kit.sell(blocked)
    compensation_kit.sell(cheat, payer="cheat@example.com ")
    busy_sales = [compensation_kit.sell(payments.seed_click(promoter_id=busy.promoter_id)) for _ in range(3)]
    compensation_kit.sell(honest)
    # When the scan runs
    summary = compensation_kit.scan(api)
    # Then only the honest sale is granted; the others are flagged with their reasons
    assert (summary["compensated"], summary["flagged"]) == (1, 5)
    assert compensation_kit.balance(honest.promoter_id) == COMMISSION
    for user in (blocked, cheat, busy):
        assert compensation_kit.balance(user.promoter_id) == 0
    reasons = {r["event_id"]: r["reason"] for r in compensation_kit.records() if r["status"] == "flagged"}
    assert sorted(reasons.values()) == ["blocked", "self_purchase", "velocity", "velocity", "velocity"]
    assert {s.event_id for s in busy_sales} <= set(reasons)
    listed = api.get("/admin/compensations", as_user=api.admin).json()["items"]
    assert sorted(i["status"] for i in listed) == ["compensated"] + ["flagged"] * 5
    payments.assert_ledger_consistent()
    # And once unblocked, a later scan grants the blocked promoter's sale (the flag is replaced)
    assert api.delete(f"/admin/users/{blocked.promoter_id}/block", as_user=api.admin).status == 200
    again = compensation_kit.scan(api)
    assert again["compensated"] == 1
    assert compensation_kit.balance(blocked.promoter_id) == COMMISSION
    payments.assert_ledger_consistent()


def test_block_route_validates_the_user_id_and_needs_an_admin(api):
    promoter = api.user("promoter")
    assert api.put(f"/admin/users/{promoter.sub}/block", as_user=promoter).status == 403
    response = api.put("/admin/users/not-a-sub/block", as_user=api.admin)
    assert response.status == 422 and response.json()["error"]["field"] == "user_id"


# ---------------------------------------------------------------- exactly once under races
def _recorded_sale(payments, occurred_at: datetime):
    """A sale whose event is recorded but whose settlement has not happened yet (in flight or crashed)."""
    from tuishou.logic.ledger import record_event

    seeded = payments.seed_click()
    payment_id = f"pi_{uuid.uuid4().hex[:20]}"
    event = RewardableEvent(
        event_id=f"sale_commission:stripe:{payment_id}",
        kind="sale_commission",
        user_id=seeded.promoter_id,
        amount_minor=990,
        currency="CNY",
        occurred_at=occurred_at,
        details={
            "provider": "stripe",
            "payment_id": payment_id,
            "product_id": seeded.product_id,
            "merchant_id": seeded.merchant_id,
            "click_id": seeded.click_id,
            "channel": seeded.channel,
            "amount_minor": 9900,
            "merchant_minor": 8910,
            "platform_fee_minor": 0,
        },
    )
    record_event(event)
    return seeded, payment_id, event


@pytest.mark.parametrize("rounds", range(3))
def test_a_scan_racing_a_late_normal_settlement_moves_the_money_once(stack, payments, rounds):
    from tuishou.logic import settlement
    from tuishou.providers import PaymentEvent

    # Given sales whose events were recorded before their settlement transaction ran
    occurred = clock.now() - timedelta(minutes=5)
    sales = [_recorded_sale(payments, occurred) for _ in range(4)]
    scan_id = compensation._create_run("fault_window", occurred - timedelta(minutes=1), clock.now(), "race", "t")
    barrier = threading.Barrier(len(sales) + 1)
    outcomes: list[str] = []

    def late_settlement(seeded, payment_id) -> None:
        barrier.wait()
        outcomes.append(
            settlement.handle(
                PaymentEvent(
                    provider="stripe",
                    payment_id=payment_id,
                    kind="paid",
                    amount_minor=9900,
                    currency="CNY",
                    occurred_at=occurred,
                    click_id=seeded.click_id,
                    payer="someone@example.com",
                )
            )
        )

    def scan() -> None:
        barrier.wait()
        _run_to_end(scan_id)

    # When the scan and the late settlements race
    threads = [threading.Thread(target=late_settlement, args=(s, p)) for s, p, _ in sales]
    threads.append(threading.Thread(target=scan))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every payment is settled once and its money moved once, by whichever won
    assert outcomes.count("settled") == len(sales)
    for seeded, payment_id, _ in sales:
        assert len([e for e in payments.entries() if e["transaction_id"] == f"sale:stripe:{payment_id}"]) == 3
        assert payments.balances()[(seeded.promoter_id, "CNY")] == 990
    summary = compensation.summary(scan_id)
    assert summary.compensated + summary.already_granted == len(sales)
    assert len(payments.settlements()) == len(sales)
    payments.assert_ledger_consistent()


def test_a_settlement_after_the_scan_granted_records_the_payment_without_paying_again(stack, payments):
    from tuishou.logic import settlement
    from tuishou.providers import PaymentEvent

    # Given the scan granted a sale whose settlement never ran
    occurred = clock.now() - timedelta(minutes=5)
    seeded, payment_id, _ = _recorded_sale(payments, occurred)
    scan_id = compensation._create_run("fault_window", occurred - timedelta(minutes=1), clock.now(), "crash", "t")
    assert _run_to_end(scan_id).counts.compensated == 1
    # When the provider's retry finally settles it
    outcome = settlement.handle(
        PaymentEvent(
            provider="stripe",
            payment_id=payment_id,
            kind="paid",
            amount_minor=9900,
            currency="CNY",
            occurred_at=occurred,
            click_id=seeded.click_id,
        )
    )
    # Then the payment is recorded (refunds work on it), and the promoter is paid once
    assert outcome == "settled"
    record = payments.settlements()[0]
    assert record["money_by"] == "compensation"
    assert payments.balances()[(seeded.promoter_id, "CNY")] == 990
    payments.assert_ledger_consistent()


def test_a_scan_killed_mid_way_and_rerun_grants_each_event_once(api, stack, compensation_kit, payments, monkeypatch):
    # Given 4 dropped grants and a scan process that dies after its second compensation
    compensation_kit.faults('{"grant.skip": 4}')
    sales = [compensation_kit.sell() for _ in range(4)]
    scan_id = compensation_kit.declare(api)
    real_tell, told = compensation._tell, []

    def dying_tell(user_id, record):
        told.append(record.event_id)
        real_tell(user_id, record)
        if len(told) == 2:
            raise Killed()

    monkeypatch.setattr(compensation, "_tell", dying_tell)
    with pytest.raises(Killed):
        stack.drain_queues()
    assert len(compensation_kit.grants()) == 2
    # When the message is delivered again (SQS re-delivers what the dead Lambda never acknowledged)
    monkeypatch.setattr(compensation, "_tell", real_tell)
    stack.drain_queues()
    # Then every sale is paid exactly once and the run is done
    summary = api.get(f"/admin/scans/{scan_id}", as_user=api.admin).json()
    assert (summary["status"], summary["compensated"]) == ("done", 4)
    assert all(compensation_kit.balance(s.seeded.promoter_id) == COMMISSION for s in sales)
    assert len([n for n in stack.notifications() if n["kind"] == "compensation" and n["channel"] == "inapp"]) == 4
    payments.assert_ledger_consistent()


def test_overlapping_scans_at_once_grant_each_event_once(stack, compensation_kit, payments):
    # Given 6 dropped grants
    compensation_kit.faults('{"grant.skip": 6}')
    sales = [compensation_kit.sell() for _ in range(6)]
    now = clock.now() + timedelta(milliseconds=5)
    runs = [
        compensation._create_run("fault_window", now - timedelta(minutes=m), now, f"overlap {m}", "t")
        for m in (30, 60, 90, 120)
    ]
    barrier = threading.Barrier(len(runs))

    def run(scan_id: str) -> None:
        barrier.wait()
        _run_to_end(scan_id)

    # When four overlapping windows are scanned concurrently
    threads = [threading.Thread(target=run, args=(r,)) for r in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each event was compensated by exactly one of them
    summaries = [compensation.summary(r) for r in runs]
    assert sum(s.compensated for s in summaries) == 6
    assert all(s.compensated + s.already_granted == 6 for s in summaries)
    assert all(compensation_kit.balance(s.seeded.promoter_id) == COMMISSION for s in sales)
    assert len(compensation_kit.records()) == 6
    payments.assert_ledger_consistent()


def test_a_large_window_runs_in_pages_with_continuations(api, stack, compensation_kit, payments, monkeypatch):
    # Given dropped grants spread over three hours, one bucket per page and one page per invocation
    monkeypatch.setenv("TUISHOU_SCAN_BUCKETS_PER_PAGE", "1")
    monkeypatch.setenv("TUISHOU_SCAN_MAX_PAGES_PER_INVOCATION", "1")
    now = clock.now()
    events = [_recorded_sale(payments, now - timedelta(hours=h, minutes=1))[2] for h in (0, 1, 2)]
    window = {
        "start": (now - timedelta(hours=3)).isoformat(),
        "end": (now + timedelta(milliseconds=1)).isoformat(),
        "reason": "long outage",
    }
    import time

    time.sleep(0.005)
    # When the window is scanned
    scan_id = compensation_kit.declare(api, window)
    delivered = stack.drain_queues()
    # Then it took several invocations (continuations), and every event was granted once
    summary = api.get(f"/admin/scans/{scan_id}", as_user=api.admin).json()
    assert delivered >= 4
    assert (summary["status"], summary["examined"], summary["compensated"]) == ("done", 3, 3)
    assert {g["event_id"] for g in compensation_kit.grants()} == {e.event_id for e in events}
    payments.assert_ledger_consistent()


# ---------------------------------------------------------------- the rolling sweep and channel bonuses
def test_the_hourly_sweep_grants_a_channel_bonus_a_crash_left_ungranted(api, stack, payments):
    from tests.api.test_channel_tasks import TEMPLATE
    from tests.helpers.channel_tasks import FailingGrant
    from tuishou.logic.channel_tasks import record_channel_transaction

    template = api.post(
        "/admin/channel-task-templates", {**TEMPLATE, "target_transactions": 1}, as_user=api.admin
    ).json()
    promoter = api.user("promoter")
    api.post(f"/promoter/channel-tasks/{template['template_id']}/accept", as_user=promoter)
    # Given the ledger was down when the task completed
    with pytest.raises(ConnectionError):
        record_channel_transaction(promoter.sub, "wechat", clock.now(), "stripe:pi_1", grant=FailingGrant())
    # When the hourly sweep runs (after the grace period) — twice
    later = datetime.now(UTC) + timedelta(minutes=11)
    first = stack.run_schedule("CompensationScanFunction", at=later)
    second = stack.run_schedule("CompensationScanFunction", at=later)
    # Then the bonus is credited exactly once
    assert (first["status"], first["compensated"], second["compensated"]) == ("done", 1, 0)
    account = api.get("/promoter/account", as_user=promoter).json()
    assert account["balances"] == [account_balance(5000, available=5000)]
    mine = api.get("/promoter/compensations", as_user=promoter).json()["items"]
    assert [(i["type"], i["status"], i["reason"]) for i in mine] == [("channel_bonus", "compensated", "rolling sweep")]
    payments.assert_ledger_consistent()


def test_the_sweep_leaves_events_inside_the_grace_period_alone(stack, payments):
    # Given an ungranted event from 2 minutes ago
    _recorded_sale(payments, clock.now() - timedelta(minutes=2))
    # When the sweep runs now
    result = stack.run_schedule("CompensationScanFunction")
    # Then it is not touched: its normal grant may still be in flight
    assert (result["examined"], result["compensated"]) == (0, 0)


# ---------------------------------------------------------------- invites
def test_invites_end_to_end(api, stack, payments):
    inviter = api.user("promoter")
    assert (
        api.post("/promoter/profile", {"display_name": "Li", "phone": "+8613800000001"}, as_user=inviter).status == 201
    )
    # Given the inviter's code (asking again gives the same one)
    code = api.post("/promoter/invites", as_user=inviter)
    assert code.status == 201
    assert api.post("/promoter/invites", as_user=inviter).json() == code.json()
    # When a new promoter registers with it
    invitee = api.user("promoter")
    response = api.post(
        "/promoter/profile",
        {"display_name": "Wang", "phone": "+8613800000002", "invite_code": code.json()["invite_code"]},
        as_user=invitee,
    )
    # Then the inviter is credited the configured amount through the ledger
    assert response.status == 201, response.text
    balances = api.get("/promoter/account", as_user=inviter).json()["balances"]
    assert balances == [account_balance(500, available=500)]
    assert api.get("/promoter/account", as_user=invitee).json()["balances"] == []
    payments.assert_ledger_consistent()


def test_a_dropped_invite_grant_is_compensated(api, stack, compensation_kit, payments, monkeypatch):
    monkeypatch.setenv("TUISHOU_INVITEE_REWARD", "true")
    monkeypatch.setenv("TUISHOU_REWARD_AMOUNTS", '{"invite_signup": {"amount_minor": 800, "currency": "CNY"}}')
    inviter, invitee = api.user("promoter"), api.user("promoter")
    api.post("/promoter/profile", {"display_name": "Li", "phone": "+8613800000001"}, as_user=inviter)
    code = api.post("/promoter/invites", as_user=inviter).json()["invite_code"]
    # Given both invite grants are dropped
    compensation_kit.faults('{"grant.skip": 2}')
    api.post(
        "/promoter/profile", {"display_name": "Wang", "phone": "+8613800000002", "invite_code": code}, as_user=invitee
    )
    assert compensation_kit.grants() == []
    # When the scan runs
    summary = compensation_kit.scan(api)
    # Then inviter and invitee each get the mapped amount once
    assert summary["compensated"] == 2
    for user in (inviter, invitee):
        assert compensation_kit.balance(user.sub) == 800
    payments.assert_ledger_consistent()


@pytest.mark.parametrize("code", ["zzzzzzzz", "NOT-A-CODE"])
def test_an_unknown_invite_code_is_422_and_nothing_is_written(api, payments, code):
    promoter = api.user("promoter")
    response = api.post(
        "/promoter/profile", {"display_name": "Wang", "phone": "+8613800000002", "invite_code": code}, as_user=promoter
    )
    assert response.status == 422 and response.json()["error"]["field"] == "invite_code"
    assert (
        api.post("/promoter/profile", {"display_name": "Wang", "phone": "+8613800000002"}, as_user=promoter).status
        == 201
    )  # nothing was written the first time
    assert payments.ledger_items() == []


def test_invites_need_a_promoter_profile(api):
    assert api.post("/promoter/invites", as_user=api.user("promoter")).status == 403
    assert api.post("/promoter/invites", as_user=api.user("merchant")).status == 403


# ---------------------------------------------------------------- contract and validation
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": "2020-01-01T00:00:00+00:00"}, "end"),  # end before start
        ({"end": "2999-01-01T00:00:00+00:00"}, "end"),  # in the future
        ({"start": "2019-01-01T00:00:00+00:00"}, "start"),  # longer than 31 days
        ({"start": "2020-01-02T00:00:00"}, "start"),  # no offset
        ({"reason": ""}, "reason"),
    ],
)
def test_fault_window_validation_names_the_field_and_writes_nothing(api, payments, change, field):
    body = {"start": "2020-01-02T00:00:00+08:00", "end": "2020-01-03T00:00:00+08:00", "reason": "outage", **change}
    response = api.post("/admin/fault-windows", body, as_user=api.admin)
    assert response.status == 422, response.text
    assert response.json()["error"]["field"] == field
    assert payments.ledger_items() == []


def test_scan_routes_are_for_admins_and_unknown_scans_are_404(api):
    promoter = api.user("promoter")
    assert (
        api.post(
            "/admin/fault-windows",
            {"start": "2020-01-02T00:00:00+08:00", "end": "2020-01-03T00:00:00+08:00", "reason": "x"},
            as_user=promoter,
        ).status
        == 403
    )
    assert api.get("/admin/scans/scn_00000000000000000000", as_user=api.admin).status == 404
    assert api.get("/admin/scans/nonsense", as_user=api.admin).status == 404
    assert api.get("/promoter/compensations", as_user=promoter).json() == {"items": [], "next_cursor": None}


def test_admin_lists_compensations_since_a_time(api, compensation_kit):
    compensation_kit.faults('{"grant.skip": 2}')
    compensation_kit.sell()
    compensation_kit.sell()
    before = datetime.now(UTC) - timedelta(seconds=1)
    compensation_kit.scan(api)
    items = api.get("/admin/compensations", as_user=api.admin, query={"since": before.isoformat()}).json()["items"]
    assert len(items) == 2
    assert set(items[0]) >= {
        "event_id",
        "user_id",
        "type",
        "amount_minor",
        "currency",
        "status",
        "reason",
        "created_at",
    }
    later = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    assert api.get("/admin/compensations", as_user=api.admin, query={"since": later}).json()["items"] == []


# ---------------------------------------------------------------- budget
def _seed_events(count: int, start: datetime, spread: timedelta, granted_every: int = 2) -> None:
    """``count`` recorded events, every ``granted_every``-th granted: the items ``put_event_if_absent`` and
    ``write_grant(grant_items(...))`` write, batch-written."""
    from tuishou.logic.ledger import grant_items

    with BatchSeeder() as seeder:
        for i in range(count):
            event = RewardableEvent(
                event_id=f"invite_signup:{uuid.uuid4()}",
                kind="invite_signup",
                user_id=str(uuid.uuid4()),
                amount_minor=500,
                currency="CNY",
                occurred_at=start + spread * i / max(count, 1),
            )
            seeder.put(dynamo.table("ledger"), ledger_dal.event_item(event))
            if i % granted_every == 0:
                seeder.transact(grant_items(event))


@pytest.mark.parametrize("outside", [0, pytest.param(300, marks=pytest.mark.slow)])
def test_scan_reads_about_one_item_per_event_whatever_the_table_size(stack, dynamodb_requests, outside):
    # Given 40 events in a 3-hour window (half granted) and `outside` more events in other hours
    window_start = clock.now() - timedelta(hours=30)
    _seed_events(40, window_start + timedelta(minutes=1), timedelta(hours=3) - timedelta(minutes=2))
    _seed_events(outside // 2, window_start - timedelta(hours=20), timedelta(hours=19))
    _seed_events(outside // 2, window_start + timedelta(hours=4), timedelta(hours=20))
    scan_id = compensation._create_run("fault_window", window_start, window_start + timedelta(hours=3), "b", "t")
    # When the window is scanned
    dynamodb_requests.reset()
    result = _run_to_end(scan_id)
    # Then it examined the 40, read at most 1.2 x 40 + a constant items, and never Scanned
    assert (result.counts.examined, result.counts.compensated) == (40, 20)
    assert dynamodb_requests.operations["Scan"] == 0
    assert dynamodb_requests.items_read <= 1.2 * 40 + 5, dynamodb_requests.items_by_operation


# ---------------------------------------------------------------- poison messages
def test_a_scan_page_that_keeps_failing_is_parked_and_later_scans_go_on(
    api, stack, compensation_kit, payments, monkeypatch
):
    # Given a dropped grant, and a scan whose page fails the same way on every delivery
    compensation_kit.faults('{"grant.skip": 1}')
    sale = compensation_kit.sell()
    poisoned = compensation_kit.declare(api)
    real_scan_page = compensation._scan_page

    def unreadable_for_the_poisoned_run(scan, buckets):
        if scan.scan_id == poisoned:
            raise RuntimeError("bucket unreadable")
        return real_scan_page(scan, buckets)

    monkeypatch.setattr(compensation, "_scan_page", unreadable_for_the_poisoned_run)
    # When the queue delivers it until the redrive policy gives up
    stack.drain_queues()
    # Then the run is reported failed with the reason, and its message is in the dead-letter queue
    summary = api.get(f"/admin/scans/{poisoned}", as_user=api.admin).json()
    assert (summary["status"], summary["failure_reason"]) == ("failed", "RuntimeError: bucket unreadable")
    assert stack.dead_letters("CompensationScanQueue") == 1
    # And a later scan of the same window is not blocked: it grants the sale
    later = compensation_kit.scan(api)
    assert (later["status"], later["compensated"]) == ("done", 1)
    assert compensation_kit.balance(sale.seeded.promoter_id) == COMMISSION


def test_one_event_that_cannot_be_granted_does_not_fail_its_page(api, compensation_kit, monkeypatch):
    # Given two dropped grants, one of which fails in a way nobody planned for
    compensation_kit.faults('{"grant.skip": 2}')
    broken, fine = compensation_kit.sell(), compensation_kit.sell()
    real_grant = compensation._grant

    def grant_breaking_one(event, refunded_minor):
        if event.event_id == broken.event_id:
            raise KeyError("merchant_id")
        return real_grant(event, refunded_minor)

    monkeypatch.setattr(compensation, "_grant", grant_breaking_one)
    # When the scan runs
    summary = compensation_kit.scan(api)
    # Then the other event is granted, the broken one is counted as an error, and the run is done
    assert (summary["status"], summary["compensated"], summary["errors"]) == ("done", 1, 1)
    assert compensation_kit.balance(fine.seeded.promoter_id) == COMMISSION
