"""Legitimacy rules the compensation scan applies before it grants anything (docs/compensation.md).

Self-purchase: the paying consumer is the promoter. Providers tell us who paid — Stripe the checkout's
customer email, Alipay the buyer id (or logon id, an email or phone). The promoter's identity is what
their Cognito ID token claimed at registration (email) and the phone on the profile. The rule: after
trimming and case-folding (and dropping spaces and dashes from phones), the payer equals the promoter's
email or phone. An opaque Alipay ``buyer_id`` (2088…) never matches: we cannot tell, so we do not flag.

Velocity: more than ``TUISHOU_VELOCITY_MAX_PER_HOUR`` (default 20) events of one type for one user in
one UTC hour."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from tuishou import clock, settings
from tuishou.dal import users
from tuishou.dal.users import ProfileRecord
from tuishou.models.ledger import RewardableEvent

BLOCKED, SELF_PURCHASE, VELOCITY = "blocked", "self_purchase", "velocity"


def _normal(identity: str | None) -> str:
    text = (identity or "").strip().casefold()
    return text if "@" in text else re.sub(r"[\s\-()]", "", text)


def is_self_purchase(payer: str | None, profile: ProfileRecord | Mapping[str, Any] | None) -> bool:
    payer_id = _normal(payer)
    record = users.as_profile_record(profile)
    if not payer_id or record is None:
        return False
    own = {_normal(record.email), _normal(record.phone)} - {""}
    return payer_id in own


def velocity_limit() -> int:
    return settings.compensation().velocity_max_per_hour


def velocity_group(event: RewardableEvent) -> tuple[str, str, str]:
    """(user, kind, UTC hour): what the velocity rule counts events by."""
    return event.user_id, event.kind, clock.hour_bucket(event.occurred_at)


def over_velocity(events: Iterable[RewardableEvent], limit: int) -> set[tuple[str, str, str]]:
    """(user, kind, hour) groups with more than ``limit`` events among ``events``."""
    counts = Counter(velocity_group(e) for e in events)
    return {group for group, count in counts.items() if count > limit}
