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
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qs, parse_qsl

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from tuishou import money
from tuishou.config import ConfigurationError
from tuishou.models.common import within_date_range
from tuishou.providers import (
    SAFE_ID_PATTERN,
    InvalidNotification,
    PaymentEvent,
    UnreadableNotification,
    click_id_or_none,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

NAME = "alipay"
PAID_STATUSES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
BEIJING = timezone(timedelta(hours=8))
MAX_FIELDS = 100
# verify_signature's, imported there; in the SnapStart snapshot all the same (tuishou.snapstart primes them).
DEFERRED_IMPORTS = ("cryptography.hazmat.primitives.asymmetric.padding", "cryptography.hazmat.primitives.serialization")


def form_params(body: bytes) -> dict[str, str]:
    """The form body as a dict; a repeated parameter is ambiguous and rejected."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotification("body is not a form-encoded notification", field="body") from exc
    params = dict(pairs)
    if len(params) != len(pairs):
        raise InvalidNotification("a parameter is repeated", field="body")
    return params


NOTIFICATION_UNSIGNED = frozenset({"sign", "sign_type"})  # a notification's signature covers neither
REQUEST_UNSIGNED = frozenset({"sign"})  # an open-API request's covers sign_type too (Alipay's signing rules)


def signed_content(params: Mapping[str, str], unsigned: frozenset[str] = NOTIFICATION_UNSIGNED) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in unsigned and params[k] != "")


def rsa2_sign(content: str, private_key_pem: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5) of ``content`` as UTF-8, base64: how an app signs an open-API request."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = _private_key(private_key_pem).sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


@lru_cache(maxsize=4)
def _private_key(private_key_pem: str) -> RSAPrivateKey:
    """The loaded key, kept: loading checks the RSA key, about 0.25 s, once per warm process (and rotation)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError("the configured Alipay app private key is not an RSA key")
    return key


def rsa2_verifies(content: str, signature_b64: str, public_key_pem: str) -> bool:
    """Whether ``signature_b64`` is the RSA2 signature of ``content`` by the holder of ``public_key_pem``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = serialization.load_pem_public_key(_pem(public_key_pem).encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError("the configured Alipay public key is not an RSA key")
    try:
        key.verify(signature, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify_signature(params: Mapping[str, str], public_key_pem: str) -> None:
    # cryptography is imported here, not at module load: only Alipay notifications pay its import cost.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if params.get("sign_type", "RSA2") != "RSA2":
        raise InvalidNotification("only RSA2 signatures are accepted", field="sign_type")
    try:
        signature = base64.b64decode(params.get("sign", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidNotification("sign is not base64", field="sign") from exc
    if not signature:
        raise InvalidNotification("missing sign", field="sign")
    key = serialization.load_pem_public_key(_pem(public_key_pem).encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError("the configured Alipay public key is not an RSA key")
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


def _beijing_time(text: str) -> datetime:
    """Alipay times are Beijing wall-clock ``YYYY-MM-DD HH:MM:SS``, within the dates Tuishou stores."""
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    return within_date_range(moment)


def _check_beijing_time(text: str) -> str:
    _beijing_time(text)
    return text


_AlipayTime = Annotated[str, AfterValidator(_check_beijing_time)]
_YuanText = Annotated[str, Field(max_length=24, pattern=r"^[0-9]+(\.[0-9]+)?$")]
_Text = Annotated[str, Field(max_length=256)]


class AlipayNotification(BaseModel):
    """The fields of an Alipay notification Tuishou reads, strictly: every other parameter is ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")

    trade_no: str = Field(pattern=SAFE_ID_PATTERN)
    trade_status: _Text | None = None
    total_amount: _YuanText | None = None
    refund_fee: _YuanText | None = None
    trans_currency: str = "CNY"
    gmt_payment: _AlipayTime | None = None
    gmt_refund: _AlipayTime | None = None
    passback_params: _Text = ""
    notify_id: _Text | None = None
    out_biz_no: _Text | None = None
    buyer_id: _Text | None = None
    buyer_logon_id: _Text | None = None

    @field_validator("trans_currency")
    @classmethod
    def _supported(cls, code: str) -> str:
        return money.check_currency(code)

    @model_validator(mode="after")
    def _amounts_in_minor_units(self) -> AlipayNotification:
        for field in ("total_amount", "refund_fee"):
            text = getattr(self, field)
            if text is not None:
                try:
                    money.to_minor(text, self.trans_currency)
                except ValueError as exc:
                    raise ValidationError.from_exception_data(
                        type(self).__name__,
                        [InitErrorDetails(type=PydanticCustomError("money", str(exc)), loc=(field,), input=text)],
                    ) from exc
        return self

    def minor(self, field: str) -> int:
        return money.to_minor(getattr(self, field), self.trans_currency)

    def time(self, field: str, now: int) -> datetime:
        text = getattr(self, field)
        return _beijing_time(text) if text else datetime.fromtimestamp(now, BEIJING)


def parse(body: bytes, app_id: str, public_key_pem: str, now: int) -> PaymentEvent | None:
    params = form_params(body)
    verify_signature(params, public_key_pem)
    if params.get("app_id") != app_id:
        raise InvalidNotification("notification is for another app", field="app_id")
    notification = _read(params)
    click_id = _click_id(notification.passback_params)
    if notification.refund_fee:
        return PaymentEvent(
            provider=NAME,
            payment_id=notification.trade_no,
            kind="refunded",
            amount_minor=notification.minor("refund_fee"),
            currency=notification.trans_currency,
            occurred_at=notification.time("gmt_refund", now),
            click_id=click_id,
            refund_id=notification.out_biz_no or notification.notify_id,
            provider_event_id=notification.notify_id,
        )
    if notification.trade_status not in PAID_STATUSES or not notification.total_amount:
        return None  # WAIT_BUYER_PAY, TRADE_CLOSED without a refund: nothing to settle
    amount = notification.minor("total_amount")
    if amount == 0:
        return None
    return PaymentEvent(
        provider=NAME,
        payment_id=notification.trade_no,
        kind="paid",
        amount_minor=amount,
        currency=notification.trans_currency,
        occurred_at=notification.time("gmt_payment", now),
        click_id=click_id,
        payer=notification.buyer_id or notification.buyer_logon_id or None,
        provider_event_id=notification.notify_id,
    )


def _read(params: Mapping[str, str]) -> AlipayNotification:
    """The verified parameters as a notification (an empty value is an absent one), or UnreadableNotification."""
    try:
        return AlipayNotification.model_validate({k: v for k, v in params.items() if v != ""})
    except ValidationError as exc:
        notify_id = params.get("notify_id")
        raise UnreadableNotification.from_validation(exc, notify_id if len(notify_id or "") <= 64 else None) from exc


def _click_id(passback: str) -> str | None:
    """``passback_params`` is either the bare click id or a query string carrying ``tsclid``."""
    if "=" in passback:
        return click_id_or_none((parse_qs(passback).get("tsclid") or [""])[0])
    return click_id_or_none(passback)
