"""Promoter profiles and the tags an admin gives them."""

from __future__ import annotations

import re
from typing import Any

from tuishou import clock
from tuishou.dal import users
from tuishou.errors import Forbidden, Unprocessable
from tuishou.models.tasks import Profile, ProfileCreate

DEFAULT_TAGS = ["standard"]
# Cognito `sub` values are UUIDs; anything else cannot name a promoter (checked before any lookup).
_SUB_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def register(user_id: str, body: ProfileCreate) -> Profile:
    profile = {"user_id": user_id, "role": "promoter", "display_name": body.display_name, "phone": body.phone,
               "tags": list(DEFAULT_TAGS), "invite_code": body.invite_code, "created_at": clock.iso()}
    users.create_profile(profile)
    return Profile.model_validate(profile)


def check_promoter_id(promoter_id: str) -> None:
    """A promoter id that is not a Cognito ``sub`` is a 422 naming the field, before any DynamoDB call."""
    if not _SUB_RE.match(promoter_id):
        raise Unprocessable("promoter_id: not a user id", field="promoter_id")


def set_tags(promoter_id: str, tags: list[str]) -> Profile:
    check_promoter_id(promoter_id)
    return Profile.model_validate(users.set_promoter_tags(promoter_id, tags, clock.iso()))


def tags_of(profile: dict[str, Any] | None) -> list[str]:
    """The promoter's tags; a promoter must register a profile before working on tasks."""
    if profile is None or profile.get("role") != "promoter":
        raise Forbidden("register a promoter profile first (POST /promoter/profile)")
    return list(profile.get("tags") or DEFAULT_TAGS)
