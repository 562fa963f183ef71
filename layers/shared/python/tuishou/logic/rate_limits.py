"""Per-user rate limits on write requests: fixed windows of a UTC minute and a UTC hour per scope
(``writes``: every write route of the REST API; ``shares``: the share route too), limits from
``settings.rate_limits()``. One conditional UpdateItem per request (``tuishou.dal.rate_limits``); a refused
request is ``TooManyRequests`` with the seconds until the window that refused it ends (``Retry-After``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from tuishou import clock, settings
from tuishou.dal import rate_limits as store
from tuishou.errors import TooManyRequests

Scope = Literal["writes", "shares"]
WINDOW_TTL = timedelta(hours=2)
"""A window item outlives its hour (TTL deletes late): until then it is the hour's count."""


def _limits(scope: Scope) -> tuple[int, int]:
    """(per minute, per hour) of ``scope``; 0 is no limit."""
    config = settings.rate_limits()
    if scope == "shares":
        return config.shares_per_minute, config.shares_per_hour
    return config.writes_per_minute, config.writes_per_hour


def admit(user_id: str, scopes: Sequence[Scope], now: datetime | None = None) -> None:
    """Count one request of ``user_id`` in each scope, or raise ``TooManyRequests`` (nothing counted) when
    one of its windows is full. Without any limit configured, no request is made."""
    at = now or clock.now()
    minute = f"m{at.minute:02d}"
    limits: dict[str, int] = {}
    for scope in scopes:
        per_minute, per_hour = _limits(scope)
        limits |= {f"{scope}#{minute}": per_minute} if per_minute else {}
        limits |= {f"{scope}#h": per_hour} if per_hour else {}
    if not limits:
        return
    hour_start = at.replace(minute=0, second=0, microsecond=0)
    full = store.take(user_id, clock.hour_bucket(at), limits, int((hour_start + WINDOW_TTL).timestamp()))
    if full is None:
        return
    hour_full = any(attribute.endswith("#h") and full[attribute] >= limit for attribute, limit in limits.items())
    window_end = (
        hour_start + timedelta(hours=1) if hour_full else at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    )
    refusing = next((a.split("#")[0] for a, limit in limits.items() if full[a] >= limit), "writes")
    raise TooManyRequests(
        f"too many {refusing} requests: retry after the current {'hour' if hour_full else 'minute'}",
        retry_after=max(1, math.ceil((window_end - at).total_seconds())),
    )
