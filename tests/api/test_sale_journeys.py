"""Sales through the whole stack, over HTTP: a real share URL, its redirect, signed provider webhooks, then
the ledger stream consumer (``stack.drain_streams()``). A sale moves the channel task and completes it (bonus
credited and notified); a full refund reverses it (and, soon after completion, claws the bonus back);
duplicate deliveries, a refund before its payment and a replay of every stream change nothing twice."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.helpers import devices
from tests.helpers.payments import stripe_checkout_event, stripe_refund_event
from tests.helpers.tasks import create_product, link_for, promoter
from tuishou.dal import keys

TEMPLATE = {
    "channel": "wechat",
    "duration_hours": 24,
    "target_transactions": 2,
    "bonus_minor": 5000,
    "currency": "CNY",
    "reminder_threshold_hours": 5,
}


class Shop:
    """A merchant's product, a promoter who accepted a wechat task, and the promoter's wechat share URL."""

    def __init__(self, api, **template_overrides) -> None:
        self.api = api
        self.template = api.post(
            "/admin/channel-task-templates", {**TEMPLATE, **template_overrides}, as_user=api.admin
        ).json()
        self.product = create_product(api, api.user("merchant"), price_minor=10000)
        self.seller = promoter(api)
        accepted = api.post(f"/promoter/channel-tasks/{self.template['template_id']}/accept", as_user=self.seller)
        assert accepted.status == 201, accepted.text
        link = link_for(api, self.seller, self.product["product_id"])
        shared = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "wechat"}, as_user=self.seller)
        self.share_url = shared.json()["share_url"]

    def click(self) -> str:
        parts = urlsplit(self.share_url)
        response = self.api.get(f"{parts.path}?{parts.query}")
        assert response.status == 302, response.text
        return parse_qs(urlsplit(response.headers["Location"]).query)["tsclid"][0]

    def task(self) -> dict:
        items = self.api.get("/promoter/channel-tasks", as_user=self.seller).json()["items"]
        return next(i for i in items if i["template_id"] == self.template["template_id"])

    def balance(self) -> int:
        balances = self.api.get("/promoter/account", as_user=self.seller).json()["balances"]
        return sum(b["balance_minor"] for b in balances)

    def transactions_counted(self, payments) -> int:
        item = payments.item("tracking", keys.promoter_task_history(self.seller.sub, self.product["product_id"]))
        return int((item or {}).get("transactions", 0))

    def bonus_notices(self, stack) -> list[str]:
        return sorted(
            n["channel"]
            for n in stack.notifications()
            if n["recipient"] == self.seller.sub and n["kind"] == "channel_bonus_completed"
        )


def test_sales_complete_the_task_and_the_bonus_is_granted_and_notified_once(api, payments, stack):
    # Given a promoter on a 2-sale wechat task, and a shopper who paid through the share URL
    shop = Shop(api)
    devices.push_ready(shop.seller.sub)
    assert payments.stripe(stripe_checkout_event("pi_a", 10000, click_id=shop.click())).status == 200
    # When the ledger stream is drained
    stack.drain_streams()
    # Then the sale is counted and counts toward the task
    assert shop.transactions_counted(payments) == 1
    assert (shop.task()["status"], shop.task()["progress"]["transactions"]) == ("active", 1)
    # When a second shopper pays (delivered twice by the provider) and the stream is drained
    paid = stripe_checkout_event("pi_b", 10000, click_id=shop.click())
    assert payments.stripe(paid).json()["outcome"] == "settled"
    assert payments.stripe(paid).json()["outcome"] == "duplicate"
    stack.drain_streams()
    # Then the task completed, the bonus is credited once and the promoter notified once
    assert (shop.task()["status"], shop.task()["progress"]["transactions"]) == ("completed", 2)
    assert shop.balance() == 2 * 1000 + 5000
    assert shop.bonus_notices(stack) == ["inapp", "push"]
    # And replaying every stream record, twice, changes nothing
    stack.replay_streams()
    stack.replay_streams()
    assert shop.transactions_counted(payments) == 2
    assert (shop.task()["status"], shop.task()["progress"]["transactions"]) == ("completed", 2)
    assert shop.balance() == 2 * 1000 + 5000
    assert shop.bonus_notices(stack) == ["inapp", "push"]
    payments.assert_ledger_consistent()


def test_a_full_refund_reverses_progress_and_a_partial_one_does_not(api, payments, stack):
    # Given two counted sales on a 3-sale task
    shop = Shop(api, target_transactions=3)
    payments.stripe(stripe_checkout_event("pi_kept", 10000, click_id=shop.click()))
    payments.stripe(stripe_checkout_event("pi_returned", 10000, click_id=shop.click()))
    stack.drain_streams()
    assert shop.task()["progress"]["transactions"] == 2
    # When one is refunded in part and the other in full (the full refund delivered twice)
    payments.stripe(stripe_refund_event("pi_kept", 2500, 10000))
    refund = stripe_refund_event("pi_returned", 10000, 10000)
    assert payments.stripe(refund).json()["outcome"] == "refund_applied"
    assert payments.stripe(refund).json()["outcome"] == "duplicate"
    stack.drain_streams()
    # Then only the full refund took its sale out of the task's progress
    assert (shop.task()["status"], shop.task()["progress"]["transactions"]) == ("active", 1)
    # And a replay reverses nothing twice
    stack.replay_streams()
    stack.replay_streams()
    assert shop.task()["progress"]["transactions"] == 1
    payments.assert_ledger_consistent()


def test_a_full_refund_soon_after_completion_claws_the_bonus_back_once(api, payments, stack):
    # Given a completed 1-sale task whose bonus was credited
    shop = Shop(api, target_transactions=1)
    payments.stripe(stripe_checkout_event("pi_done", 10000, click_id=shop.click()))
    stack.drain_streams()
    assert (shop.task()["status"], shop.balance()) == ("completed", 1000 + 5000)
    # When the sale is refunded in full the same day
    payments.stripe(stripe_refund_event("pi_done", 10000, 10000))
    stack.drain_streams()
    stack.replay_streams()
    # Then the task shows the reversed progress, and commission and bonus are both taken back, once
    assert (shop.task()["status"], shop.task()["progress"]["transactions"]) == ("completed", 0)
    assert shop.balance() == 0
    kinds = [e["kind"] for e in payments.entries() if e["account_id"] == shop.seller.sub]
    assert kinds.count("channel_bonus_clawback") == 1
    payments.assert_ledger_consistent()


def test_a_refund_before_its_payment_settles_once_and_never_counts_toward_the_task(api, payments, stack):
    # Given a shopper's refund that overtakes the payment
    shop = Shop(api)
    click_id = shop.click()
    assert payments.stripe(stripe_refund_event("pi_early", 10000, 10000)).json()["outcome"] == "refund_pending"
    # When the payment arrives twice and the streams are drained and replayed
    paid = stripe_checkout_event("pi_early", 10000, click_id=click_id)
    assert payments.stripe(paid).json()["outcome"] == "settled"
    assert payments.stripe(paid).json()["outcome"] == "duplicate"
    stack.drain_streams()
    stack.replay_streams()
    # Then the sale is counted once as a transaction, nothing toward the task, and nothing is owed
    assert shop.transactions_counted(payments) == 1
    assert shop.task()["progress"]["transactions"] == 0
    assert shop.balance() == 0
    payments.assert_ledger_consistent()
