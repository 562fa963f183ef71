"""Payouts through the API and the local stack: methods, requests and their refusals, delivery to the
provider exactly once (success, permanent failure, unknown outcome), the open-payout guard, concurrent
requests, automatic payouts, the sweep, the lists and who may read them. The provider adapters are a
scripted fake (tests/helpers/payouts.py) counting sends and transfers per payout id."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine

from tests.helpers.payouts import ALIPAY, STRIPE, FakeProviders, balance, deliver, make_available, payouts_of
from tuishou import clock
from tuishou.dal import payouts as payouts_dal
from tuishou.logic import payouts as payouts_logic


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> FakeProviders:
    fake = FakeProviders()
    monkeypatch.setattr(payouts_logic, "_providers", lambda: fake)
    # The local stack redelivers a failed message at once; SQS waits its visibility timeout (180 s), longer
    # than the in-flight lease (60 s). Without a lease here, a retry asks the provider at once, as in AWS.
    monkeypatch.setenv("TUISHOU_PAYOUT_SEND_LEASE_SECONDS", "0")
    return fake


def promoter_with_money(api, amount_minor: int = 5000, method: dict | None = None):
    promoter = api.user("promoter")
    assert api.put("/promoter/payout-method", method or ALIPAY, as_user=promoter).status == 200
    make_available(promoter.sub, amount_minor)
    return promoter


# ---------------------------------------------------------------- methods
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ALIPAY, "account": "not an account"}, "account"),
        ({**ALIPAY, "account": "1380013800"}, "account"),  # 10 digits: not a CN mobile
        ({**ALIPAY, "account": "208812345678"}, "account"),  # a user id is 2088 + 12 digits
        ({**ALIPAY, "real_name": "   "}, "real_name"),
        ({**ALIPAY, "real_name": "x" * 65}, "real_name"),
        ({"type": "alipay", "account": "lin@example.com"}, "real_name"),
        ({**ALIPAY, "connected_account_id": "acct_123456"}, "connected_account_id"),
        ({"type": "stripe", "connected_account_id": "acct_12"}, "connected_account_id"),
        ({"type": "stripe", "connected_account_id": "ba_1234567"}, "connected_account_id"),
        ({"type": "stripe"}, "connected_account_id"),
        ({"type": "wechat", "account": "x"}, "type"),
        ({**ALIPAY, "auto_payout": "yes please"}, "auto_payout"),
    ],
    ids=str,
)
def test_an_invalid_method_is_refused_naming_the_field(api, body, field):
    # Given a promoter
    promoter = api.user("promoter")
    # When they set an invalid method
    response = api.put("/promoter/payout-method", body, as_user=promoter)
    # Then 422 names the field and no method is stored
    assert response.status == 422, response.text
    assert response.json()["error"]["field"] == field, response.text
    assert api.get("/promoter/payout-method", as_user=promoter).status == 404


@pytest.mark.parametrize(
    ("body", "masked"),
    [
        (ALIPAY, "l***@example.com"),
        ({**ALIPAY, "account": "13812345678"}, "138****5678"),
        ({**ALIPAY, "account": "+8613812345678"}, "+86*******5678"),
        ({**ALIPAY, "account": "2088123456781234"}, "2088********1234"),
        (STRIPE, "acct_****CVdK"),
    ],
    ids=str,
)
def test_a_valid_method_is_stored_and_shown_masked(api, body, masked):
    # Given a merchant
    merchant = api.user("merchant")
    # When they set a method
    response = api.put("/merchant/payout-method", body, as_user=merchant)
    # Then it is the one method, its account masked
    assert response.status == 200, response.text
    shown = api.get("/merchant/payout-method", as_user=merchant).json()
    assert shown["type"] == body["type"] and shown["account_masked"] == masked and shown["auto_payout"] is False


def test_a_new_method_replaces_the_old_one(api):
    promoter = api.user("promoter")
    api.put("/promoter/payout-method", ALIPAY, as_user=promoter)
    api.put("/promoter/payout-method", {**STRIPE, "auto_payout": True}, as_user=promoter)
    shown = api.get("/promoter/payout-method", as_user=promoter).json()
    assert shown["type"] == "stripe" and shown["auto_payout"] is True and shown["real_name_masked"] is None


# ---------------------------------------------------------------- refusals
def test_each_refusal_names_its_field_and_writes_nothing(api, stack, providers):
    # Given a promoter with no method and 50.00 available
    promoter = api.user("promoter")
    make_available(promoter.sub, 5000)
    before = balance(promoter.sub)
    # Then without a method: 409 payout_method
    no_method = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter)
    assert no_method.status == 409 and no_method.json()["error"]["field"] == "payout_method"
    # And with an Alipay method, a currency other than CNY: 422 currency
    api.put("/promoter/payout-method", ALIPAY, as_user=promoter)
    make_available(promoter.sub, 5000, "USD")
    usd = api.post("/promoter/payouts", {"currency": "USD"}, as_user=promoter)
    assert usd.status == 422 and usd.json()["error"]["field"] == "currency"
    # And below the minimum (10.00): 422 amount_minor
    small = api.post("/promoter/payouts", {"currency": "CNY", "amount_minor": 999}, as_user=promoter)
    assert small.status == 422 and small.json()["error"]["field"] == "amount_minor"
    # And above the available balance: 422 amount_minor
    large = api.post("/promoter/payouts", {"currency": "CNY", "amount_minor": 5001}, as_user=promoter)
    assert large.status == 422 and large.json()["error"]["field"] == "amount_minor"
    assert "50.00" in large.json()["error"]["message"]
    # And malformed requests: 422 naming the field
    for body, field in [
        ({"currency": "XXX"}, "currency"),
        ({"currency": "CNY", "amount_minor": -1}, "amount_minor"),
        ({"currency": "CNY", "amount_minor": 10.5}, "amount_minor"),
        ({"currency": "CNY", "extra": 1}, "extra"),
    ]:
        response = api.post("/promoter/payouts", body, as_user=promoter)
        assert response.status == 422 and response.json()["error"]["field"] == field, (body, response.text)
    # And nothing was written: no payout, the balance as it was, nothing sent
    deliver(stack)
    assert payouts_of(api, promoter) == []
    assert balance(promoter.sub) == before
    assert not providers.sends


def test_the_whole_available_balance_below_the_minimum_is_refused(api):
    promoter = promoter_with_money(api, 900)
    response = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter)
    assert response.status == 422 and response.json()["error"]["field"] == "amount_minor"
    assert "¥9.00" in response.json()["error"]["message"]


# ---------------------------------------------------------------- delivery
def test_a_requested_payout_is_paid_once_and_its_user_told(api, stack, providers):
    # Given a promoter with 50.00 available and an Alipay method
    promoter = promoter_with_money(api, 5000)
    # When they ask for a payout of everything available
    response = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter)
    # Then it is accepted and the money is in payout at once
    assert response.status == 202, response.text
    payout_id = response.json()["payout_id"]
    assert response.json()["status"] == "requested"
    assert balance(promoter.sub) == {"available": 0, "in_payout": 5000, "paid": 0, "total": 5000}
    # When the stack delivers it
    deliver(stack)
    # Then it was sent once, to the method's account with the payout id as key, and is paid
    assert providers.sends == {payout_id: 1} and providers.transferred == {payout_id: 1}
    [order] = providers.orders
    assert (order.account, order.real_name, order.amount_minor, order.method_type) == (
        "lin@example.com",
        "林小红",
        5000,
        "alipay",
    )
    [payout] = payouts_of(api, promoter)
    assert payout["status"] == "paid" and payout["paid_at"] and payout["provider_reference"]
    assert payout["method"] == {"type": "alipay", "account_masked": "l***@example.com"}
    assert balance(promoter.sub) == {"available": 0, "in_payout": 0, "paid": 5000, "total": 5000}
    # And the promoter is told, in their inbox
    inbox = api.get("/promoter/notifications", as_user=promoter).json()["items"]
    assert [(n["kind"], n["data"]["payout_id"]) for n in inbox] == [("payout_paid", payout_id)]
    # And replaying the streams and the queue changes nothing
    stack.replay_streams()
    deliver(stack)
    assert providers.sends == {payout_id: 1}
    assert len(api.get("/promoter/notifications", as_user=promoter).json()["items"]) == 1
    # And a new payout may be requested once money is available again
    make_available(promoter.sub, 2000)
    assert api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter).status == 202


def test_a_permanent_failure_returns_the_money_and_tells_why(api, stack, providers):
    # Given a merchant with a Stripe method whose account the provider refuses for good
    merchant = api.user("merchant")
    api.put("/merchant/payout-method", STRIPE, as_user=merchant)
    make_available(merchant.sub, 8000, "USD")
    providers.send_outcomes = ["failed"]
    # When they request 30.00 and it is delivered
    response = api.post("/merchant/payouts", {"currency": "USD", "amount_minor": 3000}, as_user=merchant)
    assert response.status == 202, response.text
    deliver(stack)
    # Then the payout failed with the provider's reason and the money is available again
    [payout] = payouts_of(api, merchant)
    assert payout["status"] == "failed" and payout["failure_reason"] == "PAYEE_NOT_EXIST"
    assert balance(merchant.sub, "USD") == {"available": 8000, "in_payout": 0, "paid": 0, "total": 8000}
    assert sum(providers.sends.values()) == 1 and not providers.transferred
    # And the merchant is told why
    [notice] = api.get("/merchant/notifications", as_user=merchant).json()["items"]
    assert notice["kind"] == "payout_failed" and notice["data"]["reason"] == "PAYEE_NOT_EXIST"
    # And a new request may follow (the open-payout guard went with the failure)
    assert api.post("/merchant/payouts", {"currency": "USD"}, as_user=merchant).status == 202


def test_an_unknown_outcome_is_queried_before_any_resend(api, stack, providers):
    # Given a payout whose transfer happens but whose answer is lost (a timeout)
    promoter = promoter_with_money(api, 5000)
    providers.send_outcomes = ["timeout_then_succeed"]
    payout_id = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter).json()["payout_id"]
    # When it is delivered (the message is retried after the unknown outcome)
    deliver(stack)
    # Then the retry asked the provider, found the transfer and settled it: sent once, paid
    assert providers.sends == {payout_id: 1} and providers.transferred == {payout_id: 1}
    assert providers.queries[payout_id] >= 1
    assert payouts_of(api, promoter)[0]["status"] == "paid"
    assert balance(promoter.sub)["paid"] == 5000


def test_a_lost_request_is_sent_again_only_when_the_provider_has_no_transfer(api, stack, providers):
    # Given a payout whose first send never reached the provider
    promoter = promoter_with_money(api, 5000)
    providers.send_outcomes = ["unknown"]
    payout_id = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter).json()["payout_id"]
    # When it is delivered
    deliver(stack)
    # Then the retry asked first, found nothing, sent again: one transfer, paid, two attempts
    assert providers.queries[payout_id] == 1 and providers.sends == {payout_id: 2}
    assert providers.transferred == {payout_id: 1}
    assert payouts_of(api, promoter)[0]["status"] == "paid"


def test_while_the_provider_cannot_answer_the_payout_stays_sending_then_the_sweep_finishes_it(api, stack, providers):
    # Given a payout whose transfer happened, and a provider whose queries fail
    promoter = promoter_with_money(api, 5000)
    providers.send_outcomes, providers.query_unknown = ["timeout_then_succeed"], True
    payout_id = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter).json()["payout_id"]
    # When it is delivered: every retry asks, none sends again; the message ends dead-lettered
    deliver(stack)
    assert providers.sends == {payout_id: 1}
    assert payouts_of(api, promoter)[0]["status"] == "sending"
    assert balance(promoter.sub)["in_payout"] == 5000
    assert stack.dead_letters("PayoutQueue") == 1
    # When the provider answers again and the hourly sweep runs after the stuck limit
    providers.query_unknown = False
    result = stack.host.invoke(
        "PayoutJobsFunction", {"job": "sweep", "time": clock.iso(clock.now() + timedelta(minutes=16))}
    )
    assert result == {"job": "sweep", "enqueued": 1}
    deliver(stack)
    # Then it is paid, never sent twice
    assert payouts_of(api, promoter)[0]["status"] == "paid"
    assert providers.sends == {payout_id: 1} and providers.transferred == {payout_id: 1}


def test_the_sweep_sends_a_payout_whose_queue_message_was_lost(api, stack, providers):
    # Given a requested payout whose stream record was consumed but whose message was lost
    promoter = promoter_with_money(api, 5000)
    payout_id = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter).json()["payout_id"]
    stack.drain_streams()
    _purge(stack, "PayoutQueue")
    # When the sweep runs before the stuck limit, Then it leaves the payout alone
    assert stack.host.invoke("PayoutJobsFunction", {"job": "sweep"})["enqueued"] == 0
    # When it runs after the limit, Then the payout is sent
    later = clock.iso(clock.now() + timedelta(minutes=16))
    assert stack.host.invoke("PayoutJobsFunction", {"job": "sweep", "time": later})["enqueued"] == 1
    deliver(stack)
    assert providers.sends == {payout_id: 1}
    assert payouts_of(api, promoter)[0]["status"] == "paid"


def _purge(stack, queue_id: str) -> None:
    import boto3

    boto3.client("sqs").purge_queue(QueueUrl=stack.physical[queue_id])


# ---------------------------------------------------------------- one open payout per currency
def test_an_open_payout_blocks_a_second_in_that_currency(api, stack, providers):
    # Given a promoter with a payout of 20.00 requested out of 50.00
    promoter = promoter_with_money(api, 5000)
    assert api.post("/promoter/payouts", {"currency": "CNY", "amount_minor": 2000}, as_user=promoter).status == 202
    # When they ask for another before it ends
    second = api.post("/promoter/payouts", {"currency": "CNY", "amount_minor": 2000}, as_user=promoter)
    # Then 409 names the currency and nothing more is in payout
    assert second.status == 409 and second.json()["error"]["field"] == "currency"
    assert balance(promoter.sub) == {"available": 3000, "in_payout": 2000, "paid": 0, "total": 5000}
    assert len(payouts_of(api, promoter)) == 1


def test_concurrent_requests_make_one_payout(api, stack, providers):
    # Given a promoter with 50.00 available
    promoter = promoter_with_money(api, 5000)
    statuses: list[int] = []
    start = threading.Barrier(2)

    def request() -> None:
        start.wait()
        statuses.append(
            api.post("/promoter/payouts", {"currency": "CNY", "amount_minor": 3000}, as_user=promoter).status
        )

    # When two requests of 30.00 race
    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one is accepted and the other refused; one payout, 30.00 in payout
    assert sorted(statuses)[0] == 202 and sorted(statuses)[1] in {409, 422, 503}, statuses
    assert len(payouts_of(api, promoter)) == 1
    assert balance(promoter.sub) == {"available": 2000, "in_payout": 3000, "paid": 0, "total": 5000}
    deliver(stack)
    assert sum(providers.transferred.values()) == 1


# ---------------------------------------------------------------- automatic payouts
def test_the_daily_job_pays_out_opted_in_users_at_or_above_the_minimum(api, stack, providers):
    # Given an opted-in promoter with 50.00, an opted-in merchant with 9.00 (below the minimum), an opted-in
    # promoter with a payout already open, and a promoter who did not opt in
    rich = promoter_with_money(api, 5000, {**ALIPAY, "auto_payout": True})
    poor = api.user("merchant")
    api.put("/merchant/payout-method", {**STRIPE, "auto_payout": True}, as_user=poor)
    make_available(poor.sub, 900, "USD")
    busy = promoter_with_money(api, 5000, {**ALIPAY, "auto_payout": True})
    api.post("/promoter/payouts", {"currency": "CNY", "amount_minor": 1000}, as_user=busy)
    manual = promoter_with_money(api, 5000)
    # When the daily job runs
    run = stack.host.invoke("PayoutJobsFunction", {"job": "auto_payouts"})
    # Then only the first got a payout of everything available; the open one was skipped, not failed
    assert run == {"job": "auto_payouts", "users": 3, "requested": 1, "skipped": 1}
    assert [(p["amount_minor"], p["status"]) for p in payouts_of(api, rich)] == [(5000, "requested")]
    assert payouts_of(api, poor) == [] and payouts_of(api, manual) == []
    assert len(payouts_of(api, busy)) == 1
    # And once delivered it is paid
    deliver(stack)
    assert payouts_of(api, rich)[0]["status"] == "paid"


def test_opting_out_leaves_the_auto_payout_index(api, stack, providers):
    promoter = promoter_with_money(api, 5000, {**ALIPAY, "auto_payout": True})
    api.put("/promoter/payout-method", ALIPAY, as_user=promoter)
    assert stack.host.invoke("PayoutJobsFunction", {"job": "auto_payouts"})["users"] == 0


# ---------------------------------------------------------------- lists and authorization
def test_admins_list_payouts_by_status_with_a_cursor(api, stack, providers):
    # Given three promoters with a requested payout each
    promoters = [promoter_with_money(api, 2000) for _ in range(3)]
    for promoter in promoters:
        api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter)
    # When an admin lists the requested ones two at a time
    first = api.get("/admin/payouts", as_user=api.admin, query={"status": "requested", "limit": 2}).json()
    second = api.get(
        "/admin/payouts", as_user=api.admin, query={"status": "requested", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    # Then every payout is listed once
    listed = [p["user_id"] for p in first["items"] + second["items"]]
    assert sorted(listed) == sorted(p.sub for p in promoters)
    # And once delivered they are listed as paid, not requested
    deliver(stack)
    assert api.get("/admin/payouts", as_user=api.admin, query={"status": "requested"}).json()["items"] == []
    assert len(api.get("/admin/payouts", as_user=api.admin, query={"status": "paid"}).json()["items"]) == 3
    # And a status is required and must be one of the four
    assert api.get("/admin/payouts", as_user=api.admin).status == 422
    bad = api.get("/admin/payouts", as_user=api.admin, query={"status": "lost"})
    assert bad.status == 422 and bad.json()["error"]["field"] == "status"


def test_users_see_only_their_own_payouts_and_only_admins_see_all(api, stack, providers):
    # Given two promoters, one with a payout
    owner, other = promoter_with_money(api, 5000), api.user("promoter")
    api.post("/promoter/payouts", {"currency": "CNY"}, as_user=owner)
    # Then the other promoter lists none, and cannot use the owner's cursor
    assert payouts_of(api, other) == []
    page = api.get("/promoter/payouts", as_user=owner, query={"limit": 1}).json()
    assert len(page["items"]) == 1
    # And neither promoters nor merchants may read the admin list; a promoter cannot use merchant routes
    assert api.get("/admin/payouts", as_user=owner, query={"status": "requested"}).status == 403
    assert api.get("/admin/payouts", as_user=api.user("merchant"), query={"status": "requested"}).status == 403
    assert api.get("/merchant/payouts", as_user=owner).status == 403
    assert api.post("/merchant/payouts", {"currency": "CNY"}, as_user=owner).status == 403
    assert api.put("/merchant/payout-method", ALIPAY, as_user=owner).status == 403
    # And without a token: 401
    assert api.get("/promoter/payouts").status == 401


def test_a_cursor_of_another_users_payouts_is_refused(api, providers):
    owner, other = promoter_with_money(api, 5000), promoter_with_money(api, 5000)
    for user in (owner, other):
        api.post("/promoter/payouts", {"currency": "CNY", "amount_minor": 1000}, as_user=user)
    make_available(owner.sub, 5000, "USD")
    api.put("/promoter/payout-method", STRIPE, as_user=owner)
    api.post("/promoter/payouts", {"currency": "USD"}, as_user=owner)
    cursor = api.get("/promoter/payouts", as_user=owner, query={"limit": 1}).json()["next_cursor"]
    assert cursor
    response = api.get("/promoter/payouts", as_user=other, query={"cursor": cursor})
    assert response.status == 400 and response.json()["error"]["field"] == "cursor"


def test_two_workers_with_the_same_payout_send_it_once(api, stack, providers, monkeypatch):
    # Given a requested payout, and a provider slow enough for two workers to overlap
    promoter = promoter_with_money(api, 5000)
    payout_id = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter).json()["payout_id"]
    slow_send, start = providers.send_transfer, threading.Barrier(2)

    def send_slowly(order):
        time.sleep(0.2)
        return slow_send(order)

    monkeypatch.setattr(providers, "send_transfer", send_slowly)
    outcomes: list[str] = []

    def work() -> None:
        start.wait()
        try:
            outcomes.append(payouts_logic.send(promoter.sub, payout_id))
        except payouts_logic.RetryLater:
            outcomes.append("retry")

    # When two copies of its message are handled at once
    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one worker sent and settled it; the other was turned away before sending
    assert sorted(outcomes) == ["paid", "retry"]
    assert providers.sends == {payout_id: 1} and providers.transferred == {payout_id: 1}
    # And the retried copy finds it paid and sends nothing
    assert payouts_logic.send(promoter.sub, payout_id) == "done"
    assert balance(promoter.sub) == {"available": 0, "in_payout": 0, "paid": 5000, "total": 5000}


def test_an_attempt_in_flight_is_neither_queried_nor_sent_again(api, stack, providers, monkeypatch):
    # Given a payout a worker has just moved to sending (its call to the provider not answered yet)
    monkeypatch.setenv("TUISHOU_PAYOUT_SEND_LEASE_SECONDS", "60")
    promoter = promoter_with_money(api, 5000)
    payout_id = api.post("/promoter/payouts", {"currency": "CNY"}, as_user=promoter).json()["payout_id"]
    payout = payouts_dal.get_payout(promoter.sub, payout_id)
    assert payout is not None and payouts_dal.start_sending(payout, clock.iso())
    # When another copy of its message arrives within the lease
    with pytest.raises(payouts_logic.RetryLater):
        payouts_logic.send(promoter.sub, payout_id)
    # Then the provider was neither asked nor sent anything
    assert not providers.queries and not providers.sends
    # And after the lease the retry asks first: nothing there (the first worker died), so it sends, once
    with time_machine.travel(clock.now() + timedelta(seconds=61)):
        assert payouts_logic.send(promoter.sub, payout_id) == "paid"
    assert providers.queries == {payout_id: 1} and providers.sends == {payout_id: 1}
