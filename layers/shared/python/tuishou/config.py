"""Configuration read from the environment at call time (never at import time), so one process can
host several functions and tests can point them at fresh resources."""

from __future__ import annotations

import os

from tuishou.errors import TuishouError


class ConfigurationError(TuishouError):
    status, code = 500, "configuration_error"


def setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def table_name(table: str) -> str:
    """Physical name of a table by its short name: catalog, users, tracking, ledger, idempotency."""
    return setting(f"TUISHOU_{table.upper()}_TABLE")


def float_setting(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def int_setting(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def public_base_url() -> str:
    return setting("TUISHOU_PUBLIC_BASE_URL", "http://127.0.0.1:3000").rstrip("/")
