"""Configuration read from the environment at call time (never at import time), so one process can
host several functions and tests can point them at fresh resources."""

from __future__ import annotations

import os
from contextvars import ContextVar

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


_request_base_url: ContextVar[str | None] = ContextVar("request_base_url", default=None)


def remember_request_base_url(url: str | None) -> None:
    """Called by the REST resolver with the URL the current request came in on."""
    _request_base_url.set(url)


def public_base_url() -> str:
    """Where tracking links point: ``TUISHOU_PUBLIC_BASE_URL`` (the ``PublicBaseUrl`` parameter, e.g. a
    short custom domain) when set, else the API URL the current request came in on. (The template cannot
    put the API's own URL in the functions' environment: the API references the functions, so that would
    be a circular dependency.)"""
    configured = os.environ.get("TUISHOU_PUBLIC_BASE_URL", "").strip()
    return (configured or _request_base_url.get() or "http://127.0.0.1:3000").rstrip("/")
