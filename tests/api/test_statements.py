"""GET /{promoter,merchant}/statements/{yyyy-mm}: a month's CSV statement per currency (months in the user's
time zone: Asia/Shanghai unless they chose another)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.helpers.payments import stripe_checkout_event, stripe_refund_event

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_month_lists_its_entries_between_opening_and_closing_balances(payments, api, stack):
    # Given a promoter with a sale, a partial refund and a release this month
    promoter = api.user("promoter")
    seeded = payments.seed_click(promoter_id=promoter.sub)
    payments.stripe(stripe_checkout_event("pi_stmt", 12345, click_id=seeded.click_id))
    payments.stripe(stripe_refund_event("pi_stmt", 2345, 12345))
    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    # When the promoter downloads this month's statement
    response = api.get(f"/promoter/statements/{month}", as_user=promoter)
    # Then it is a CSV attachment
    assert response.status == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert f'filename="tuishou-statement-{month}.csv"' in response.headers["Content-Disposition"]
    rows = _rows(response)
    # With the opening balance (nothing before), each entry with its state and reference, the closing balance
    totals = [
        (r["row"], r["state"], r["amount"]) for r in rows if r["row"] != "entry" and r["state"] in ("", "pending")
    ]
    assert totals == [
        ("opening_balance", "", "0.00"),
        ("opening_balance", "pending", "0.00"),
        ("closing_balance", "", "10.00"),
        ("closing_balance", "pending", "10.00"),
    ]
    entries = [(r["kind"], r["reference"], r["state"], r["amount"]) for r in rows if r["row"] == "entry"]
    assert entries == [
        ("sale_commission", "stripe:pi_stmt", "pending", "12.34"),
        ("refund_commission", "stripe:pi_stmt", "pending", "-2.34"),
    ]
    assert {r["currency"] for r in rows} == {"CNY"}


def test_the_previous_month_is_empty_and_carries_nothing(payments, api):
    promoter = api.user("promoter")
    seeded = payments.seed_click(promoter_id=promoter.sub)
    payments.stripe(stripe_checkout_event("pi_stmt2", 10000, click_id=seeded.click_id))
    last_month = (datetime.now(SHANGHAI).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    rows = _rows(api.get(f"/promoter/statements/{last_month}", as_user=promoter))
    # The sale of this month is not in last month's, whose balances open and close at zero
    assert [r for r in rows if r["row"] == "entry"] == []
    assert {r["amount"] for r in rows} == {"0.00"}


def test_bad_months_are_422_naming_the_field(api):
    merchant = api.user("merchant")
    for month in ("2026-13", "2026-1", "26-01", "2026-00", "abcd-ef"):
        response = api.get(f"/merchant/statements/{month}", as_user=merchant)
        assert response.status == 422 and response.json()["error"]["field"] == "month", (month, response.text)
    future = api.get("/merchant/statements/2999-01", as_user=merchant)
    assert future.status == 422 and future.json()["error"]["field"] == "month"
