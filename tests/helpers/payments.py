"""Payments test kit: seeds the items settlement reads (product, promoter profile, click) with the
key builders, signs Stripe and Alipay notifications as the providers do, and reads the ledger back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import boto3

from tools.gateway import HttpResponse
from tools.local_stack import LocalStack
from tuishou.dal import dynamo, keys


def sign_stripe(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_checkout_event(
    payment_id: str,
    amount_minor: int,
    currency: str = "cny",
    click_id: str | None = None,
    *,
    via: str = "metadata",
    payment_status: str = "paid",
) -> dict[str, Any]:
    session: dict[str, Any] = {
        "id": f"cs_test_{uuid.uuid4().hex[:16]}",
        "object": "checkout.session",
        "payment_intent": payment_id,
        "amount_total": amount_minor,
        "currency": currency,
        "payment_status": payment_status,
        "customer_details": {"email": "buyer@example.com"},
        "metadata": {},
        "client_reference_id": None,
    }
    if click_id and via == "metadata":
        session["metadata"]["tsclid"] = click_id
    elif click_id:
        session["client_reference_id"] = click_id
    return {
        "id": f"evt_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": session},
    }


def stripe_refund_event(payment_id: str, amount_refunded: int, amount: int, currency: str = "cny") -> dict[str, Any]:
    charge = {
        "id": f"ch_{uuid.uuid4().hex[:16]}",
        "object": "charge",
        "payment_intent": payment_id,
        "amount": amount,
        "amount_refunded": amount_refunded,
        "currency": currency,
        "metadata": {},
        "refunds": {"data": [{"id": f"re_{uuid.uuid4().hex[:16]}", "amount": amount_refunded}]},
    }
    return {
        "id": f"evt_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "type": "charge.refunded",
        "created": int(time.time()),
        "data": {"object": charge},
    }


def alipay_sign(params: dict[str, str], private_key_pem: str) -> str:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    content = "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in {"sign", "sign_type"} and params[k])
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return base64.b64encode(key.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def alipay_params(
    app_id: str,
    trade_no: str,
    total_amount: str,
    click_id: str | None = None,
    trade_status: str = "TRADE_SUCCESS",
    **extra: str,
) -> dict[str, str]:
    params = {
        "notify_time": "2024-05-01 12:00:01",
        "notify_type": "trade_status_sync",
        "notify_id": uuid.uuid4().hex,
        "app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade_no,
        "out_trade_no": f"order-{trade_no}",
        "trade_status": trade_status,
        "total_amount": total_amount,
        "buyer_id": "2088102177846880",
        "gmt_payment": "2024-05-01 12:00:00",
    }
    if click_id:
        params["passback_params"] = f"tsclid={click_id}"
    params.update(extra)
    return params


def alipay_body(params: dict[str, str], private_key_pem: str) -> bytes:
    signed = {**params, "sign_type": "RSA2"}
    signed["sign"] = alipay_sign(signed, private_key_pem)
    return urlencode(signed).encode()


@dataclass
class Seeded:
    click_id: str
    product_id: str
    promoter_id: str
    merchant_id: str
    channel: str


@dataclass
class PaymentsKit:
    stack: LocalStack
    seeded: list[Seeded] = field(default_factory=list)

    @property
    def provider(self) -> Any:
        assert self.stack.provider is not None
        return self.stack.provider

    # ------------------------------------------------------------------ seeding (as the APIs write them)
    def seed_click(
        self,
        *,
        rules: list[dict[str, Any]] | None = None,
        tags: list[str] | None = None,
        currency: str = "CNY",
        promoter_id: str | None = None,
        merchant_id: str | None = None,
        channel: str = "wechat",
        price_minor: int = 9900,
        holding_days: int | None = None,
    ) -> Seeded:
        """A product with reward rules, a promoter profile and a click, as their APIs write them (a product
        without ``holding_days`` holds for the default, as one stored before products had it)."""
        db = boto3.client("dynamodb")
        product_id, click_id = f"prd_{uuid.uuid4().hex[:20]}", f"clk_{uuid.uuid4().hex[:20]}"
        promoter_id = promoter_id or str(uuid.uuid4())
        merchant_id = merchant_id or str(uuid.uuid4())
        now = "2024-05-01T11:00:00.000Z"
        product = {
            "product_id": product_id,
            "merchant_id": merchant_id,
            "title": "Tea set",
            "category": "home",
            "price_minor": price_minor,
            "currency": currency,
            "landing_url": "https://shop.example/tea",
            "status": "active",
            "created_at": now,
            "reward_rules": rules or [{"promoter_tag": "standard", "type": "percent", "value": 1000}],
            **({"holding_days": holding_days} if holding_days is not None else {}),
        }
        profile = {
            "user_id": promoter_id,
            "role": "promoter",
            "display_name": "Wei",
            "phone": "+8613800000000",
            "tags": tags or ["standard"],
        }
        click = {
            "click_id": click_id,
            "link_id": f"lnk_{uuid.uuid4().hex[:20]}",
            "code": uuid.uuid4().hex[:8],
            "promoter_id": promoter_id,
            "product_id": product_id,
            "merchant_id": merchant_id,
            "channel": channel,
            "created_at": now,
        }
        for table, key, item in (
            ("catalog", keys.product(product_id), product),
            ("users", keys.profile(promoter_id), profile),
            ("tracking", keys.click(click_id), click),
        ):
            pk, sk = key
            db.put_item(TableName=dynamodb_table(table), Item=dynamo.to_item({"pk": pk, "sk": sk, **item}))
        seeded = Seeded(click_id, product_id, promoter_id, merchant_id, channel)
        self.seeded.append(seeded)
        return seeded

    # ------------------------------------------------------------------ delivering
    def stripe(
        self,
        event: dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        body = json.dumps(event).encode()
        signature = sign_stripe(body, secret or self.provider.stripe_webhook_secret, timestamp)
        return self.post("stripe", body, {"Stripe-Signature": signature, **(headers or {})})

    def alipay(self, params: dict[str, str], *, private_key_pem: str | None = None) -> HttpResponse:
        body = alipay_body(params, private_key_pem or self.provider.alipay_private_key_pem)
        return self.post("alipay", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})

    def alipay_paid(self, trade_no: str, total_amount: str, click_id: str | None, **extra: str) -> HttpResponse:
        return self.alipay(alipay_params(self.provider.alipay_app_id, trade_no, total_amount, click_id, **extra))

    def post(self, provider: str, body: bytes, headers: dict[str, str]) -> HttpResponse:
        assert self.stack.gateway is not None
        return self.stack.gateway.handle(
            "POST", f"/webhooks/{provider}", {"Content-Type": "application/json", **headers}, body
        )

    # ------------------------------------------------------------------ reading the ledger back
    def ledger_items(self) -> list[dict[str, Any]]:
        """Every LedgerTable item (a test-only Scan)."""
        db = boto3.client("dynamodb")
        items: list[dict[str, Any]] = []
        args: dict[str, Any] = {"TableName": dynamodb_table("ledger"), "ConsistentRead": True}
        while True:
            page = db.scan(**args)
            items += [dynamo.from_item(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return items
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # Each reader scans the ledger, or filters the ``items`` of one scan already made.
    def entries(self, items: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        return [i for i in (self.ledger_items() if items is None else items) if i["sk"].startswith(keys.ENTRY_PREFIX)]

    def balances(self, items: list[dict[str, Any]] | None = None) -> dict[tuple[str, str], int]:
        return {
            (i["account_id"], i["currency"]): int(i["balance_minor"])
            for i in (self.ledger_items() if items is None else items)
            if i["sk"].startswith(keys.BALANCE_PREFIX)
        }

    def settlements(self, items: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        return [i for i in (self.ledger_items() if items is None else items) if i["sk"] == "SETTLEMENT"]

    def item(self, table: str, key: tuple[str, str]) -> dict[str, Any] | None:
        found = boto3.client("dynamodb").get_item(
            TableName=dynamodb_table(table), Key=dynamo.key(*key), ConsistentRead=True
        )
        return dynamo.from_item(found.get("Item"))

    def assert_ledger_consistent(self) -> None:
        """Every transaction balances and every balance equals the sum of its entries."""
        items = self.ledger_items()
        assert_ledger_consistent(self.entries(items), self.balances(items))


def assert_ledger_consistent(entries: list[dict[str, Any]], balances: dict[tuple[str, str], int]) -> None:
    by_transaction: dict[str, int] = {}
    by_account: dict[tuple[str, str], int] = {}
    for entry in entries:
        by_transaction[entry["transaction_id"]] = by_transaction.get(entry["transaction_id"], 0) + entry["amount_minor"]
        account = (entry["account_id"], entry["currency"])
        by_account[account] = by_account.get(account, 0) + entry["amount_minor"]
    assert all(total == 0 for total in by_transaction.values()), by_transaction
    assert {k: v for k, v in balances.items() if v or k in by_account} == by_account


def dynamodb_table(short_name: str) -> str:
    return dynamo.table(short_name)


def account_balance(
    total: int, *, pending: int = 0, available: int = 0, in_payout: int = 0, paid: int = 0, currency: str = "CNY"
) -> dict[str, Any]:
    """One balance as GET /{role}/account returns it (a system account has all four states at 0)."""
    return {
        "currency": currency,
        "balance_minor": total,
        "pending_minor": pending,
        "available_minor": available,
        "in_payout_minor": in_payout,
        "paid_minor": paid,
    }
