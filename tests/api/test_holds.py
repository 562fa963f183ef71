"""The commission lifecycle's first half: a sale's money is credited pending for the product's holding period,
released to available once by the hourly job, and refunds take it back from wherever it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers.payments import account_balance, stripe_checkout_event, stripe_refund_event
from tuishou.dal import holds as holds_dal
from tuishou.logic import holds
from tuishou.logic.ledger import sale_event_id


def _balances(api, user, role: str = "promoter") -> list[dict]:
    return api.get(f"/{role}/account", as_user=user).json()["balances"]


def _release(stack, days: float) -> dict:
    return stack.run_schedule("HoldReleaseFunction", at=datetime.now(UTC) + timedelta(days=days))


def _sale(payments, api, payment_id: str, amount: int = 10000, holding_days: int | None = None):
    promoter, merchant = api.user("promoter"), api.user("merchant")
    seeded = payments.seed_click(promoter_id=promoter.sub, merchant_id=merchant.sub, holding_days=holding_days)
    assert payments.stripe(stripe_checkout_event(payment_id, amount, click_id=seeded.click_id)).status == 200
    return promoter, merchant


def test_a_sale_is_pending_for_its_holding_period_then_released_once(payments, api, stack):
    # Given a sale of 100.00 at 10 % on a product holding 14 days (the default)
    promoter, merchant = _sale(payments, api, "pi_hold1")
    assert _balances(api, promoter) == [account_balance(1000, pending=1000)]
    assert _balances(api, merchant, "merchant") == [account_balance(9000, pending=9000)]
    # When the release job runs before the period ends
    early = _release(stack, 13.9)
    # Then nothing moves
    assert early["released"] == 0 and _balances(api, promoter) == [account_balance(1000, pending=1000)]
    # When it runs after the period, twice
    first, second = _release(stack, 14.01), _release(stack, 14.02)
    # Then both parties' money is available, released once
    assert (first["released"], second["released"]) == (1, 0)
    assert _balances(api, promoter) == [account_balance(1000, available=1000)]
    assert _balances(api, merchant, "merchant") == [account_balance(9000, available=9000)]
    entries = api.get("/promoter/account", as_user=promoter).json()["entries"]
    assert sorted((e["kind"], e["state"], e["amount_minor"]) for e in entries) == [
        ("release", "available", 1000),
        ("release", "pending", -1000),
        ("sale_commission", "pending", 1000),
    ]
    assert api.get("/admin/ledger/audit", as_user=api.admin).json()["ok"]


def test_a_product_holding_nothing_credits_available_at_once(payments, api, stack):
    # Given a product with holding_days 0
    promoter, _ = _sale(payments, api, "pi_hold0", holding_days=0)
    # Then the commission is available with no hold to release
    assert _balances(api, promoter) == [account_balance(1000, available=1000)]
    assert holds_dal.get_hold(sale_event_id("stripe", "pi_hold0")) is None
    assert _release(stack, 1)["due"] == 0


def test_a_refund_during_the_hold_comes_out_of_pending_and_the_rest_is_released(payments, api, stack):
    # Given a held sale refunded by 40.00
    promoter, merchant = _sale(payments, api, "pi_hold2")
    payments.stripe(stripe_refund_event("pi_hold2", 4000, 10000))
    # Then the clawback is taken from pending
    assert _balances(api, promoter) == [account_balance(600, pending=600)]
    assert _balances(api, merchant, "merchant") == [account_balance(5400, pending=5400)]
    # When the hold ends
    assert _release(stack, 15)["released"] == 1
    # Then only what is left is released
    assert _balances(api, promoter) == [account_balance(600, available=600)]
    assert _balances(api, merchant, "merchant") == [account_balance(5400, available=5400)]
    assert api.get("/admin/ledger/audit", as_user=api.admin).json()["ok"]


def test_a_refund_after_release_comes_out_of_available(payments, api, stack):
    # Given a released sale
    promoter, merchant = _sale(payments, api, "pi_hold3")
    _release(stack, 15)
    # When it is refunded in full
    payments.stripe(stripe_refund_event("pi_hold3", 10000, 10000))
    # Then available is reduced (it would go negative had it been paid out)
    assert _balances(api, promoter) == [account_balance(0)]
    assert _balances(api, merchant, "merchant") == [account_balance(0)]
    assert api.get("/admin/ledger/audit", as_user=api.admin).json()["ok"]


def test_a_release_that_read_the_hold_before_a_refund_releases_only_the_rest(payments, api):
    # Given the release job read a hold, then a refund of 25.00 landed
    promoter, _ = _sale(payments, api, "pi_race")
    stale = holds_dal.get_hold(sale_event_id("stripe", "pi_race"))
    payments.stripe(stripe_refund_event("pi_race", 2500, 10000))
    # When the release writes with what it read
    released = holds.release(stale, "2030-01-01T00:00:00.000Z")
    # Then its transaction is refused on the hold, and the retry releases what is left
    assert released == 750 + 6750
    assert _balances(api, promoter) == [account_balance(750, available=750)]
    # And a second release of the same hold does nothing
    assert holds.release(stale, "2030-01-01T00:00:00.000Z") is None
    assert api.get("/admin/ledger/audit", as_user=api.admin).json()["ok"]


def test_the_compensation_scans_grant_of_a_sale_starts_its_hold(payments, api, stack, compensation_kit):
    # Given a sale whose grant a fault skipped, refunded by 10.00 before anything was posted
    compensation_kit.faults('{"grant.skip": 1}')
    promoter, _ = _sale(payments, api, "pi_scan")
    payments.stripe(stripe_refund_event("pi_scan", 1000, 10000))
    assert _balances(api, promoter) == []
    # When the hourly sweep grants it
    swept = stack.run_schedule("CompensationScanFunction", at=datetime.now(UTC) + timedelta(minutes=11))
    assert swept["compensated"] == 1
    # Then the sale is pending net of the refund, and released like any other
    assert _balances(api, promoter) == [account_balance(900, pending=900)]
    assert _release(stack, 15)["released"] == 1
    assert _balances(api, promoter) == [account_balance(900, available=900)]
    assert api.get("/admin/ledger/audit", as_user=api.admin).json()["ok"]


def test_product_settings_change_the_hold_of_later_sales(api):
    # Given a merchant's product
    merchant = api.user("merchant")
    product = api.post("/merchant/products", _product(), as_user=merchant).json()
    assert (product["holding_days"], product["attribution_days"]) == (14, 30)
    # When the merchant changes its settings
    changed = api.patch(f"/merchant/products/{product['product_id']}", {"holding_days": 0}, as_user=merchant)
    # Then the product shows them
    assert changed.status == 200, changed.text
    assert (changed.json()["holding_days"], changed.json()["attribution_days"]) == (0, 30)
    listed = api.get("/merchant/products", as_user=merchant).json()["items"][0]
    assert listed["holding_days"] == 0


def test_bad_product_settings_are_422_naming_the_field(api):
    merchant = api.user("merchant")
    product_id = api.post("/merchant/products", _product(), as_user=merchant).json()["product_id"]
    for body, field in (
        ({"holding_days": 91}, "holding_days"),
        ({"holding_days": -1}, "holding_days"),
        ({"attribution_days": 0}, "attribution_days"),
        ({"attribution_days": 10**30}, "attribution_days"),
        ({"holding_days": "soon"}, "holding_days"),
        ({}, "body"),
        ({"title": "x"}, "title"),
    ):
        response = api.patch(f"/merchant/products/{product_id}", body, as_user=merchant)
        assert response.status == 422, (body, response.text)
        assert field in response.json()["error"]["field"], (body, response.json())
    create = api.post("/merchant/products", {**_product(), "holding_days": 100}, as_user=merchant)
    assert create.status == 422 and "holding_days" in create.json()["error"]["field"]


def _product() -> dict:
    from bench.scenarios import product_body

    return product_body()


def test_advancing_the_local_clock_runs_the_schedules_the_jump_skipped(payments, api, stack):
    # Given a held sale
    promoter, _ = _sale(payments, api, "pi_clock")
    # When the local clock jumps past its holding period (as a demo or a black-box test would)
    jumped = api.post("/_local/clock", {"advance_hours": 14 * 24 + 1})
    # Then the hourly jobs the jump skipped ran once at the new time, so the money is available
    assert jumped.status == 200, jumped.text
    assert jumped.json()["schedules"]["HoldReleaseFunction"] == "ok"
    assert all(outcome == "ok" for outcome in jumped.json()["schedules"].values()), jumped.json()
    assert _balances(api, promoter) == [account_balance(1000, available=1000)]
    # And a jump shorter than an hour runs no hourly job
    assert "HoldReleaseFunction" not in api.post("/_local/clock", {"advance_hours": 0.5}).json()["schedules"]
