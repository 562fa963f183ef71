"""Stripe webhooks: ``Stripe-Signature`` verification (stdlib HMAC) and the two events Tuishou settles.

Verification follows Stripe's scheme: ``t=<unix>,v1=<hex>[,v1=<hex>...]``; HMAC-SHA256 of
``"{t}.{raw body}"`` with the endpoint secret; any ``v1`` matching any configured secret is accepted
(secret rotation); the timestamp must be within 300 s of now in *both* directions (the official
library only rejects stale ones; a timestamp from the future is as suspicious as an old one)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from tuishou import money
from tuishou.models.common import EARLIEST, LATEST, check_amounts
from tuishou.money import MinorUnits
from tuishou.providers import (
    SAFE_ID_PATTERN,
    InvalidNotification,
    PaymentEvent,
    UnreadableNotification,
    click_id_or_none,
)

NAME = "stripe"
SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_SECONDS = 300
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
REFUND_EVENT = "charge.refunded"
# Unix seconds in ASCII digits; 12 reach the year 33658. str.isdigit() also takes "²" or Arabic-Indic digits,
# and int() of 5,000 digits raises: the header is attacker-controlled and read before any signature check.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_ModelT = TypeVar("_ModelT", bound=BaseModel)
# Stripe writes ISO 4217 codes in lower case.
_Currency = Annotated[str, AfterValidator(lambda code: money.check_currency(code.upper()))]


def verify_signature(
    payload: bytes, header: str | None, secrets: Sequence[str], now: int, tolerance: int = TOLERANCE_SECONDS
) -> None:
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


class _Strict(BaseModel):
    """Stripe objects as Tuishou reads them: exact JSON types (no "5000" for 5000, no true for 1), fields
    Tuishou does not use ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class _Envelope(_Strict):
    id: str | None = Field(default=None, max_length=255)
    type: str = Field(max_length=255)
    account: str | None = Field(default=None, max_length=255)  # the connected account (Connect events)


class _CustomerDetails(_Strict):
    email: str | None = None


class _CheckoutSession(_Strict):
    payment_intent: str | None = Field(default=None, pattern=SAFE_ID_PATTERN)
    payment_status: str | None = None
    amount_total: MinorUnits | None = None
    currency: _Currency | None = None  # null for sessions that take no payment (setup mode)
    metadata: dict[str, str] | None = None
    client_reference_id: str | None = None
    customer: str | None = Field(default=None, max_length=255)
    customer_details: _CustomerDetails | None = None

    @model_validator(mode="after")
    def _within_the_currency_maximum(self) -> _CheckoutSession:
        if self.amount_total and self.currency is None:
            raise ValueError("an amount without a currency")
        if self.currency is not None:
            check_amounts(self, self.currency, [(("amount_total",), self.amount_total or 0)])
        return self


class _Refund(_Strict):
    id: str | None = Field(default=None, max_length=255)


class _RefundList(_Strict):
    data: list[_Refund] = []


class _Charge(_Strict):
    payment_intent: str = Field(pattern=SAFE_ID_PATTERN)
    amount_refunded: MinorUnits
    currency: _Currency
    metadata: dict[str, str] | None = None
    refunds: _RefundList | None = None

    @model_validator(mode="after")
    def _within_the_currency_maximum(self) -> _Charge:
        check_amounts(self, self.currency, [(("amount_refunded",), self.amount_refunded)])
        return self


class _Timed(_Envelope):
    created: int = Field(ge=int(EARLIEST.timestamp()), lt=int(LATEST.timestamp()), description="Unix seconds.")


class _SessionData(_Strict):
    object: _CheckoutSession


class _ChargeData(_Strict):
    object: _Charge


class _SessionEvent(_Timed):
    data: _SessionData


class _ChargeEvent(_Timed):
    data: _ChargeData


def parse(body: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: int) -> PaymentEvent | None:
    """Verify, then map a Stripe event to a ``PaymentEvent``; ``None`` for event types Tuishou ignores.
    A verified event that does not parse raises ``UnreadableNotification``."""
    verify_signature(body, headers.get(SIGNATURE_HEADER), secrets, now)
    envelope = _read(_Envelope, body, None)
    if envelope.type in PAID_EVENTS:
        return _paid(_read(_SessionEvent, body, envelope.id))
    if envelope.type == REFUND_EVENT:
        return _refunded(_read(_ChargeEvent, body, envelope.id))
    return None


def _read(model: type[_ModelT], body: bytes, event_id: str | None) -> _ModelT:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise UnreadableNotification.from_validation(exc, event_id or _event_id(body)) from exc


def _event_id(body: bytes) -> str | None:
    """The event id of an event that does not parse otherwise, for the admin's record, if it can be read."""
    try:
        return _EventId.model_validate_json(body).id
    except ValidationError:
        return None


class _EventId(BaseModel):
    id: str | None = Field(default=None, max_length=255)


def _paid(event: _SessionEvent) -> PaymentEvent | None:
    session = event.data.object
    if session.payment_status != "paid" or not session.payment_intent:
        return None  # async methods settle later (async_payment_succeeded); subscriptions are not sales
    if not session.amount_total or session.currency is None:
        return None
    return PaymentEvent(
        provider=NAME,
        payment_id=session.payment_intent,
        kind="paid",
        amount_minor=session.amount_total,
        currency=session.currency,
        occurred_at=datetime.fromtimestamp(event.created, UTC),
        click_id=click_id_or_none((session.metadata or {}).get("tsclid"))
        or click_id_or_none(session.client_reference_id),
        payer_ids=tuple(
            i for i in (session.customer_details.email if session.customer_details else None, session.customer) if i
        ),
        provider_event_id=event.id,
        merchant_id=(session.metadata or {}).get("merchant_id") or None,
        seller_account=event.account,
    )


def _refunded(event: _ChargeEvent) -> PaymentEvent:
    charge = event.data.object
    refunds = charge.refunds.data if charge.refunds else []
    return PaymentEvent(
        provider=NAME,
        payment_id=charge.payment_intent,
        kind="refunded",
        amount_minor=charge.amount_refunded,
        currency=charge.currency,
        occurred_at=datetime.fromtimestamp(event.created, UTC),
        click_id=click_id_or_none((charge.metadata or {}).get("tsclid")),
        refund_id=(refunds[0].id if refunds and refunds[0].id else None) or event.id,
        provider_event_id=event.id,
    )
