"""Models shared by every route."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from tuishou import money

Role = Literal["merchant", "promoter", "admin"]
Locale = Literal["zh-CN", "en"]
DEFAULT_LOCALE: Locale = "zh-CN"
DEFAULT_TIME_ZONE = "Asia/Shanghai"


def known_time_zone(name: str) -> str:
    """An IANA zone name the runtime knows ("Asia/Shanghai"); anything else is a 422, never a later failure
    when a notification is rendered."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as unknown:
        raise ValueError("not an IANA time zone, e.g. Asia/Shanghai") from unknown
    return name


TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, description="IANA time zone, e.g. Asia/Shanghai."),
    AfterValidator(known_time_zone),
]


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def within_date_range(moment: datetime) -> datetime:
    # Compared before any conversion: 0001-01-01T00:00+14:00 has no UTC form (astimezone overflows).
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"must be from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d} (UTC)")
    return moment.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(within_date_range)]
"""Every date a request carries: ISO 8601 with an offset (or Z), 2000-01-01 <= t < 2100-01-01, normalised to
UTC, so what is stored (``clock.iso``) always reads back with ``clock.parse_iso``."""


def check_amounts(model: BaseModel, currency: str, amounts: Iterable[tuple[tuple[str | int, ...], int]]) -> None:
    """The per-currency maximum of a model's money fields, for a model validator: a ValidationError whose
    location is the offending field (``price_minor``, ``reward_rules[0].value``) so the 422 names it."""
    errors: list[InitErrorDetails] = []
    for location, value in amounts:
        try:
            money.check_amount(value, currency)
        except ValueError as exc:
            errors.append(
                InitErrorDetails(type=PydanticCustomError("money_maximum", str(exc)), loc=location, input=value)
            )
    if errors:
        raise ValidationError.from_exception_data(type(model).__name__, errors)


def fixed_amounts(rules: Iterable[Any], field: str) -> list[tuple[tuple[str | int, ...], int]]:
    """The fixed reward values among ``rules`` (RewardTerms), located as ``field[i].value``."""
    return [((field, index, "value"), rule.value) for index, rule in enumerate(rules) if rule.type == "fixed"]


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. validation_error, not_found.")
    message: str
    field: str | None = Field(default=None, description="The offending request field, when one is to blame.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Principal(BaseModel):
    """The caller, taken from the verified Cognito ID token (never from the request body)."""

    user_id: str = Field(description="The Cognito `sub`.")
    role: Role
    username: str | None = None
    email: str | None = Field(default=None, description="The token's email claim (not returned by /me).")


class MeResponse(BaseModel):
    user_id: str
    role: Role
    username: str | None = None
    locale: Locale = Field(DEFAULT_LOCALE, description="Language of what the user is told.")
    time_zone: str = Field(DEFAULT_TIME_ZONE, description="IANA time zone times are shown in.")


class MeUpdate(BaseModel):
    """Any of the caller's settings; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    locale: Locale | None = None
    time_zone: TimeZone | None = None
