"""Named fault points for chaos testing, switched by the SSM parameter ``/tuishou/faults``.

The parameter holds JSON such as ``{"grant.skip": 3}``: the next 3 grants after their events are recorded
are skipped (the event stays ungranted, as if the process had died there), so the compensation scan can
be exercised in any environment. Absent, ``{}`` or a count of 0 is off, the default.

Exactly k under concurrency: the count is a budget per parameter *version*; each firing is one
conditional ``ADD`` on a DynamoDB counter item keyed by (fault, version), which succeeds at most k times
whatever the concurrency. Writing the parameter again (a new version) arms a fresh budget.

Cost: the parameter is cached per process for ``TUISHOU_FAULTS_TTL_SECONDS`` (default 10 s): with the
switch off the normal path makes no DynamoDB request and at most one SSM GetParameter per TTL. With it on,
one UpdateItem per grant until the budget is spent (then the process remembers and stops asking).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Final

from tuishou import settings
from tuishou.observability import logger

GRANT_SKIP: Final = "grant.skip"
# Consumed by the local stack's payout provider emulators (tools/alipay_emulator.py, tools/stripe_emulator.py):
# the provider refuses the next k transfers for good (an unknown payee), or makes them and answers too late.
PAYOUT_FAIL: Final = "payout.fail"
PAYOUT_TIMEOUT_THEN_SUCCEED: Final = "payout.timeout_then_succeed"
KNOWN_FAULTS: Final = frozenset({GRANT_SKIP, PAYOUT_FAIL, PAYOUT_TIMEOUT_THEN_SUCCEED})

_lock = threading.Lock()
_cached: tuple[float, dict[str, int], int] | None = None  # (expires, budgets, version)
_spent: set[tuple[str, int]] = set()


def parameter_name() -> str:
    return settings.faults().parameter


def parse(text: str | None) -> dict[str, int]:
    """The switch's JSON -> {fault: count}. Unknown names, non-integers and negatives are errors."""
    if not text or not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the faults parameter must be a JSON object")
    budgets: dict[str, int] = {}
    for name, count in data.items():
        if name not in KNOWN_FAULTS:
            raise ValueError(f"unknown fault point {name!r}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"{name}: the count must be a non-negative integer")
        budgets[name] = count
    return budgets


def clear_cache() -> None:
    global _cached
    with _lock:
        _cached = None
        _spent.clear()


def _budgets() -> tuple[dict[str, int], int]:
    global _cached
    now = time.monotonic()
    with _lock:
        if _cached and _cached[0] > now:
            return _cached[1], _cached[2]
    from tuishou.dal import faults as store

    try:
        text, version = store.read_parameter(parameter_name())
        budgets = parse(text)
    except Exception:  # a chaos switch must never break the normal path: unreadable means off
        logger.warning("fault parameter unreadable; faults off", exc_info=True)
        budgets, version = {}, 0
    with _lock:
        _cached = (now + settings.faults().ttl_seconds, budgets, version)
    return budgets, version


def fire(fault: str) -> bool:
    """True when ``fault`` should happen now (and it is counted); False (the default) otherwise."""
    budgets, version = _budgets()
    budget = budgets.get(fault, 0)
    if budget <= 0 or (fault, version) in _spent:
        return False
    from tuishou.dal import faults as store

    if store.claim(fault, version, budget):
        logger.warning("fault injected", extra={"fault": fault, "version": version})
        return True
    with _lock:
        _spent.add((fault, version))
    return False


def set_faults(text: str) -> dict[str, int]:
    """Validate and write the switch (the local stack's ``PUT /_local/faults``); takes effect at once here."""
    budgets = parse(text)
    from tuishou.dal import faults as store

    store.write_parameter(parameter_name(), json.dumps(budgets))
    clear_cache()
    return budgets
