"""Payment provider adapters: each verifies a provider's signed notification and parses it into one
``PaymentEvent``; nothing downstream knows which provider spoke.

An adapter is a module with ``parse(body: bytes, headers: Mapping[str, str], config, now: int)``
returning a ``PaymentEvent`` (or ``None`` for a genuine event Tuishou does not act on), raising
``InvalidNotification`` for anything that is not verified as the provider's, and ``UnreadableNotification``
for a verified notification that does not parse: the provider would resend that forever, so it is
acknowledged and recorded for an admin instead (no money moves)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from tuishou.errors import BadRequest

PROVIDERS = ("stripe", "alipay")
EventKind = Literal["paid", "refunded"]

# Provider ids become parts of DynamoDB keys: a conservative alphabet, validated before any write.
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidNotification(BadRequest):
    """Bad or missing signature, stale timestamp, unknown app, malformed body: 400, nothing written."""

    code = "invalid_notification"


class UnreadableNotification(InvalidNotification):
    """Verified as the provider's, but not a notification Tuishou can understand (a field of the wrong type
    or size, an amount or date out of range): acknowledged, recorded with the reason, no money moves."""

    code = "unreadable_notification"

    def __init__(self, message: str, *, field: str, provider_event_id: str | None = None) -> None:
        super().__init__(message, field=field)
        self.provider_event_id = provider_event_id

    @classmethod
    def from_validation(cls, error: ValidationError, provider_event_id: str | None) -> UnreadableNotification:
        """The first problem pydantic found, with its location as ``data.object.refunds[0]``."""
        first = error.errors(include_url=False)[0]
        field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        field = field or "body"
        return cls(f"{field}: {first['msg']}", field=field, provider_event_id=provider_event_id)


@dataclass(frozen=True)
class PaymentEvent:
    """One verified provider event, in minor units.

    ``amount_minor`` is the paid amount for ``paid`` and the *cumulative* refunded amount for ``refunded``
    (both providers report the running total, which makes each refund step naturally idempotent).
    ``payer_ids`` are what the provider says identifies the payer (email, customer or buyer ids, logon id):
    held in memory only, stored as keyed hashes (``tuishou.logic.integrity``). ``merchant_id`` is the
    merchant the checkout named (Stripe ``metadata.merchant_id``), ``seller_account`` the provider account
    that was paid (Stripe's connected account, Alipay's ``seller_id``)."""

    provider: str
    payment_id: str
    kind: EventKind
    amount_minor: int
    currency: str
    occurred_at: datetime
    click_id: str | None = None
    refund_id: str | None = None
    payer_ids: tuple[str, ...] = ()
    provider_event_id: str | None = None
    merchant_id: str | None = None
    seller_account: str | None = None


SAFE_ID_PATTERN = _SAFE_ID.pattern


def click_id_or_none(value: object) -> str | None:
    """The tsclid the merchant's checkout passed through; anything unusable is ``None`` (unattributed)."""
    if isinstance(value, str) and _SAFE_ID.match(value.strip()):
        return value.strip()
    return None
