"""The configuration error, table names and the public base URL. Every variable is read through the
typed models of ``tuishou.settings`` (cached per distinct environment), never at import time, so one
process can host several functions and tests can point them at fresh resources."""

from __future__ import annotations

from contextvars import ContextVar

from tuishou.errors import TuishouError


class ConfigurationError(TuishouError):
    status, code = 500, "configuration_error"


def table_name(table: str) -> str:
    """Physical name of a table by its short name: catalog, users, tracking, ledger."""
    from tuishou import settings

    return settings.tables().name(table)


_request_base_url: ContextVar[str | None] = ContextVar("request_base_url", default=None)


def remember_request_base_url(url: str | None) -> None:
    """Called by the REST resolver with the URL the current request came in on."""
    _request_base_url.set(url)


def public_base_url() -> str:
    """Where tracking links point: ``TUISHOU_PUBLIC_BASE_URL`` (the ``PublicBaseUrl`` parameter, e.g. a
    short custom domain) when set, else the API URL the current request came in on. (The template cannot
    put the API's own URL in the functions' environment: the API references the functions, so that would
    be a circular dependency.)"""
    from tuishou import settings

    configured = settings.site().public_base_url.strip()
    return (configured or _request_base_url.get() or "http://127.0.0.1:3000").rstrip("/")
