"""Integrity rules: one module for settlement (a payment that fails one is held) and the compensation scan
(an ungranted event that fails one is held or flagged). docs/integrity.md states every rule and threshold.

Held means: the payment is recorded and the merchant's share settled as usual, but the commission is
posted to the system account ``COMMISSIONS_UNDER_REVIEW`` and a review is opened; an admin's decision moves
it to the promoter (approved) or to the merchant (declined, final) — ``tuishou.logic.reviews``.

Rules, in the order they are checked (the first that fails is the reason):

* ``blocked``: an admin blocked the promoter (``PUT /admin/users/{user_id}/block``).
* ``self_purchase``: the payer is the promoter. Payers are compared, and stored, only as keyed hashes:
  HMAC-SHA256 under the deployment's payer key (SSM) of each identifier after normalising (trimmed,
  case-folded; phones without spaces, dashes and brackets). The payer's identifiers are what the provider
  tells: Stripe's checkout ``customer_details.email`` and ``customer`` id, Alipay's ``buyer_id`` and
  ``buyer_logon_id`` (an email or phone); the promoter's are the email claim saved at registration and the
  profile phone. An opaque id (``cus_...``, ``2088...``) matches only an identifier the promoter is known
  by, never a guess.
* ``velocity``: more than ``TUISHOU_VELOCITY_MAX_PER_HOUR`` (default 20) sales of one promoter with a
  payment in one UTC hour, this one included. Settlement reads the promoter's count of that hour with the
  attribution (no extra request) and adds this sale to it in its own transaction; the scan counts the
  events of one kind per user and UTC hour among those it reads. Concurrent sales may read the same count:
  a burst can pass the limit by the number of sales settling at the same instant.
* ``amount_unusual``: the paid amount exceeds ``TUISHOU_MAX_PRICE_MULTIPLE`` (default 10) times the
  product's price (a payment in another currency than the product's is not attributed at all:
  ``currency_mismatch``, flagged)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tuishou import clock, settings
from tuishou.dal.users import ProfileRecord
from tuishou.models.ledger import RewardableEvent

BLOCKED, SELF_PURCHASE, VELOCITY, AMOUNT_UNUSUAL = "blocked", "self_purchase", "velocity", "amount_unusual"
HASH_HEX_DIGITS = 32  # 128 bits of the HMAC: collisions are out of reach, the items stay small


@dataclass(frozen=True)
class Hold:
    """Why a commission is held, and the facts an admin needs to decide (never shown to the promoter)."""

    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def normalised(identity: str | None) -> str:
    text = (identity or "").strip().casefold()
    return text if "@" in text else re.sub(r"[\s\-()]", "", text)


def identity_hashes(key: bytes, identities: Iterable[str | None]) -> tuple[str, ...]:
    """The keyed hashes of the non-empty normalised identifiers, sorted and without repeats."""
    found = {normalised(i) for i in identities} - {""}
    return tuple(sorted(hmac.new(key, i.encode(), hashlib.sha256).hexdigest()[:HASH_HEX_DIGITS] for i in found))


def promoter_identities(profile: ProfileRecord | None) -> tuple[str | None, ...]:
    return () if profile is None else (profile.email, profile.phone)


# ---------------------------------------------------------------- settlement
@dataclass(frozen=True)
class SaleFacts:
    """What the rules look at for one attributed sale."""

    promoter_blocked: bool
    payer_hashes: tuple[str, ...]
    promoter_hashes: tuple[str, ...]
    amount_minor: int
    price_minor: int
    promoter_sales_in_hour: int  # before this one


def sale_hold(facts: SaleFacts) -> Hold | None:
    """The first rule the sale fails, or None."""
    if facts.promoter_blocked:
        return Hold(BLOCKED)
    matched = set(facts.payer_hashes) & set(facts.promoter_hashes)
    if matched:
        return Hold(SELF_PURCHASE, {"matched_identifiers": len(matched)})
    limit, count = velocity_limit(), facts.promoter_sales_in_hour + 1
    if count > limit:
        return Hold(VELOCITY, {"sales_in_hour": count, "limit": limit})
    multiple = settings.payments().max_price_multiple
    if facts.price_minor > 0 and facts.amount_minor > multiple * facts.price_minor:
        return Hold(
            AMOUNT_UNUSUAL,
            {"amount_minor": facts.amount_minor, "price_minor": facts.price_minor, "max_price_multiple": multiple},
        )
    return None


# ---------------------------------------------------------------- the compensation scan
def velocity_limit() -> int:
    return settings.compensation().velocity_max_per_hour


def velocity_group(event: RewardableEvent) -> tuple[str, str, str]:
    """(user, kind, UTC hour): what the scan's velocity rule counts events by."""
    return event.user_id, event.kind, clock.hour_bucket(event.occurred_at)


def over_velocity(events: Iterable[RewardableEvent], limit: int) -> set[tuple[str, str, str]]:
    """(user, kind, hour) groups with more than ``limit`` events among ``events``."""
    counts = Counter(velocity_group(e) for e in events)
    return {group for group, count in counts.items() if count > limit}


def scan_flag(event: RewardableEvent, blocked: set[str], too_fast: set[tuple[str, str, str]]) -> Hold | None:
    """The scan's verdict on an ungranted event: the hold settlement recorded on it, or a rule that fails
    now (the user was blocked since; too many events in its hour; an event recorded before payers were
    hashed that said ``self_purchase``)."""
    recorded = event.details.get("hold_reason")
    if recorded:
        return Hold(str(recorded), dict(event.details.get("hold_evidence") or {}))
    if event.user_id in blocked:
        return Hold(BLOCKED)
    if event.details.get("self_purchase"):
        return Hold(SELF_PURCHASE)
    if velocity_group(event) in too_fast:
        return Hold(VELOCITY, {"limit": velocity_limit()})
    return None
