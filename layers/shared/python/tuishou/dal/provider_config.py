"""Payment provider configuration from SSM Parameter Store, cached in the process.

Parameter *names* come from the function environment (the template's Stripe/Alipay parameters); values
are read with one ``GetParameters`` call and cached for ``CACHE_SECONDS`` so a rotated secret is picked
up within minutes without a deploy. ``clear_cache()`` forgets everything (tests, local stack)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tuishou.config import ConfigurationError, setting
from tuishou.errors import ServiceUnavailable

CACHE_SECONDS = 300
STRIPE_SECRET_ENV = "TUISHOU_STRIPE_WEBHOOK_SECRET_PARAMETER"
ALIPAY_APP_ID_ENV = "TUISHOU_ALIPAY_APP_ID_PARAMETER"
ALIPAY_PUBLIC_KEY_ENV = "TUISHOU_ALIPAY_PUBLIC_KEY_PARAMETER"

_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class StripeConfig:
    webhook_secrets: tuple[str, ...]


@dataclass(frozen=True)
class AlipayConfig:
    app_id: str
    public_key_pem: str


@cache
def _ssm() -> Any:
    return boto3.client("ssm")


def clear_cache() -> None:
    with _lock:
        _cache.clear()
    _ssm.cache_clear()


def stripe() -> StripeConfig:
    secrets = _values(setting(STRIPE_SECRET_ENV))[0]
    return StripeConfig(tuple(s.strip() for s in secrets.split(",") if s.strip()))


def alipay() -> AlipayConfig:
    app_id, public_key = _values(setting(ALIPAY_APP_ID_ENV), setting(ALIPAY_PUBLIC_KEY_ENV))
    return AlipayConfig(app_id.strip(), public_key)


def _values(*names: str) -> list[str]:
    now = time.monotonic()
    with _lock:
        cached = {n: v for n, (expires, v) in _cache.items() if n in names and expires > now}
    missing = [n for n in names if n not in cached]
    if missing:
        try:
            found = _ssm().get_parameters(Names=missing, WithDecryption=True)
        except ClientError as exc:
            raise ServiceUnavailable("provider configuration unavailable") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("provider configuration unavailable") from exc
        if found.get("InvalidParameters"):
            raise ConfigurationError(f"SSM parameters missing: {', '.join(found['InvalidParameters'])}")
        with _lock:
            for parameter in found["Parameters"]:
                cached[parameter["Name"]] = parameter["Value"]
                _cache[parameter["Name"]] = (now + CACHE_SECONDS, parameter["Value"])
    return [cached[n] for n in names]
