"""Invites: a promoter's invite code, and the ``invite_signup`` rewardable events a registration with it
makes — recorded atomically with the new profile, then granted through the ledger (normal path, with the
``grant.skip`` fault point; the compensation scan grants whatever that leaves behind).

Fixed amounts come from the mapping event type -> amount in ``TUISHOU_REWARD_AMOUNTS`` (JSON, default
``{"invite_signup": {"amount_minor": 500, "currency": "CNY"}}``). The inviter is always rewarded; the
invitee too when ``TUISHOU_INVITEE_REWARD`` is ``true`` (default false), with the same amount."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tuishou import clock, ids, money, settings
from tuishou.config import ConfigurationError
from tuishou.dal import invites as store
from tuishou.errors import ServiceUnavailable, Unprocessable
from tuishou.logic.ledger import INVITE_SIGNUP
from tuishou.models.compensation import InviteCode
from tuishou.models.ledger import RewardableEvent

AMOUNTS_ENV = "TUISHOU_REWARD_AMOUNTS"
DEFAULT_AMOUNTS: dict[str, dict[str, Any]] = {INVITE_SIGNUP: {"amount_minor": 500, "currency": "CNY"}}


def fixed_amount(kind: str) -> tuple[int, str]:
    """(amount_minor, currency) of a fixed-amount event type from the configured mapping."""
    mapping = settings.compensation().reward_amounts or DEFAULT_AMOUNTS
    try:
        entry = mapping[kind]
        amount, currency = entry["amount_minor"], entry["currency"]
    except (KeyError, TypeError) as exc:
        raise ConfigurationError(f"{AMOUNTS_ENV} has no valid entry for {kind}") from exc
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 or not money.is_currency(currency):
        raise ConfigurationError(f"{AMOUNTS_ENV}: {kind} needs a positive integer amount_minor and a currency")
    return amount, currency


def invite_code_for(promoter_id: str) -> InviteCode:
    """The promoter's one invite code, created on first ask (a GetItem; + one transaction the first time)."""
    for _attempt in range(3):
        existing = store.get_invite_code(promoter_id)
        if existing:
            return InviteCode(invite_code=existing)
        code = ids.new_code()
        if store.create_invite(promoter_id, code, clock.iso()):
            return InviteCode(invite_code=code)
    raise ServiceUnavailable("could not allocate an invite code, retry")


def resolve(code: str, invitee_id: str) -> str:
    """The inviter of ``code``; 422 naming ``invite_code`` when unknown or the invitee's own (nothing written)."""
    inviter = store.inviter_of(code) if ids.is_code(code) else None
    if inviter is None:
        raise Unprocessable("unknown invite code", field="invite_code")
    if inviter == invitee_id:
        raise Unprocessable("a promoter cannot invite themselves", field="invite_code")
    return inviter


def signup_events(inviter_id: str, invitee_id: str, code: str, at: datetime) -> list[RewardableEvent]:
    amount, currency = fixed_amount(INVITE_SIGNUP)
    details = {"inviter_id": inviter_id, "invitee_id": invitee_id, "invite_code": code}
    events = [
        RewardableEvent(
            event_id=f"{INVITE_SIGNUP}:{invitee_id}",
            kind=INVITE_SIGNUP,
            user_id=inviter_id,
            amount_minor=amount,
            currency=currency,
            occurred_at=at,
            details={**details, "role": "inviter"},
        )
    ]
    if settings.compensation().invitee_reward:
        events.append(
            RewardableEvent(
                event_id=f"{INVITE_SIGNUP}:{invitee_id}:invitee",
                kind=INVITE_SIGNUP,
                user_id=invitee_id,
                amount_minor=amount,
                currency=currency,
                occurred_at=at,
                details={**details, "role": "invitee"},
            )
        )
    return events
