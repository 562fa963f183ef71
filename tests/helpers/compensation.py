"""Compensation test kit: paid sales through the real webhook, the fault switch, fault windows through the
API, scan runs through the queue, and readers of grants, compensation records and accounts."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from tests.helpers.payments import PaymentsKit, Seeded, stripe_checkout_event
from tools.local_stack import LocalStack
from tuishou.dal import dynamo, keys


class Killed(BaseException):
    """A Lambda dying mid-run (timeout, OOM): not an error the code under test could catch and count."""


@dataclass
class Sale:
    seeded: Seeded
    payment_id: str
    amount_minor: int

    @property
    def event_id(self) -> str:
        return f"sale_commission:stripe:{self.payment_id}"


class CompensationKit:
    def __init__(self, stack: LocalStack, payments: PaymentsKit) -> None:
        self.stack = stack
        self.payments = payments

    # ------------------------------------------------------------------ making events
    def sell(self, seeded: Seeded | None = None, amount_minor: int = 12300, payer: str = "buyer@example.com") -> Sale:
        """A paid Stripe checkout through the real webhook (10% commission by the default rule)."""
        seeded = seeded or self.payments.seed_click()
        payment_id = f"pi_{uuid.uuid4().hex[:20]}"
        event = stripe_checkout_event(payment_id, amount_minor, click_id=seeded.click_id)
        event["data"]["object"]["customer_details"]["email"] = payer
        response = self.payments.stripe(event)
        assert response.status == 200, response.text
        return Sale(seeded, payment_id, amount_minor)

    def set_profile_email(self, user_id: str, email: str) -> None:
        boto3.client("dynamodb").update_item(
            TableName=dynamo.table("users"),
            Key=dynamo.key(*keys.profile(user_id)),
            UpdateExpression="SET email = :e",
            ExpressionAttributeValues={":e": {"S": email}},
        )

    def faults(self, body: str) -> None:
        response = self.stack.gateway.handle("PUT", "/_local/faults", {}, body.encode())
        assert response.status == 200, response.text

    # ------------------------------------------------------------------ scanning
    @staticmethod
    def window(minutes_back: int = 60) -> dict[str, str]:
        time.sleep(0.002)  # the window ends strictly after the last event, and not in the future
        now = datetime.now(UTC)
        return {
            "start": (now - timedelta(minutes=minutes_back)).isoformat(),
            "end": now.isoformat(),
            "reason": "payment outage",
        }

    def declare(self, api: Any, window: dict[str, str] | None = None) -> str:
        response = api.post("/admin/fault-windows", window or self.window(), as_user=api.admin)
        assert response.status == 202, response.text
        return response.json()["scan_id"]

    def scan(self, api: Any, window: dict[str, str] | None = None) -> dict[str, Any]:
        """Declare a fault window and let the queue run it to the end; the run's summary."""
        scan_id = self.declare(api, window)
        self.stack.drain_queues()
        response = api.get(f"/admin/scans/{scan_id}", as_user=api.admin)
        assert response.status == 200, response.text
        return response.json()

    # ------------------------------------------------------------------ reading back
    def grants(self) -> list[dict[str, Any]]:
        return [i for i in self.payments.ledger_items() if i["sk"] == "GRANT"]

    def records(self) -> list[dict[str, Any]]:
        return [i for i in self.payments.ledger_items() if i["sk"] == "COMPENSATION"]

    def balance(self, account_id: str, currency: str = "CNY") -> int:
        return self.payments.balances().get((account_id, currency), 0)
