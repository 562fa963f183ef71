"""GET /promoter/account, /merchant/account and /admin/accounts/{user_id}: balances and entries, newest first."""

from __future__ import annotations

from tests.helpers.payments import account_balance, stripe_checkout_event, stripe_refund_event
from tuishou.models.ledger import PAYMENT_CLEARING


def test_promoter_and_merchant_read_their_own_accounts_newest_first(payments, api):
    # Given a promoter and a merchant who are real users, one sale and a partial refund
    promoter, merchant = api.user("promoter"), api.user("merchant")
    seeded = payments.seed_click(promoter_id=promoter.sub, merchant_id=merchant.sub)
    payments.stripe(stripe_checkout_event("pi_acct", 20000, click_id=seeded.click_id))
    payments.stripe(stripe_refund_event("pi_acct", 5000, 20000))
    # When the promoter reads the account
    account = api.get("/promoter/account", as_user=promoter).json()
    # Then the balance and both entries are there, the refund first
    assert account["balances"] == [account_balance(2000 - 500, pending=2000 - 500)]
    assert [(e["kind"], e["amount_minor"]) for e in account["entries"]] == [
        ("refund_commission", -500),
        ("sale_commission", 2000),
    ]
    assert set(account["entries"][0]) == {
        "entry_id",
        "transaction_id",
        "kind",
        "amount_minor",
        "currency",
        "created_at",
        "state",
        "reference",
    }
    assert {e["state"] for e in account["entries"]} == {"pending"}  # still in the product's holding period
    assert account["next_cursor"] is None
    # And the merchant sees its revenue
    merchant_account = api.get("/merchant/account", as_user=merchant).json()
    assert merchant_account["balances"] == [account_balance(18000 - 4500, pending=18000 - 4500)]


def test_entries_page_with_a_cursor(payments, api):
    promoter = api.user("promoter")
    seeded = payments.seed_click(promoter_id=promoter.sub)
    for n in range(3):
        payments.stripe(stripe_checkout_event(f"pi_page{n}", 1000 + n, click_id=seeded.click_id))
    first = api.get("/promoter/account", as_user=promoter, query={"limit": 2}).json()
    assert len(first["entries"]) == 2 and first["next_cursor"]
    second = api.get("/promoter/account", as_user=promoter, query={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(second["entries"]) == 1
    ids = [e["entry_id"] for e in first["entries"] + second["entries"]]
    assert len(set(ids)) == 3


def test_a_cursor_of_another_account_is_refused(payments, api):
    promoter, other = api.user("promoter"), api.user("promoter")
    for who in (promoter, other):
        seeded = payments.seed_click(promoter_id=who.sub)
        for n in range(2):
            payments.stripe(stripe_checkout_event(f"pi_{who.sub[:6]}{n}", 1000, click_id=seeded.click_id))
    foreign = api.get("/promoter/account", as_user=other, query={"limit": 1}).json()["next_cursor"]
    response = api.get("/promoter/account", as_user=promoter, query={"cursor": foreign})
    assert response.status == 400 and response.json()["error"]["field"] == "cursor"


def test_roles_are_enforced_and_admins_read_any_account(payments, api):
    promoter = api.user("promoter")
    seeded = payments.seed_click(promoter_id=promoter.sub)
    payments.stripe(stripe_checkout_event("pi_admin", 5000, click_id=seeded.click_id))
    assert api.get("/merchant/account", as_user=promoter).status == 403
    assert api.get("/promoter/account").status == 401
    assert api.get(f"/admin/accounts/{promoter.sub}", as_user=promoter).status == 403
    as_admin = api.get(f"/admin/accounts/{promoter.sub}", as_user=api.admin).json()
    assert as_admin["balances"] == [account_balance(500, pending=500)]
    clearing = api.get(f"/admin/accounts/{PAYMENT_CLEARING}", as_user=api.admin).json()
    assert clearing["balances"] == [account_balance(-5000)]  # a system account has no lifecycle states


def test_bad_query_and_path_are_422_naming_the_field(api):
    promoter = api.user("promoter")
    response = api.get("/promoter/account", as_user=promoter, query={"limit": 0})
    assert response.status == 422 and response.json()["error"]["field"] == "limit"
    response = api.get("/admin/accounts/bad%20id!", as_user=api.admin)
    assert response.status == 422 and response.json()["error"]["field"] == "user_id"


# ---------------------------------------------------------------- the ledger audit
def test_admin_ledger_audit_reports_a_clean_ledger_and_names_each_violation(payments, api):
    # Given a sale and a partial refund
    seeded = payments.seed_click()
    payments.stripe(stripe_checkout_event("pi_audit", 9900, click_id=seeded.click_id))
    payments.stripe(stripe_refund_event("pi_audit", 3300, 9900))
    # When an admin audits the ledger
    response = api.get("/admin/ledger/audit", as_user=api.admin)
    # Then every rule holds
    assert response.status == 200, response.text
    report = response.json()
    assert (report["ok"], report["transactions"], report["payments"], report["violation_count"]) == (True, 2, 1, 0)
    assert report["entries"] == 6 and report["accounts"] == 3
    # When a stray refund entry takes from the promoter more than the sale posted, and a balance drifts
    _put_entry(seeded.promoter_id, "refund:stripe:pi_audit:9900", "stripe:pi_audit", -5000)
    _put_entry(PAYMENT_CLEARING, "refund:stripe:pi_audit:9900", "stripe:pi_audit", 4000)
    # Then the audit names each broken rule
    report = api.get("/admin/ledger/audit", as_user=api.admin).json()
    assert report["ok"] is False
    assert {v["rule"] for v in report["violations"]} == {
        "unbalanced_transaction",
        "balance_mismatch",
        "refund_exceeds_posted",
    }
    assert api.get("/admin/ledger/audit", as_user=api.user("promoter")).status == 403


def _put_entry(account_id: str, transaction_id: str, reference: str, amount_minor: int) -> None:
    """An entry written behind the ledger's back (no balance update): what the audit exists to catch."""
    import boto3

    from tuishou.dal import dynamo, keys

    pk, sk = keys.account_entry(account_id, "2030-01-01T00:00:00.000Z", f"ent_{transaction_id[-8:]}{amount_minor}")
    boto3.client("dynamodb").put_item(
        TableName=dynamo.table("ledger"),
        Item=dynamo.to_item(
            {
                "pk": pk,
                "sk": sk,
                "account_id": account_id,
                "transaction_id": transaction_id,
                "reference": reference,
                "amount_minor": amount_minor,
                "currency": "CNY",
                "kind": "refund_commission",
            }
        ),
    )
