"""The deployment secret that keys payer hashes, from SSM Parameter Store (a SecureString named by
``TUISHOU_PAYER_KEY_PARAMETER``): one GetParameter per cold start, then kept for the process. Payers are
only ever stored as HMAC-SHA256 digests under this key (docs/integrity.md)."""

from __future__ import annotations

from functools import cache

from tuishou import settings
from tuishou.dal import clients


def payer_key() -> bytes:
    return _read(settings.payments().required("payer_key_parameter"))


@cache
def _read(name: str) -> bytes:
    found = clients.call(clients.ssm(), "get_parameter", Name=name, WithDecryption=True)
    return str(found["Parameter"]["Value"]).encode()


def clear_cache() -> None:
    """Forget the key (a new local stack stores a new one)."""
    _read.cache_clear()
