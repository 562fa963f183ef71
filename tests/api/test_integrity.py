"""Integrity on the normal path (docs/integrity.md): held commissions and their reviews, merchant match,
the attribution window, payers stored only as keyed hashes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.payments import Seeded, stripe_checkout_event, stripe_refund_event
from tuishou import clock
from tuishou.logic.ledger import audit_ledger
from tuishou.models.ledger import COMMISSIONS_UNDER_REVIEW, PAYMENT_CLEARING

PRICE = 9900
COMMISSION = 990  # 10% of 99.00


def _audit_ok() -> None:
    report = audit_ledger()
    assert report.ok, report.violations


def _pay(payments, seeded: Seeded, amount_minor: int = PRICE, *, payer: str = "buyer@example.com", **session: Any):
    payment_id = f"pi_{uuid.uuid4().hex[:20]}"
    event = stripe_checkout_event(payment_id, amount_minor, click_id=seeded.click_id)
    event["data"]["object"]["customer_details"]["email"] = payer
    event["data"]["object"].update(session)
    response = payments.stripe(event)
    assert response.status == 200, response.text
    return payment_id, response.json()["outcome"]


def _promoter_with_a_click(api, payments, compensation_kit, email: str = "wei@example.com"):
    promoter = api.user("promoter")
    seeded = payments.seed_click(promoter_id=promoter.sub)
    compensation_kit.set_profile_email(promoter.sub, email)
    return promoter, seeded


def _open_review(api, promoter_id: str) -> dict[str, Any]:
    [review] = [
        r
        for r in api.get("/admin/reviews", query={"status": "open"}, as_user=api.admin).json()["items"]
        if r["promoter_id"] == promoter_id
    ]
    return review


def _sweep(stack) -> dict[str, Any]:
    return stack.run_schedule("CompensationScanFunction", at=datetime.now(UTC) + timedelta(minutes=11))


# ---------------------------------------------------------------- held, then decided
def test_a_self_purchase_is_held_and_its_approval_pays_exactly_once(api, stack, payments, compensation_kit):
    # Given a promoter who pays through their own link (the same email, written differently)
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    payment_id, outcome = _pay(payments, seeded, payer=" Wei@Example.com")
    # Then the payment settles held: the merchant's share as usual, the commission under review
    assert outcome == "settled"
    assert compensation_kit.balance(seeded.merchant_id) == PRICE - COMMISSION
    assert compensation_kit.balance(COMMISSIONS_UNDER_REVIEW) == COMMISSION
    assert compensation_kit.balance(promoter.sub) == 0
    review = _open_review(api, promoter.sub)
    assert (review["reason"], review["payment_id"], review["commission_minor"]) == ("self_purchase", payment_id, 990)
    assert (review["amount_minor"], review["merchant_id"], review["status"]) == (PRICE, seeded.merchant_id, "open")
    # And the promoter is told it is under review, with nothing of why
    [notice] = [
        n
        for n in api.get("/promoter/notifications", as_user=promoter).json()["items"]
        if n["kind"] == "commission_under_review"
    ]
    assert "self" not in json.dumps(notice).lower() and "wei@" not in json.dumps(notice).lower()
    held = api.get("/promoter/commissions", query={"status": "held"}, as_user=promoter).json()["items"]
    assert [(c["payment_id"], c["commission_minor"]) for c in held] == [(payment_id, COMMISSION)]
    assert "reason" not in held[0]
    # And nobody's payer is stored in clear
    assert "wei@example.com" not in json.dumps(payments.ledger_items()).lower()
    # And the scan and the sweep leave it alone while it is open
    assert (compensation_kit.scan(api)["flagged"], _sweep(stack)["flagged"]) == (0, 0)
    # When an admin approves it (twice)
    first = api.post(f"/admin/reviews/{review['review_id']}/approve", as_user=api.admin)
    second = api.post(f"/admin/reviews/{review['review_id']}/approve", as_user=api.admin)
    # Then the promoter is paid once; the second decision is refused
    assert first.status == 200 and first.json()["status"] == "approved"
    assert first.json()["decided_by"] == api.admin.sub
    assert second.status == 409 and second.json()["error"]["field"] == "review_id"
    assert compensation_kit.balance(promoter.sub) == COMMISSION
    assert compensation_kit.balance(COMMISSIONS_UNDER_REVIEW) == 0
    # And scans and sweeps after the decision grant nothing more
    assert compensation_kit.scan(api)["compensated"] == 0
    assert _sweep(stack)["compensated"] == 0
    assert compensation_kit.balance(promoter.sub) == COMMISSION
    granted = api.get("/promoter/commissions", query={"status": "granted"}, as_user=promoter).json()["items"]
    assert [c["status"] for c in granted] == ["granted"]
    _audit_ok()


def test_a_declined_commission_goes_to_the_merchant_and_is_never_granted(api, stack, payments, compensation_kit):
    # Given a held self-purchase
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    _pay(payments, seeded, payer="wei@example.com")
    review = _open_review(api, promoter.sub)
    # When an admin declines it
    response = api.post(
        f"/admin/reviews/{review['review_id']}/decline", {"reason": "paid through own link"}, as_user=api.admin
    )
    # Then the decision is recorded and final; the merchant keeps the whole payment
    assert response.status == 200, response.text
    assert (response.json()["status"], response.json()["decision_reason"]) == ("declined", "paid through own link")
    assert api.post(f"/admin/reviews/{review['review_id']}/approve", as_user=api.admin).status == 409
    assert compensation_kit.balance(seeded.merchant_id) == PRICE
    # And no scan or sweep ever grants it
    compensation_kit.scan(api)
    _sweep(stack)
    assert compensation_kit.balance(promoter.sub) == 0
    declined = api.get("/promoter/commissions", query={"status": "declined"}, as_user=promoter).json()["items"]
    assert [c["status"] for c in declined] == ["declined"]
    listed = api.get("/admin/reviews", query={"status": "declined"}, as_user=api.admin).json()["items"]
    assert review["review_id"] in {r["review_id"] for r in listed}
    _audit_ok()


@pytest.mark.parametrize("decision", ["open", "approve", "decline"])
def test_a_refund_of_a_held_sale_takes_the_commission_back_from_where_it_lies(
    api, payments, compensation_kit, decision
):
    # Given a held sale, still open or decided
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    payment_id, _ = _pay(payments, seeded, payer="wei@example.com")
    review = _open_review(api, promoter.sub)
    if decision != "open":
        body = {"reason": "no"} if decision == "decline" else None
        assert api.post(f"/admin/reviews/{review['review_id']}/{decision}", body, as_user=api.admin).status == 200
    # When it is refunded, in part then in full
    assert payments.stripe(stripe_refund_event(payment_id, 3300, PRICE)).status == 200
    assert payments.stripe(stripe_refund_event(payment_id, PRICE, PRICE)).status == 200
    # Then every account is back to zero and the audit holds
    assert {k: v for k, v in payments.balances().items() if v} == {}
    _audit_ok()


def test_a_partly_refunded_held_sale_moves_only_what_is_left_on_approval(api, payments, compensation_kit):
    # Given a held sale refunded by a third
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    payment_id, _ = _pay(payments, seeded, payer="wei@example.com")
    assert payments.stripe(stripe_refund_event(payment_id, 3300, PRICE)).status == 200
    # When the review is approved
    review = _open_review(api, promoter.sub)
    assert api.post(f"/admin/reviews/{review['review_id']}/approve", as_user=api.admin).status == 200
    # Then the promoter gets the commission net of the refund; nothing stays under review
    assert compensation_kit.balance(promoter.sub) == COMMISSION - 330
    assert compensation_kit.balance(COMMISSIONS_UNDER_REVIEW) == 0
    _audit_ok()


# ---------------------------------------------------------------- the rules at their edges
def test_a_blocked_promoters_sale_is_held(api, payments, compensation_kit):
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    assert api.put(f"/admin/users/{promoter.sub}/block", as_user=api.admin).status == 200
    _pay(payments, seeded)
    assert _open_review(api, promoter.sub)["reason"] == "blocked"
    assert compensation_kit.balance(promoter.sub) == 0


def test_velocity_holds_the_sale_over_the_limit_of_the_hour(api, payments, compensation_kit, monkeypatch):
    # Given a limit of 2 sales per promoter and UTC hour
    monkeypatch.setenv("TUISHOU_VELOCITY_MAX_PER_HOUR", "2")
    promoter, first = _promoter_with_a_click(api, payments, compensation_kit)
    # When the promoter makes 3 sales in one hour
    for seeded in [first, *(payments.seed_click(promoter_id=promoter.sub) for _ in range(2))]:
        _pay(payments, seeded)
    # Then the first two are paid and the third is held
    assert compensation_kit.balance(promoter.sub) == 2 * COMMISSION
    review = _open_review(api, promoter.sub)
    assert (review["reason"], review["evidence"]) == ("velocity", {"sales_in_hour": 3, "limit": 2})


@pytest.mark.parametrize(("amount", "held"), [(10 * PRICE, False), (10 * PRICE + 1, True)])
def test_an_amount_above_ten_times_the_price_is_held(api, payments, compensation_kit, amount, held):
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    _pay(payments, seeded, amount)
    assert (compensation_kit.balance(COMMISSIONS_UNDER_REVIEW) > 0) is held
    if held:
        assert _open_review(api, promoter.sub)["evidence"]["max_price_multiple"] == 10


def test_reviews_are_for_admins_and_ids_are_checked(api):
    promoter = api.user("promoter")
    assert api.get("/admin/reviews", as_user=promoter).status == 403
    assert api.post("/admin/reviews/rev_0123456789abcdefghjk/approve", as_user=api.admin).status == 404
    assert api.post("/admin/reviews/nope/approve", as_user=api.admin).status == 404
    response = api.post("/admin/reviews/rev_0123456789abcdefghjk/decline", {"reason": ""}, as_user=api.admin)
    assert response.status == 422
    assert api.get("/admin/reviews", query={"status": "maybe"}, as_user=api.admin).status == 422


# ---------------------------------------------------------------- merchant match
def test_a_checkout_naming_another_merchant_is_not_attributed(payments, compensation_kit):
    # Given a click of merchant A's product
    seeded = payments.seed_click()
    # When merchant B's checkout carries it
    _, outcome = _pay(payments, seeded, metadata={"tsclid": seeded.click_id, "merchant_id": str(uuid.uuid4())})
    # Then nothing is attributed, the payment is flagged and no money moves
    assert outcome == "unattributed"
    [record] = payments.settlements()
    assert (record["reason"], record["flagged"]) == ("merchant_mismatch", True)
    assert not payments.entries()
    # And the product's own merchant naming itself is paid as usual
    _, outcome = _pay(payments, seeded, metadata={"tsclid": seeded.click_id, "merchant_id": seeded.merchant_id})
    assert outcome == "settled"


def test_an_alipay_payment_to_another_seller_is_not_attributed(api, payments):
    # Given a merchant whose configured Alipay seller is S
    merchant = api.user("merchant")
    seeded = payments.seed_click(merchant_id=merchant.sub)
    response = api.put("/merchant/payment-settings", {"alipay_seller_id": "2088000000000001"}, as_user=merchant)
    assert response.status == 200 and response.json()["alipay_seller_id"] == "2088000000000001"
    # When a payment to S and one to another seller carry the merchant's click (passback encoded as Alipay returns it)
    passback = f"tsclid%3D{seeded.click_id}"
    ours = payments.alipay_paid("T100", "99.00", None, passback_params=passback, seller_id="2088000000000001")
    theirs = payments.alipay_paid("T101", "99.00", None, passback_params=passback, seller_id="2088000000000002")
    # Then only the payment to S is attributed
    assert ours.text == theirs.text == "success"
    outcome = {s["payment_id"]: (s["status"], s.get("reason")) for s in payments.settlements()}
    assert outcome == {"T100": ("settled", None), "T101": ("unattributed", "merchant_mismatch")}


def test_payment_settings_validate_and_keep_the_other_field(api):
    merchant = api.user("merchant")
    assert api.get("/merchant/payment-settings", as_user=merchant).json()["alipay_seller_id"] is None
    assert api.put("/merchant/payment-settings", {}, as_user=merchant).status == 422
    bad = api.put("/merchant/payment-settings", {"alipay_seller_id": "12345"}, as_user=merchant)
    assert bad.status == 422 and bad.json()["error"]["field"] == "alipay_seller_id"
    api.put("/merchant/payment-settings", {"alipay_seller_id": "2088000000000001"}, as_user=merchant)
    both = api.put("/merchant/payment-settings", {"stripe_account_id": "acct_1Abc"}, as_user=merchant).json()
    assert (both["alipay_seller_id"], both["stripe_account_id"]) == ("2088000000000001", "acct_1Abc")
    assert (
        api.put("/merchant/payment-settings", {"stripe_account_id": "acct_1"}, as_user=api.user("promoter")).status
        == 403
    )


# ---------------------------------------------------------------- attribution window
@pytest.mark.parametrize(
    ("after_window", "outcome"), [(timedelta(0), "settled"), (timedelta(seconds=1), "unattributed")]
)
def test_a_payment_after_the_clicks_window_is_the_merchants_whole(payments, after_window, outcome):
    # Given a click 7 days ago on a product attributing for 7 days
    clicked = clock.now().replace(microsecond=0) - timedelta(days=7, seconds=5)
    seeded = payments.seed_click(clicked_at=clock.iso(clicked), attribution_days=7)
    # When the payment comes at the window's end, or one second after
    payment_id = f"pi_{uuid.uuid4().hex[:20]}"
    event = stripe_checkout_event(payment_id, PRICE, click_id=seeded.click_id)
    event["created"] = int((clicked + timedelta(days=7) + after_window).timestamp())
    response = payments.stripe(event)
    # Then it is attributed up to the window's last second, and after it the merchant gets it all
    assert response.json()["outcome"] == outcome
    if outcome == "unattributed":
        [record] = payments.settlements()
        assert (record["reason"], record["flagged"]) == ("click_expired", False)
        assert payments.balances() == {(seeded.merchant_id, "CNY"): PRICE, (PAYMENT_CLEARING, "CNY"): -PRICE}
        # And a refund takes it back from the merchant
        assert payments.stripe(stripe_refund_event(payment_id, PRICE, PRICE)).status == 200
        assert set(payments.balances().values()) == {0}
    _audit_ok()


# ---------------------------------------------------------------- a decided commission is released like any sale
def _release(stack, days: float) -> dict[str, Any]:
    return stack.run_schedule("HoldReleaseFunction", at=datetime.now(UTC) + timedelta(days=days))


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_a_decided_commission_is_pending_with_its_sale_and_released_once(
    api, stack, payments, compensation_kit, decision
):
    # Given a held self-purchase on a product holding 14 days, decided within them
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    _pay(payments, seeded, payer="wei@example.com")
    review = _open_review(api, promoter.sub)
    body = {"reason": "no"} if decision == "decline" else None
    assert api.post(f"/admin/reviews/{review['review_id']}/{decision}", body, as_user=api.admin).status == 200
    payee, amount = (promoter.sub, COMMISSION) if decision == "approve" else (seeded.merchant_id, PRICE)
    balances = {b["currency"]: b for b in _account_balances(payee)}
    assert (balances["CNY"]["pending_minor"], balances["CNY"]["available_minor"]) == (amount, 0)
    # When the release job runs after the holding period, twice
    first, second = _release(stack, 14.01), _release(stack, 14.02)
    # Then the decided commission is released with its sale, once
    assert (first["released"], second["released"]) == (1, 0)
    balances = {b["currency"]: b for b in _account_balances(payee)}
    assert (balances["CNY"]["pending_minor"], balances["CNY"]["available_minor"]) == (0, amount)
    _audit_ok()


def test_a_decision_after_the_release_credits_available(api, stack, payments, compensation_kit):
    # Given a held sale whose holding period ended before the review was decided
    promoter, seeded = _promoter_with_a_click(api, payments, compensation_kit)
    _pay(payments, seeded, payer="wei@example.com")
    assert _release(stack, 14.01)["released"] == 1
    # When it is approved
    review = _open_review(api, promoter.sub)
    assert api.post(f"/admin/reviews/{review['review_id']}/approve", as_user=api.admin).status == 200
    # Then the commission is available at once
    [balance] = _account_balances(promoter.sub)
    assert (balance["pending_minor"], balance["available_minor"]) == (0, COMMISSION)
    _audit_ok()


def _account_balances(account_id: str) -> list[dict[str, Any]]:
    from tuishou.dal import ledger as ledger_dal

    return [vars(b) for b in ledger_dal.balances(account_id)]
