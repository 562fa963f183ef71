"""Alipay asynchronous notifications: RSA2 (SHA256withRSA, PKCS#1 v1.5) verification and parsing.

The signed content is every parameter except ``sign`` and ``sign_type`` (and empty values), sorted by
name, ``k=v`` joined by ``&``, using the URL-decoded values. ``app_id`` must be ours. Amounts are yuan
decimal strings converted exactly with ``money.to_minor``. A notification carrying ``refund_fee`` is a
refund (Alipay reports the total refunded so far); ``TRADE_SUCCESS`` / ``TRADE_FINISHED`` otherwise mean
paid - the same ``trade_no`` twice is one payment, so ``TRADE_FINISHED`` after ``TRADE_SUCCESS`` is a
duplicate."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, parse_qsl

from tuishou import money
from tuishou.providers import InvalidNotification, PaymentEvent, click_id_or_none, safe_id

NAME = "alipay"
PAID_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
BEIJING = timezone(timedelta(hours=8))
MAX_FIELDS = 100


def form_params(body: bytes) -> dict[str, str]:
    """The form body as a dict; a repeated parameter is ambiguous and rejected."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True,
                          max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotification("body is not a form-encoded notification", field="body") from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise InvalidNotification("a parameter is repeated", field="body")
    return params


def signed_content(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in {"sign", "sign_type"} and params[k] != "")


def verify_signature(params: Mapping[str, str], public_key_pem: str) -> None:
    # cryptography is imported here, not at module load: only Alipay notifications pay its import cost.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    if params.get("sign_type", "RSA2") != "RSA2":
        raise InvalidNotification("only RSA2 signatures are accepted", field="sign_type")
    try:
        signature = base64.b64decode(params.get("sign", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidNotification("sign is not base64", field="sign") from exc
    if not signature:
        raise InvalidNotification("missing sign", field="sign")
    key = serialization.load_pem_public_key(_pem(public_key_pem).encode())
    try:
        key.verify(signature, signed_content(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise InvalidNotification("signature does not verify", field="sign") from exc


def _pem(key: str) -> str:
    """Alipay hands out bare base64 public keys; accept those as well as PEM."""
    key = key.strip()
    if key.startswith("-----BEGIN"):
        return key
    return "-----BEGIN PUBLIC KEY-----\n" + key + "\n-----END PUBLIC KEY-----\n"


def parse(body: bytes, app_id: str, public_key_pem: str, now: int) -> PaymentEvent | None:
    params = form_params(body)
    verify_signature(params, public_key_pem)
    if params.get("app_id") != app_id:
        raise InvalidNotification("notification is for another app", field="app_id")
    currency = params.get("trans_currency") or "CNY"
    if not money.is_currency(currency):
        raise InvalidNotification(f"unsupported currency {currency!r}", field="trans_currency")
    payment_id = safe_id(params.get("trade_no"), "trade_no")
    click_id = _click_id(params.get("passback_params", ""))
    if params.get("refund_fee"):
        return PaymentEvent(
            provider=NAME, payment_id=payment_id, kind="refunded",
            amount_minor=_minor(params["refund_fee"], currency, "refund_fee"), currency=currency,
            occurred_at=_time(params.get("gmt_refund"), now), click_id=click_id,
            refund_id=params.get("out_biz_no") or params.get("notify_id"), provider_event_id=params.get("notify_id"))
    if params.get("trade_status") not in PAID_STATUSES:
        return None  # WAIT_BUYER_PAY, TRADE_CLOSED without a refund: nothing to settle
    amount = _minor(params.get("total_amount", ""), currency, "total_amount")
    if amount == 0:
        return None
    return PaymentEvent(
        provider=NAME, payment_id=payment_id, kind="paid", amount_minor=amount, currency=currency,
        occurred_at=_time(params.get("gmt_payment"), now), click_id=click_id,
        payer=params.get("buyer_id") or params.get("buyer_logon_id") or None,
        provider_event_id=params.get("notify_id"))


def _minor(text: str, currency: str, field: str) -> int:
    try:
        amount = money.to_minor(text, currency)
    except ValueError as exc:
        raise InvalidNotification(f"{field}: {exc}", field=field) from exc
    if amount < 0:
        raise InvalidNotification(f"{field} must not be negative", field=field)
    return amount


def _click_id(passback: str) -> str | None:
    """``passback_params`` is either the bare click id or a query string carrying ``tsclid``."""
    if "=" in passback:
        return click_id_or_none((parse_qs(passback).get("tsclid") or [""])[0])
    return click_id_or_none(passback)


def _time(text: str | None, now: int) -> datetime:
    """Alipay times are Beijing wall-clock ``YYYY-MM-DD HH:MM:SS``; fall back to receipt time."""
    if text:
        try:
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError:
            pass
    return datetime.fromtimestamp(now, BEIJING)
