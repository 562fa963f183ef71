"""Money in integer minor units: currencies, exact decimal conversion, commission and the split.

Never a float: amounts are ``int`` minor units; decimal strings from providers go through ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import Field

RuleType = Literal["percent", "fixed"]
BPS_DENOMINATOR = 10_000

# ISO 4217 codes accepted, with their minor-unit exponent.
CURRENCY_EXPONENT: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "TWD": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "MYR": 2,
    "THB": 2,
    "INR": 2,
    "MOP": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PHP": 2,
    "IDR": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
}

# The largest amount of money any field takes, in major units (10 billion yuan, dollars, yen...). In minor units
# it depends on the currency's exponent: ``max_minor``. Far below DynamoDB's 38 digits and exact in every sum.
MAX_MAJOR_UNITS = 10**10


def max_minor(currency: str) -> int:
    """The largest amount in minor units of ``currency``: 10^12 fen for CNY, 10^10 yen for JPY."""
    return MAX_MAJOR_UNITS * 10 ** CURRENCY_EXPONENT[currency]


MAX_MINOR = max(max_minor(code) for code in CURRENCY_EXPONENT)
"""The largest amount in minor units of any currency: the bound of a money field before its currency is known."""

MinorUnits = Annotated[
    int, Field(strict=True, ge=0, le=MAX_MINOR, description="Integer minor units; at most `money.max_minor(currency)`.")
]
"""Every money field of every request model: an exact integer (never a float or a string), bounded."""


def check_amount(value: int, currency: str) -> int:
    """The per-currency bound of an amount in minor units, or ValueError saying it."""
    if not 0 <= value <= max_minor(currency):
        raise ValueError(f"must be 0..{max_minor(currency)} minor units of {currency}")
    return value


def is_currency(code: str) -> bool:
    return code in CURRENCY_EXPONENT


def check_currency(code: str) -> str:
    """The model validators' one currency rule: a supported ISO 4217 code, or ValueError."""
    if not is_currency(code):
        raise ValueError("not a supported ISO 4217 currency code")
    return code


def commission_minor(rule_type: RuleType, value: int, amount_minor: int) -> int:
    """Commission on ``amount_minor``: percent = round-half-even(amount x bps / 10000); fixed = min(value, amount)."""
    if amount_minor < 0:
        raise ValueError("amount must not be negative")
    if rule_type == "percent":
        exact = Decimal(amount_minor) * Decimal(value) / Decimal(BPS_DENOMINATOR)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return min(value, amount_minor)


def proportional_minor(part_minor: int, of_minor: int, total_minor: int) -> int:
    """round-half-even(part x of / total): e.g. the commission share of a partial refund."""
    if total_minor <= 0:
        raise ValueError("total must be positive")
    exact = Decimal(part_minor) * Decimal(of_minor) / Decimal(total_minor)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Split:
    amount_minor: int
    commission_minor: int
    platform_fee_minor: int
    merchant_minor: int


def split_payment(amount_minor: int, rule_type: RuleType, value: int, platform_fee_bps: int = 0) -> Split:
    """Promoter commission, platform fee and merchant revenue; the parts always sum to the amount."""
    commission = commission_minor(rule_type, value, amount_minor)
    fee = min(commission_minor("percent", platform_fee_bps, amount_minor), amount_minor - commission)
    return Split(amount_minor, commission, fee, amount_minor - commission - fee)


def to_minor(decimal_text: str, currency: str) -> int:
    """Exact conversion of a provider's decimal string ("99.00" yuan) to minor units within ``max_minor``;
    no float, no rounding, and no arithmetic on what could be huge: "1E+999999", "sNaN" and
    "0.000...0001" are refused from the digits and exponent alone."""
    exponent = CURRENCY_EXPONENT[currency]
    try:
        amount = Decimal(decimal_text.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError(f"not a decimal amount: {str(decimal_text)[:20]!r}") from exc
    if not amount.is_finite():
        raise ValueError("not a finite amount")
    if amount.is_zero():
        return 0
    if amount.adjusted() >= len(str(max_minor(currency))):
        raise ValueError(f"must be 0..{max_minor(currency)} minor units of {currency}")
    sign, digits, power = amount.as_tuple()
    assert isinstance(power, int)  # only NaN and infinities have a letter exponent, refused above
    significant = "".join(map(str, digits)).rstrip("0")
    power += len(digits) - len(significant)  # trailing zeros are not decimals: "99.00" is 9900 fen
    if power + exponent < 0:
        raise ValueError(f"has more than {exponent} decimals for {currency}")
    minor = int(significant) * 10 ** (power + exponent)
    return check_amount(-minor if sign else minor, currency)


def decimal_text(amount_minor: int, currency: str) -> str:
    """The amount as a decimal string of its currency, from integers only: 1230 CNY -> "12.30", -5 -> "-0.05",
    1230 JPY -> "1230"."""
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 10**exponent)
    return f"{sign}{units}.{cents:0{exponent}d}" if exponent else f"{sign}{units}"


def format_minor(amount_minor: int, currency: str) -> str:
    """Human text for notifications: 1230 CNY -> "¥12.30"."""
    symbols = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}
    sign = "-" if amount_minor < 0 else ""
    return f"{sign}{symbols.get(currency, currency + ' ')}{decimal_text(abs(amount_minor), currency)}"
