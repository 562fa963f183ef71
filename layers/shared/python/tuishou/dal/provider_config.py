"""Payment provider configuration from SSM Parameter Store, through Powertools Parameters and its cache.

Parameter *names* come from the function environment (the template's Stripe/Alipay parameters); values
are read with one ``GetParameters`` call and cached for ``CACHE_SECONDS`` so a rotated secret is picked
up within minutes without a deploy. ``clear_cache()`` forgets everything (tests, local stack)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider

from tuishou import settings
from tuishou.config import ConfigurationError
from tuishou.dal import clients

CACHE_SECONDS = 300
_ERRORS = "_errors"  # where Powertools lists the names it could not read (raise_on_error=False)


@dataclass(frozen=True)
class StripeConfig:
    webhook_secrets: tuple[str, ...]


@dataclass(frozen=True)
class AlipayConfig:
    app_id: str
    public_key_pem: str


def clear_cache() -> None:
    """Forget the cached values and the SSM client they were read with."""
    _provider_for.cache_clear()
    clients.ssm.cache_clear()


def stripe() -> StripeConfig:
    names = settings.providers()
    secrets = _values(names.required("stripe_secret_parameter"))[0]
    return StripeConfig(tuple(s.strip() for s in secrets.split(",") if s.strip()))


def alipay() -> AlipayConfig:
    names = settings.providers()
    app_id, public_key = _values(
        names.required("alipay_app_id_parameter"), names.required("alipay_public_key_parameter")
    )
    return AlipayConfig(app_id.strip(), public_key)


@dataclass(frozen=True)
class AlipayPayoutConfig:
    app_id: str
    app_private_key_pem: str  # signs our requests (Alipay holds its public half)
    public_key_pem: str  # Alipay's: verifies its answers, as it verifies its notifications


def alipay_payouts() -> AlipayPayoutConfig:
    names, payout_names = settings.providers(), settings.payout_providers()
    app_id, private_key, public_key = _values(
        names.required("alipay_app_id_parameter"),
        payout_names.required("alipay_app_private_key_parameter"),
        names.required("alipay_public_key_parameter"),
    )
    return AlipayPayoutConfig(app_id.strip(), private_key, public_key)


def stripe_secret_key() -> str:
    """The platform's Stripe secret key (``sk_...``), which authorises transfers to connected accounts."""
    return _values(settings.payout_providers().required("stripe_secret_key_parameter"))[0].strip()


@dataclass(frozen=True)
class WechatConfig:
    app_id: str
    app_secret: str


def wechat() -> WechatConfig:
    names = settings.wechat()
    app_id, secret = _values(names.required("app_id_parameter"), names.required("app_secret_parameter"))
    return WechatConfig(app_id.strip(), secret.strip())


def secret_values(*names: str) -> list[str]:
    """The values of these SSM parameters, decrypted and read now (a push platform's credentials: the stack
    update that follows a rotation must see the new value)."""
    return _values(*names, max_age=0)


@cache
def _provider_for(ssm_client: Any) -> SSMProvider:
    """One Powertools provider (and value cache) per SSM client: a fresh client is a fresh endpoint."""
    return SSMProvider(boto3_client=ssm_client)


def _values(*names: str, max_age: int = CACHE_SECONDS) -> list[str]:
    with clients.unavailable_on_error("provider configuration unavailable"):
        found: dict[str, Any] = _provider_for(clients.ssm()).get_parameters_by_name(
            {name: {} for name in names}, decrypt=True, max_age=max_age, raise_on_error=False
        )
    if found.get(_ERRORS):
        raise ConfigurationError(f"SSM parameters missing: {', '.join(found[_ERRORS])}")
    return [str(found[name]) for name in names]
