"""Promoter profiles and the tags an admin gives them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from tuishou import clock
from tuishou.dal import users
from tuishou.dal.users import ProfileRecord
from tuishou.errors import Forbidden, Unprocessable
from tuishou.models.common import DEFAULT_LOCALE, DEFAULT_TIME_ZONE
from tuishou.models.tasks import Profile, ProfileCreate

DEFAULT_TAGS = ["standard"]
# Cognito `sub` values are UUIDs; anything else cannot name a promoter (checked before any lookup).
_SUB_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def register(user_id: str, body: ProfileCreate, email: str | None = None) -> Profile:
    """Create the profile (keeping the token's email claim: the self-purchase rule compares payers with it).
    With an ``invite_code``: the inviter is resolved first (unknown -> 422, nothing written), and the
    ``invite_signup`` events are recorded in the same transaction as the profile, then granted."""
    now = clock.now()
    profile = ProfileRecord(
        user_id=user_id,
        role="promoter",
        display_name=body.display_name,
        phone=body.phone,
        tags=tuple(DEFAULT_TAGS),
        invite_code=body.invite_code,
        created_at=clock.iso(now),
        email=email.strip().lower() if email else None,
    )
    locale, time_zone = body.locale or DEFAULT_LOCALE, body.time_zone or DEFAULT_TIME_ZONE
    # Stored only when chosen: absent means the defaults, and registration stays one write otherwise.
    settings = (
        [users.locale_put(user_id, locale, time_zone, profile.created_at)] if body.locale or body.time_zone else []
    )
    if not body.invite_code:
        users.create_profile(profile, also=settings)
        return _view(profile, locale, time_zone)
    from tuishou.dal import ledger as ledger_dal
    from tuishou.logic import invites
    from tuishou.logic.ledger import grant_recorded_event

    inviter_id = invites.resolve(body.invite_code, user_id)
    events = invites.signup_events(inviter_id, user_id, body.invite_code, now)
    users.create_profile(profile, also=[*settings, *(ledger_dal.event_put(e) for e in events)])
    for event in events:
        grant_recorded_event(event)
    return _view(profile, locale, time_zone)


def _view(profile: ProfileRecord, locale: str = DEFAULT_LOCALE, time_zone: str = DEFAULT_TIME_ZONE) -> Profile:
    return Profile.model_validate({**asdict(profile), "locale": locale, "time_zone": time_zone})


def check_user_id(user_id: str, field: str) -> None:
    """A Cognito ``sub`` (UUID) or 422 naming ``field``: checked before any DynamoDB call."""
    if not _SUB_RE.match(user_id or ""):
        raise Unprocessable(f"{field}: not a user id", field=field)


def set_tags(promoter_id: str, tags: list[str]) -> Profile:
    check_user_id(promoter_id, "promoter_id")
    return _view(users.set_promoter_tags(promoter_id, tags, clock.iso()))


def tags_of(profile: ProfileRecord | Mapping[str, Any] | None) -> list[str]:
    """The promoter's tags; a promoter must register a profile before working on tasks."""
    record = users.as_profile_record(profile)
    if record is None or record.role != "promoter":
        raise Forbidden("register a promoter profile first (POST /promoter/profile)")
    return list(record.tags or DEFAULT_TAGS)
