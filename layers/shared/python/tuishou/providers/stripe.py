"""Stripe webhooks: ``Stripe-Signature`` verification (stdlib HMAC) and the two events Tuishou settles.

Verification follows Stripe's scheme: ``t=<unix>,v1=<hex>[,v1=<hex>...]``; HMAC-SHA256 of
``"{t}.{raw body}"`` with the endpoint secret; any ``v1`` matching any configured secret is accepted
(secret rotation); the timestamp must be within 300 s of now in *both* directions (the official
library only rejects stale ones; a timestamp from the future is as suspicious as an old one)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tuishou import money
from tuishou.providers import InvalidNotification, PaymentEvent, click_id_or_none, safe_id

NAME = "stripe"
SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_SECONDS = 300
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
REFUND_EVENT = "charge.refunded"
# Unix seconds in ASCII digits; 12 reach the year 33658. str.isdigit() also takes "²" or Arabic-Indic digits,
# and int() of 5,000 digits raises: the header is attacker-controlled and read before any signature check.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def verify_signature(payload: bytes, header: str | None, secrets: Sequence[str], now: int,
                     tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise ``InvalidNotification`` unless ``header`` signs ``payload`` with one of ``secrets`` recently."""
    if not header:
        raise InvalidNotification("missing Stripe-Signature header", field="Stripe-Signature")
    timestamp, signatures = _parse_header(header)
    signed = str(timestamp).encode() + b"." + payload
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets if s]
    # Compare every candidate (no early exit): constant time per comparison, no secret-dependent branches.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(digest, candidate)
    if not matched:
        raise InvalidNotification("no signature matches the payload", field="Stripe-Signature")
    if abs(now - timestamp) > tolerance:
        raise InvalidNotification("signature timestamp outside the tolerance", field="Stripe-Signature")


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidNotification("malformed Stripe-Signature header", field="Stripe-Signature")
    return timestamp, signatures


def parse(body: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: int) -> PaymentEvent | None:
    """Verify, then map a Stripe event to a ``PaymentEvent``; ``None`` for event types Tuishou ignores."""
    verify_signature(body, headers.get(SIGNATURE_HEADER), secrets, now)
    try:
        event = json.loads(body)
        kind, obj = event["type"], event["data"]["object"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidNotification("body is not a Stripe event", field="body") from exc
    occurred_at = datetime.fromtimestamp(int(event.get("created") or now), UTC)
    if kind in PAID_EVENTS:
        return _paid(event, obj, occurred_at)
    if kind == REFUND_EVENT:
        return _refunded(event, obj, occurred_at)
    return None


def _currency(obj: Mapping[str, Any]) -> str:
    currency = str(obj.get("currency") or "").upper()
    if not money.is_currency(currency):
        raise InvalidNotification(f"unsupported currency {currency!r}", field="currency")
    return currency


def _amount(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidNotification(f"{field} must be a non-negative integer", field=field)
    return value


def _paid(event: Mapping[str, Any], session: Mapping[str, Any], occurred_at: datetime) -> PaymentEvent | None:
    if session.get("payment_status") != "paid" or not session.get("payment_intent"):
        return None  # async methods settle later (async_payment_succeeded); subscriptions are not sales
    amount = _amount(session.get("amount_total"), "amount_total")
    if amount == 0:
        return None
    metadata = session.get("metadata") or {}
    details = session.get("customer_details") or {}
    return PaymentEvent(
        provider=NAME, payment_id=safe_id(session["payment_intent"], "payment_intent"), kind="paid",
        amount_minor=amount, currency=_currency(session), occurred_at=occurred_at,
        click_id=click_id_or_none(metadata.get("tsclid")) or click_id_or_none(session.get("client_reference_id")),
        payer=details.get("email") if isinstance(details.get("email"), str) else None,
        provider_event_id=event.get("id"),
    )


def _refunded(event: Mapping[str, Any], charge: Mapping[str, Any], occurred_at: datetime) -> PaymentEvent:
    refunds = (charge.get("refunds") or {}).get("data") or []
    latest = refunds[0].get("id") if refunds and isinstance(refunds[0], dict) else None
    return PaymentEvent(
        provider=NAME, payment_id=safe_id(charge.get("payment_intent"), "payment_intent"), kind="refunded",
        amount_minor=_amount(charge.get("amount_refunded"), "amount_refunded"), currency=_currency(charge),
        occurred_at=occurred_at, click_id=click_id_or_none((charge.get("metadata") or {}).get("tsclid")),
        refund_id=latest if isinstance(latest, str) else event.get("id"), provider_event_id=event.get("id"),
    )
