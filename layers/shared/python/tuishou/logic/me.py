"""The caller's own account: who they are and the settings every role has (language, time zone)."""

from __future__ import annotations

from tuishou import clock
from tuishou.dal import users
from tuishou.errors import Unprocessable
from tuishou.models.common import MeResponse, MeUpdate, Principal


def me(caller: Principal) -> MeResponse:
    """The token's identity with the stored settings (1 GetItem)."""
    locale, time_zone = users.locale_of(caller.user_id)
    return _view(caller, locale, time_zone)


def update(caller: Principal, body: MeUpdate) -> MeResponse:
    """Change the settings given, keep the others (1 UpdateItem)."""
    if body.locale is None and body.time_zone is None:
        raise Unprocessable("give locale, time_zone or both", field="body")
    locale, time_zone = users.set_locale(caller.user_id, body.locale, body.time_zone, clock.iso())
    return _view(caller, locale, time_zone)


def _view(caller: Principal, locale: str, time_zone: str) -> MeResponse:
    return MeResponse.model_validate(
        {
            "user_id": caller.user_id,
            "role": caller.role,
            "username": caller.username,
            "locale": locale,
            "time_zone": time_zone,
        }
    )
