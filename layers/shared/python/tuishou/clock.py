"""Time in one place: UTC, ISO 8601 strings and epoch seconds. Tests move it with time-machine.

The local stack alone may move it forward (``POST /_local/clock``, so a demo can end a holding period):
``set_offset`` adds a fixed offset to ``now()``. Nothing in AWS sets it (no variable, no route): it stays
zero there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def set_offset(delta: timedelta) -> None:
    """How far ahead of the real time ``now()`` runs (the local stack's time travel; zero again on reset)."""
    global _offset
    _offset = delta


def offset() -> timedelta:
    return _offset


def iso(moment: datetime | None = None) -> str:
    """ISO 8601 with millisecond precision and a Z suffix: sorts lexically in time order."""
    moment = (moment or now()).astimezone(UTC)
    # The year is formatted by hand: strftime("%Y") writes year 1 as "1" on Linux, which parse_iso cannot read.
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def hour_bucket(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def day_bucket(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")
