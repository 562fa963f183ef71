"""Every ``TUISHOU_*`` environment variable, typed: one pydantic model per concern, each field aliased to its
variable. A bad value is a ``ConfigurationError`` naming the variable; ``load()`` checks them all, so a
handler that calls it at import fails its cold start rather than a later request.

Values are read once per distinct environment: the cache is keyed on the ``TUISHOU_*`` variables
themselves, so a process hosting several functions (the local stack) or a test that changes a variable
sees the new values without any hook, while a warm Lambda reads its environment once."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from tuishou.config import ConfigurationError

PREFIX = "TUISHOU_"
TABLES = ("catalog", "users", "tracking", "ledger")


def _is_true(raw: object) -> bool:
    return str(raw).strip().lower() == "true"


Flag = Annotated[bool, BeforeValidator(_is_true)]  # "true" (any case) is on, anything else off


class _Concern(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    def required(self, field: str) -> str:
        """A setting a code path cannot do without (a function has only the resources it uses)."""
        value = getattr(self, field)
        if not value:
            raise ConfigurationError(f"environment variable {type(self).model_fields[field].alias} is not set")
        return str(value)


class TableSettings(_Concern):
    """Physical table names. A function has only the tables it uses: a missing one fails when used."""

    catalog: str | None = Field(None, alias="TUISHOU_CATALOG_TABLE")
    users: str | None = Field(None, alias="TUISHOU_USERS_TABLE")
    tracking: str | None = Field(None, alias="TUISHOU_TRACKING_TABLE")
    ledger: str | None = Field(None, alias="TUISHOU_LEDGER_TABLE")

    def name(self, short_name: str) -> str:
        value = getattr(self, short_name, None) if short_name in TABLES else None
        if not value:
            raise ConfigurationError(f"environment variable {PREFIX}{short_name.upper()}_TABLE is not set")
        return str(value)


class RankingSettings(_Concern):
    """Weights of the global task score: transactions, promotions, and the recency decay lambda."""

    w_tx: Decimal = Field(Decimal("0.7"), alias="TUISHOU_RANK_W_TX", ge=0, allow_inf_nan=False)
    w_promo: Decimal = Field(Decimal("0.3"), alias="TUISHOU_RANK_W_PROMO", ge=0, allow_inf_nan=False)
    lam: Decimal = Field(Decimal("0.5"), alias="TUISHOU_RANK_LAMBDA", ge=0, le=1, allow_inf_nan=False)


class RankingJobSettings(_Concern):
    """How much one ranking-job invocation does (changed products, or active products of a full re-rank)
    before it continues through its queue."""

    products_per_invocation: int = Field(500, alias="TUISHOU_RANKING_PRODUCTS_PER_INVOCATION", ge=1, le=10_000)
    queue_url: str | None = Field(None, alias="TUISHOU_RANKING_QUEUE_URL")


class TaskListSettings(_Concern):
    """How much the personal task list reads: candidates per tag, and task-history items."""

    candidates: int = Field(100, alias="TUISHOU_TASK_CANDIDATES")
    history: int = Field(200, alias="TUISHOU_TASK_HISTORY")


class InsightsSettings(_Concern):
    """The merchant-insights job's window and thresholds."""

    window_days: int = Field(7, alias="TUISHOU_INSIGHTS_WINDOW_DAYS", ge=1, le=90)
    period_days: int = Field(7, alias="TUISHOU_INSIGHTS_PERIOD_DAYS", ge=1, le=366)
    low_transactions_below: int = Field(3, alias="TUISHOU_INSIGHTS_LOW_TRANSACTIONS_BELOW", ge=0, le=10**9)
    low_promotions_below: int = Field(5, alias="TUISHOU_INSIGHTS_LOW_PROMOTIONS_BELOW", ge=0, le=10**9)
    hint_relevance_below: Fraction = Field(Fraction(1, 2), alias="TUISHOU_INSIGHTS_HINT_RELEVANCE_BELOW")
    hint_sales_above: int = Field(5, alias="TUISHOU_INSIGHTS_HINT_SALES_ABOVE", ge=0, le=10**9)
    hint_uplift_bps: int = Field(2000, alias="TUISHOU_INSIGHTS_HINT_UPLIFT_BPS", ge=1, le=10_000)
    tasks_per_invocation: int = Field(500, alias="TUISHOU_INSIGHTS_TASKS_PER_INVOCATION", ge=1, le=10_000)
    queue_url: str | None = Field(None, alias="TUISHOU_INSIGHTS_QUEUE_URL")

    @field_validator(
        "window_days",
        "period_days",
        "low_transactions_below",
        "low_promotions_below",
        "hint_sales_above",
        "hint_uplift_bps",
        mode="before",
    )
    @classmethod
    def _digits_only(cls, raw: Any) -> Any:
        if isinstance(raw, str) and not raw.strip().isdigit():
            raise ValueError("must be a non-negative integer")
        return raw

    @field_validator("hint_relevance_below", mode="before")
    @classmethod
    def _fraction(cls, raw: Any) -> Fraction:
        try:
            value = Fraction(Decimal(str(raw)))
        except (ArithmeticError, ValueError) as exc:
            raise ValueError("must be a decimal number") from exc
        if not 0 <= value <= 1:
            raise ValueError("must be in [0, 1]")
        return value


class CompensationSettings(_Concern):
    """The compensation scan (sweep grace, page size, time margin, pages per invocation, its queue), the
    velocity flag, and the fixed amounts of rewardable events that are not sales."""

    sweep_grace_minutes: int = Field(10, alias="TUISHOU_SWEEP_GRACE_MINUTES")
    buckets_per_page: int = Field(6, alias="TUISHOU_SCAN_BUCKETS_PER_PAGE")
    safety_ms: int = Field(60_000, alias="TUISHOU_SCAN_SAFETY_MS")
    max_pages_per_invocation: int = Field(0, alias="TUISHOU_SCAN_MAX_PAGES_PER_INVOCATION")
    queue_url: str | None = Field(None, alias="TUISHOU_COMPENSATION_QUEUE_URL")
    velocity_max_per_hour: int = Field(20, alias="TUISHOU_VELOCITY_MAX_PER_HOUR")
    reward_amounts: dict[str, Any] | None = Field(None, alias="TUISHOU_REWARD_AMOUNTS")
    invitee_reward: Flag = Field(False, alias="TUISHOU_INVITEE_REWARD")

    @field_validator("reward_amounts", mode="before")
    @classmethod
    def _json_object(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError("must be a JSON object") from exc


class PaymentSettings(_Concern):
    """The platform's fee, how far back the hold release job looks for holds it missed (a run that failed
    for longer than that leaves them for an operator: docs/payouts.md), and the integrity checks at
    settlement (docs/integrity.md): the secret that keys payer hashes (an SSM SecureString) and the amount a
    sale may reach as a multiple of the product's price (the velocity limit is
    ``TUISHOU_VELOCITY_MAX_PER_HOUR``, shared with the scan)."""

    platform_fee_bps: int = Field(0, alias="TUISHOU_PLATFORM_FEE_BPS")
    release_lookback_hours: int = Field(72, alias="TUISHOU_RELEASE_LOOKBACK_HOURS", ge=1, le=24 * 90)
    payer_key_parameter: str | None = Field(None, alias="TUISHOU_PAYER_KEY_PARAMETER")
    max_price_multiple: int = Field(10, alias="TUISHOU_MAX_PRICE_MULTIPLE", ge=1, le=10_000)


class NotificationSettings(_Concern):
    """Where notifications go: whether SMS is sent through SNS (``sns``), the reminder lookback, the
    per-channel delivery queues, the SMS daily cap per user, and how long a delivery claim is a lease."""

    sms_delivery: str | None = Field(None, alias="TUISHOU_SMS_DELIVERY")
    reminder_lookback_hours: int = Field(6, alias="TUISHOU_REMINDER_LOOKBACK_HOURS")
    push_queue_url: str | None = Field(None, alias="TUISHOU_PUSH_DELIVERY_QUEUE_URL")
    sms_queue_url: str | None = Field(None, alias="TUISHOU_SMS_DELIVERY_QUEUE_URL")
    wechat_queue_url: str | None = Field(None, alias="TUISHOU_WECHAT_DELIVERY_QUEUE_URL")
    sms_daily_cap: int = Field(5, alias="TUISHOU_SMS_DAILY_CAP", ge=0, le=1000)
    claim_lease_seconds: int = Field(120, alias="TUISHOU_DELIVERY_CLAIM_LEASE_SECONDS", ge=1, le=86_400)


class PushSettings(_Concern):
    """The SNS platform applications devices register endpoints on, one per platform (``apns``, ``fcm``)."""

    apns_application_arn: str | None = Field(None, alias="TUISHOU_PUSH_APNS_APPLICATION_ARN")
    fcm_application_arn: str | None = Field(None, alias="TUISHOU_PUSH_FCM_APPLICATION_ARN")

    def application_arn(self, platform: str) -> str:
        return self.required(f"{platform}_application_arn")


class WechatSettings(_Concern):
    """The WeChat API (its base URL is configuration: WeChat in production, the emulator locally), the SSM
    parameters holding the mini program's appid and secret, and the subscribe-message template id per kind
    (a JSON object ``{kind: template_id}``; ``"*"`` is the fallback)."""

    api_base: str = Field("https://api.weixin.qq.com", alias="TUISHOU_WECHAT_API_BASE")
    app_id_parameter: str | None = Field(None, alias="TUISHOU_WECHAT_APP_ID_PARAMETER")
    app_secret_parameter: str | None = Field(None, alias="TUISHOU_WECHAT_APP_SECRET_PARAMETER")
    templates: dict[str, str] = Field(default_factory=dict, alias="TUISHOU_WECHAT_TEMPLATES")
    timeout_seconds: float = Field(3.0, alias="TUISHOU_WECHAT_TIMEOUT_SECONDS", gt=0, le=30)

    @field_validator("api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("templates", mode="before")
    @classmethod
    def _json_object(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError("must be a JSON object") from exc

    def template_for(self, kind: str) -> str | None:
        return self.templates.get(kind) or self.templates.get("*")


class ProviderSettings(_Concern):
    """Names of the SSM parameters holding the payment providers' secrets (the values are read from SSM)."""

    stripe_secret_parameter: str | None = Field(None, alias="TUISHOU_STRIPE_WEBHOOK_SECRET_PARAMETER")
    alipay_app_id_parameter: str | None = Field(None, alias="TUISHOU_ALIPAY_APP_ID_PARAMETER")
    alipay_public_key_parameter: str | None = Field(None, alias="TUISHOU_ALIPAY_PUBLIC_KEY_PARAMETER")


class PayoutProviderSettings(_Concern):
    """Where payouts are sent (Alipay's open-API gateway and Stripe's API in production, the local stack's
    emulators locally), the SSM parameters holding the credentials that sign them, and how long a call may
    take before its outcome counts as unknown (the payout is then queried, never re-sent blindly)."""

    alipay_api_base: str = Field("https://openapi.alipay.com/gateway.do", alias="TUISHOU_ALIPAY_API_BASE")
    stripe_api_base: str = Field("https://api.stripe.com", alias="TUISHOU_STRIPE_API_BASE")
    alipay_app_private_key_parameter: str | None = Field(None, alias="TUISHOU_ALIPAY_APP_PRIVATE_KEY_PARAMETER")
    stripe_secret_key_parameter: str | None = Field(None, alias="TUISHOU_STRIPE_SECRET_KEY_PARAMETER")
    timeout_seconds: float = Field(5.0, alias="TUISHOU_PAYOUT_PROVIDER_TIMEOUT_SECONDS", gt=0, le=30)

    @field_validator("alipay_api_base", "stripe_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")


class FaultSettings(_Concern):
    """The chaos switch: its SSM parameter and how long a process trusts what it read."""

    parameter: str = Field("/tuishou/faults", alias="TUISHOU_FAULTS_PARAMETER")
    ttl_seconds: float = Field(10.0, alias="TUISHOU_FAULTS_TTL_SECONDS", allow_inf_nan=False)


class TrackingSettings(_Concern):
    """Clicks: how long a click can still be attributed to a sale (its item expires after that, by TTL), how
    long a quota-rescue coupon drawn by a click can be redeemed, and the SSM parameter holding the deployment
    secret that keys the visitor hash (docs/data-model.md)."""

    attribution_days: int = Field(30, alias="TUISHOU_ATTRIBUTION_DAYS", ge=1, le=365)
    coupon_valid_days: int = Field(7, alias="TUISHOU_COUPON_VALID_DAYS", ge=1, le=90)
    visitor_key_parameter: str | None = Field(None, alias="TUISHOU_VISITOR_KEY_PARAMETER")


class RateLimitSettings(_Concern):
    """Per-user limits on the REST API's write routes (docs/integrity.md, "Rate limits"): every write route
    counts in ``writes``; shares also count in ``shares``. Fixed windows: a UTC minute and a UTC hour. 0 turns
    a limit off."""

    writes_per_minute: int = Field(120, alias="TUISHOU_WRITE_RATE_PER_MINUTE", ge=0, le=1_000_000)
    writes_per_hour: int = Field(2000, alias="TUISHOU_WRITE_RATE_PER_HOUR", ge=0, le=1_000_000)
    shares_per_minute: int = Field(20, alias="TUISHOU_SHARE_RATE_PER_MINUTE", ge=0, le=1_000_000)
    shares_per_hour: int = Field(200, alias="TUISHOU_SHARE_RATE_PER_HOUR", ge=0, le=1_000_000)


class SiteSettings(_Concern):
    public_base_url: str = Field("", alias="TUISHOU_PUBLIC_BASE_URL")


DEFAULT_PAYOUT_MINIMUM = 1000
"""The minimum payout of a currency ``TUISHOU_PAYOUT_MINIMUMS`` does not name, in its minor units."""


class PayoutSettings(_Concern):
    """Payouts: the minimum per currency (a JSON object of minor units, e.g. ``{"CNY": 1000}`` for 10.00
    yuan), the queue of payouts to send, how long a payout may stay requested or sending before the sweep
    enqueues it again, and how long an attempt may be in flight (longer than the worker's timeout) before
    another worker may ask the provider about it."""

    minimums: dict[str, int] = Field(default_factory=dict, alias="TUISHOU_PAYOUT_MINIMUMS")
    queue_url: str | None = Field(None, alias="TUISHOU_PAYOUT_QUEUE_URL")
    stuck_minutes: int = Field(15, alias="TUISHOU_PAYOUT_STUCK_MINUTES", ge=1, le=24 * 60)
    send_lease_seconds: int = Field(60, alias="TUISHOU_PAYOUT_SEND_LEASE_SECONDS", ge=0, le=900)

    @field_validator("minimums", mode="before")
    @classmethod
    def _json_minimums(cls, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        if not raw.strip():
            return {}
        try:
            found = json.loads(raw)
        except ValueError as exc:
            raise ValueError("must be a JSON object of minor units per currency") from exc
        if not isinstance(found, dict) or not all(isinstance(v, int) and v >= 1 for v in found.values()):
            raise ValueError("must be a JSON object of positive minor units per currency")
        return found

    def minimum(self, currency: str) -> int:
        return self.minimums.get(currency, DEFAULT_PAYOUT_MINIMUM)


Concern = TypeVar("Concern", bound=_Concern)
CONCERNS: tuple[type[_Concern], ...] = (
    TableSettings,
    RankingSettings,
    RankingJobSettings,
    TaskListSettings,
    InsightsSettings,
    CompensationSettings,
    PaymentSettings,
    NotificationSettings,
    PushSettings,
    WechatSettings,
    ProviderSettings,
    PayoutProviderSettings,
    FaultSettings,
    TrackingSettings,
    RateLimitSettings,
    SiteSettings,
    PayoutSettings,
)


def tables() -> TableSettings:
    return _current(TableSettings)


def ranking() -> RankingSettings:
    return _current(RankingSettings)


def ranking_job() -> RankingJobSettings:
    return _current(RankingJobSettings)


def task_list() -> TaskListSettings:
    return _current(TaskListSettings)


def insights() -> InsightsSettings:
    return _current(InsightsSettings)


def compensation() -> CompensationSettings:
    return _current(CompensationSettings)


def payments() -> PaymentSettings:
    return _current(PaymentSettings)


def notifications() -> NotificationSettings:
    return _current(NotificationSettings)


def push() -> PushSettings:
    return _current(PushSettings)


def wechat() -> WechatSettings:
    return _current(WechatSettings)


def providers() -> ProviderSettings:
    return _current(ProviderSettings)


def payout_providers() -> PayoutProviderSettings:
    return _current(PayoutProviderSettings)


def faults() -> FaultSettings:
    return _current(FaultSettings)


def tracking() -> TrackingSettings:
    return _current(TrackingSettings)


def rate_limits() -> RateLimitSettings:
    return _current(RateLimitSettings)


def site() -> SiteSettings:
    return _current(SiteSettings)


def payouts() -> PayoutSettings:
    return _current(PayoutSettings)


def load() -> None:
    """Check every concern against the environment now (a handler's cold start): the first bad variable
    raises ``ConfigurationError`` naming it."""
    for concern in CONCERNS:
        _current(concern)


def _current(concern: type[Concern]) -> Concern:
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX)))
    return _parsed(concern, environment)


@lru_cache(maxsize=64)
def _parsed(concern: type[Concern], environment: tuple[tuple[str, str], ...]) -> Concern:
    try:
        return concern.model_validate(dict(environment))
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(f"environment variable {variable}: {first['msg']}") from exc
