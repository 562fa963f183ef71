"""Payouts to an Alipay account or a Stripe connected account: the only code that calls the providers'
transfer APIs. One transfer per payout id, which is also the provider's idempotency key (Alipay
``out_biz_no``; Stripe ``Idempotency-Key`` and ``transfer_group``), so a repeated send is the first
transfer's answer, never a second transfer.

``send_transfer`` answers SUCCEEDED, FAILED (the provider refused for good, e.g. an unknown payee: its
code is the reason) or UNKNOWN (a timeout, a 5xx, a lost or unsigned answer, Alipay ``20000`` or
``SYSTEM_ERROR``, a refusal of the platform's own request): the transfer may or may not have happened, and
``query_transfer`` must find out before anything is sent again. Only a verified answer decides: Alipay's
signed with Alipay's key, Stripe's over TLS with our secret key. Provider and network trouble never
raises; missing configuration (SSM) does, before anything is sent.

Base URLs and the timeout are configuration (``settings.payout_providers()``): the real gateways in
production, the emulators of ``tools/alipay_emulator.py`` and ``tools/stripe_emulator.py`` locally."""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta, timezone
from enum import StrEnum
from typing import Any

from tuishou import clock, money, settings
from tuishou.dal import provider_config
from tuishou.providers import alipay

ALIPAY_TRANSFER = "alipay.fund.trans.uni.transfer"
ALIPAY_QUERY = "alipay.fund.trans.common.query"
ALIPAY_PRODUCT_CODE = "TRANS_ACCOUNT_NO_PWD"  # a transfer to an Alipay account without a password
ALIPAY_BIZ_SCENE = "DIRECT_TRANSFER"
ALIPAY_USER_ID = re.compile(r"2088\d{12}")  # anything else is a logon id (email or phone)
ALIPAY_CURRENCY = "CNY"  # trans_amount is yuan
ALIPAY_SUCCESS, ALIPAY_BUSINESS_FAILED = "10000", "40004"
# Business refusals that say nothing about the payee: Alipay's trouble, or the platform's own balance. The
# payout stays open (query, then retry) instead of going back to the user as failed.
ALIPAY_RETRY_SUB_CODES = frozenset({"SYSTEM_ERROR", "PAYER_BALANCE_NOT_ENOUGH"})
ALIPAY_NOT_FOUND = "ORDER_NOT_EXIST"
ALIPAY_FAILED_STATUSES = frozenset({"FAIL", "CLOSED", "REFUND"})
BEIJING = timezone(timedelta(hours=8))

# Stripe error codes that mean the destination cannot receive the transfer (a `resource_missing` counts
# only when it names the destination).
STRIPE_PAYEE_CODES = frozenset({"account_invalid", "insufficient_capabilities_for_transfer"})


class TransferStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PayoutOrder:
    payout_id: str  # Alipay out_biz_no; Stripe Idempotency-Key and transfer_group
    currency: str
    amount_minor: int
    method_type: str  # "alipay" | "stripe"
    account: str  # Alipay logon id (email/phone) or user id (2088 + 12 digits); Stripe acct_...
    real_name: str | None  # Alipay payee name (required for a logon id)
    title: str  # order_title / description


@dataclass(frozen=True)
class TransferResult:
    status: TransferStatus
    provider_reference: str | None = None  # Alipay order_id / Stripe tr_...
    reason: str | None = None  # provider code for FAILED (sub_code / Stripe error code), or why UNKNOWN


class _NoAnswer(Exception):
    """No answer that can be trusted: the outcome is unknown (the message says why)."""


def send_transfer(order: PayoutOrder) -> TransferResult:
    """Transfer the order's amount to its account, once per payout id (a repeat is the first answer)."""
    _check(order)
    try:
        if order.method_type == "alipay":
            return _alipay_send(order)
        return _stripe_send(order)
    except _NoAnswer as exc:
        return TransferResult(TransferStatus.UNKNOWN, reason=str(exc))


def query_transfer(order: PayoutOrder) -> TransferResult | None:
    """The provider's transfer for this payout id: None when it has none (safe to send), UNKNOWN when the
    query itself got no trustworthy answer."""
    _check(order)
    try:
        if order.method_type == "alipay":
            return _alipay_query(order)
        return _stripe_query(order)
    except _NoAnswer as exc:
        return TransferResult(TransferStatus.UNKNOWN, reason=str(exc))


def _check(order: PayoutOrder) -> None:
    if order.method_type not in {"alipay", "stripe"}:
        raise ValueError(f"unknown payout method {order.method_type!r}")
    money.check_currency(order.currency)
    if order.amount_minor <= 0:
        raise ValueError("a transfer moves a positive amount")


# ---------------------------------------------------------------- Alipay open API
def _alipay_send(order: PayoutOrder) -> TransferResult:
    if order.currency != ALIPAY_CURRENCY:
        return TransferResult(TransferStatus.FAILED, reason="CURRENCY_NOT_SUPPORTED")  # nothing was sent
    is_user_id = ALIPAY_USER_ID.fullmatch(order.account) is not None
    payee: dict[str, str] = {
        "identity": order.account,
        "identity_type": "ALIPAY_USER_ID" if is_user_id else "ALIPAY_LOGON_ID",
    }
    if order.real_name:
        payee["name"] = order.real_name
    node = _alipay_call(
        ALIPAY_TRANSFER,
        {
            "out_biz_no": order.payout_id,
            "trans_amount": _yuan(order.amount_minor),
            "product_code": ALIPAY_PRODUCT_CODE,
            "biz_scene": ALIPAY_BIZ_SCENE,
            "order_title": order.title,
            "payee_info": payee,
        },
    )
    code, sub_code = node.get("code"), node.get("sub_code")
    if code == ALIPAY_SUCCESS:
        return _alipay_status(node)
    if code == ALIPAY_BUSINESS_FAILED and isinstance(sub_code, str) and sub_code not in ALIPAY_RETRY_SUB_CODES:
        return TransferResult(TransferStatus.FAILED, reason=sub_code)
    return TransferResult(TransferStatus.UNKNOWN, reason=f"alipay {code}/{sub_code}")


def _alipay_query(order: PayoutOrder) -> TransferResult | None:
    node = _alipay_call(
        ALIPAY_QUERY,
        {"out_biz_no": order.payout_id, "product_code": ALIPAY_PRODUCT_CODE, "biz_scene": ALIPAY_BIZ_SCENE},
    )
    code, sub_code = node.get("code"), node.get("sub_code")
    if code == ALIPAY_SUCCESS:
        return _alipay_status(node)
    if code == ALIPAY_BUSINESS_FAILED and sub_code == ALIPAY_NOT_FOUND:
        return None
    return TransferResult(TransferStatus.UNKNOWN, reason=f"alipay query {code}/{sub_code}")


def _alipay_status(node: dict[str, Any]) -> TransferResult:
    """A transfer's ``status`` as Alipay reports it (on the transfer's answer or a query)."""
    status, reference = node.get("status"), node.get("order_id")
    if status == "SUCCESS":
        return TransferResult(TransferStatus.SUCCEEDED, str(reference) if reference else None)
    if status in ALIPAY_FAILED_STATUSES:
        reason = node.get("sub_code") or node.get("error_code") or status
        return TransferResult(TransferStatus.FAILED, str(reference) if reference else None, str(reason))
    return TransferResult(TransferStatus.UNKNOWN, reason=f"alipay status {status}")  # DEALING, WAIT_PAY...


def _yuan(amount_minor: int) -> str:
    """Minor units as Alipay's yuan text with 2 decimals, from integers (12345 -> "123.45")."""
    exponent = money.CURRENCY_EXPONENT[ALIPAY_CURRENCY]
    units, cents = divmod(amount_minor, 10**exponent)
    return f"{units}.{cents:0{exponent}d}"


def _alipay_call(method: str, biz_content: dict[str, Any]) -> dict[str, Any]:
    """One signed open-API request; its verified response node, or _NoAnswer."""
    config = provider_config.alipay_payouts()
    params = {
        "app_id": config.app_id,
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": clock.now().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        "version": "1.0",
        "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
    }
    signed = alipay.signed_content(params, alipay.REQUEST_UNSIGNED)
    params["sign"] = alipay.rsa2_sign(signed, config.app_private_key_pem)
    request = urllib.request.Request(  # noqa: S310 - the base URL is checked to be http(s) by the settings
        settings.payout_providers().alipay_api_base,
        data=urllib.parse.urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
        method="POST",
    )
    status, body = _http(request)
    if status != 200:
        raise _NoAnswer(f"alipay answered HTTP {status}")
    return _verified_node(body, method, config.public_key_pem)


def _verified_node(body: bytes, method: str, public_key_pem: str) -> dict[str, Any]:
    """The ``<method>_response`` node (or ``error_response``) of an answer whose ``sign`` verifies over
    the node's text exactly as sent. An unsigned answer decides nothing, not even a refusal: a forged
    failure would hand the money back while the transfer went through."""
    try:
        text = body.decode("utf-8")
        document = json.loads(text)
    except ValueError as exc:
        raise _NoAnswer("alipay answer is not JSON") from exc
    if not isinstance(document, dict):
        raise _NoAnswer("alipay answer is not a JSON object")
    node_name = method.replace(".", "_") + "_response"
    if node_name not in document:
        node_name = "error_response"
    node, sign = document.get(node_name), document.get("sign")
    if not isinstance(node, dict):
        raise _NoAnswer("alipay answer has no response node")
    raw = _raw_value(text, node_name, node)
    if not isinstance(sign, str) or raw is None or not alipay.rsa2_verifies(raw, sign, public_key_pem):
        raise _NoAnswer("alipay answer signature does not verify")
    return node


def _raw_value(text: str, name: str, value: Any) -> str | None:
    """The JSON text of member ``name`` as it appears in ``text`` (what Alipay signs), or None."""
    decoder = json.JSONDecoder()
    start = text.find(f'"{name}"')
    while start != -1:
        colon = text.find(":", start + len(name) + 2)
        begin = colon + 1
        while begin < len(text) and text[begin] in " \t\r\n":
            begin += 1
        try:
            found, end = decoder.raw_decode(text, begin)
        except ValueError:
            found, end = None, begin
        if colon != -1 and found == value:
            return text[begin:end]
        start = text.find(f'"{name}"', start + 1)
    return None


# ---------------------------------------------------------------- Stripe API
def _stripe_send(order: PayoutOrder) -> TransferResult:
    form = {
        "amount": str(order.amount_minor),  # Stripe's smallest currency unit: our minor unit
        "currency": order.currency.lower(),
        "destination": order.account,
        "transfer_group": order.payout_id,
        "metadata[payout_id]": order.payout_id,
        "description": order.title,
    }
    status, answer = _stripe_request(
        "/v1/transfers", data=urllib.parse.urlencode(form).encode(), idempotency_key=order.payout_id
    )
    if status == 200:
        return _stripe_transfer(answer)
    found = answer.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = error.get("code")
    payee_missing = code == "resource_missing" and error.get("param") == "destination"
    if 400 <= status < 500 and status != 429 and (code in STRIPE_PAYEE_CODES or payee_missing):
        return TransferResult(TransferStatus.FAILED, reason=str(code))
    return TransferResult(TransferStatus.UNKNOWN, reason=f"stripe {status} {code or error.get('type')}")


def _stripe_query(order: PayoutOrder) -> TransferResult | None:
    query = urllib.parse.urlencode({"transfer_group": order.payout_id, "limit": 10})
    status, answer = _stripe_request(f"/v1/transfers?{query}")
    if status != 200 or not isinstance(answer.get("data"), list):
        return TransferResult(TransferStatus.UNKNOWN, reason=f"stripe query {status}")
    transfers = [t for t in answer["data"] if isinstance(t, dict) and t.get("transfer_group") == order.payout_id]
    if not transfers:
        return None
    # One key, one transfer; should a second exist, the one still standing is what the payee holds.
    transfers.sort(key=lambda t: bool(t.get("reversed")))
    return _stripe_transfer(transfers[0])


def _stripe_transfer(transfer: dict[str, Any]) -> TransferResult:
    reference = transfer.get("id")
    if not isinstance(reference, str) or not reference.startswith("tr_"):
        return TransferResult(TransferStatus.UNKNOWN, reason="stripe answer is not a transfer")
    if transfer.get("reversed"):
        return TransferResult(TransferStatus.FAILED, reference, "transfer_reversed")
    return TransferResult(TransferStatus.SUCCEEDED, reference)


def _stripe_request(
    path: str, data: bytes | None = None, idempotency_key: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {provider_config.stripe_secret_key()}"}
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(  # noqa: S310 - the base URL is checked to be http(s) by the settings
        settings.payout_providers().stripe_api_base + path, data=data, headers=headers
    )
    status, body = _http(request)
    if status >= 500:
        raise _NoAnswer(f"stripe answered HTTP {status}")
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise _NoAnswer(f"stripe answer ({status}) is not JSON") from exc
    if not isinstance(answer, dict):
        raise _NoAnswer(f"stripe answer ({status}) is not a JSON object")
    return status, answer


# ---------------------------------------------------------------- HTTP
def _http(request: urllib.request.Request) -> tuple[int, bytes]:
    """(status, body) of the answer, an error status included; _NoAnswer when none came in time."""
    timeout = settings.payout_providers().timeout_seconds
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s), see above
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        try:
            return int(exc.code), exc.read()
        except (OSError, http.client.HTTPException) as read_error:
            raise _NoAnswer(f"HTTP {exc.code} without a readable body") from read_error
    except TimeoutError as exc:
        raise _NoAnswer("timed out") from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError, refused, reset, a broken status line
        if isinstance(getattr(exc, "reason", None), TimeoutError):
            raise _NoAnswer("timed out connecting") from exc
        raise _NoAnswer(f"no answer: {exc.__class__.__name__}") from exc
