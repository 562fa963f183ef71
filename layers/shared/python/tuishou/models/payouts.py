"""Payouts: a user's payout method, a payout request and a payout as the API shows it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from tuishou.money import CURRENCY_EXPONENT, MinorUnits, check_amount, check_currency

PayoutStatus = Literal["requested", "sending", "paid", "failed"]
PayoutMethodType = Literal["alipay", "stripe"]

# An Alipay payee: a logon id (an email, or a mobile number: +86 / any E.164, or 11 digits starting with 1)
# or an Alipay user id (2088 and 12 digits).
ALIPAY_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
ALIPAY_MOBILE = re.compile(r"^(\+[1-9][0-9]{6,14}|1[3-9][0-9]{9})$")
ALIPAY_USER_ID = re.compile(r"^2088[0-9]{12}$")
STRIPE_ACCOUNT_PATTERN = r"^acct_[A-Za-z0-9]{6,64}$"


def alipay_account(value: str) -> str:
    if not (ALIPAY_EMAIL.match(value) or ALIPAY_MOBILE.match(value) or ALIPAY_USER_ID.match(value)):
        raise ValueError("not an Alipay account: an email, a mobile number (+86..., 11 digits) or a 2088 user id")
    return value


class PayoutMethodUpdate(BaseModel):
    """``{type: "alipay", account, real_name}`` or ``{type: "stripe", connected_account_id}``, and whether
    to pay out automatically every day."""

    model_config = ConfigDict(extra="forbid")

    type: PayoutMethodType
    account: str | None = Field(
        None, max_length=100, description="Alipay: an email, a mobile number or a user id (2088 + 12 digits)."
    )
    real_name: str | None = Field(None, max_length=64, description="Alipay: the payee's real name (1..64 characters).")
    connected_account_id: str | None = Field(
        None, max_length=80, pattern=STRIPE_ACCOUNT_PATTERN, description="Stripe: the connected account, acct_..."
    )
    auto_payout: bool = Field(False, description="Pay out all available money every day (at or above the minimum).")

    @field_validator("account")
    @classmethod
    def _alipay_account(cls, value: str | None) -> str | None:
        return None if value is None else alipay_account(value.strip())

    @field_validator("real_name")
    @classmethod
    def _real_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return None if value is None else value.strip()

    @model_validator(mode="after")
    def _fields_of_the_type(self) -> PayoutMethodUpdate:
        required = ("account", "real_name") if self.type == "alipay" else ("connected_account_id",)
        foreign = ("connected_account_id",) if self.type == "alipay" else ("account", "real_name")
        errors = [
            InitErrorDetails(type=PydanticCustomError("missing", f"required for {self.type}"), loc=(name,), input=None)
            for name in required
            if getattr(self, name) is None
        ] + [
            InitErrorDetails(
                type=PydanticCustomError("extra_forbidden", f"not a field of a {self.type} method"),
                loc=(name,),
                input=getattr(self, name),
            )
            for name in foreign
            if getattr(self, name) is not None
        ]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self


class PayoutMethod(BaseModel):
    type: PayoutMethodType
    account_masked: str = Field(description="The account with most characters hidden.")
    real_name_masked: str | None = Field(
        None, description="Alipay: the payee's name with all but its last character hidden."
    )
    auto_payout: bool
    updated_at: str


class PayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = Field(description=f"ISO 4217 code; one of {', '.join(sorted(CURRENCY_EXPONENT))}.")
    amount_minor: MinorUnits | None = Field(None, description="Default: the whole available balance.")

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _within_the_currency(self) -> PayoutRequest:
        if self.amount_minor is not None:
            try:
                check_amount(self.amount_minor, self.currency)
            except ValueError as exc:
                error = InitErrorDetails(
                    type=PydanticCustomError("money_maximum", str(exc)), loc=("amount_minor",), input=self.amount_minor
                )
                raise ValidationError.from_exception_data(type(self).__name__, [error]) from exc
        return self


class PayoutAccepted(BaseModel):
    payout_id: str
    status: PayoutStatus


class PayoutMethodSummary(BaseModel):
    type: PayoutMethodType
    account_masked: str


class Payout(BaseModel):
    payout_id: str
    user_id: str
    role: Literal["promoter", "merchant"]
    currency: str
    amount_minor: int
    status: PayoutStatus
    method: PayoutMethodSummary
    requested_at: str
    updated_at: str
    paid_at: str | None = None
    failure_reason: str | None = Field(None, description="The provider's code when the transfer failed for good.")
    provider_reference: str | None = Field(None, description="Alipay order_id or Stripe transfer id.")


class PayoutPage(BaseModel):
    items: list[Payout]
    next_cursor: str | None = None
