"""Stored times read back: ``clock.parse_iso(clock.iso(t))`` is ``t`` to the millisecond, for every year."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tuishou import clock


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_every_stored_time_reads_back(moment):
    # When a time is stored as text and read back
    text = clock.iso(moment)
    # Then it is the same instant to the millisecond, and the text sorts like the time
    assert clock.parse_iso(text) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert len(text) == len("2024-05-01T12:00:00.000Z")
