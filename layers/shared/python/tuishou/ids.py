"""Identifiers: time-ordered, URL-safe, unguessable. Every id and code of the package is drawn here, from
one source: the operating system's randomness, which nothing before a SnapStart snapshot can share with
the environments restored from it (``reseed`` runs after every restore all the same, so a seeded source
put here could never be shared either; docs/operations.md, "SnapStart")."""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import time
from datetime import datetime

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
ID_PATTERN = r"^[a-z]{1,4}_[0-9a-hjkmnp-tv-z]{20}$"
_ID_RE = re.compile(ID_PATTERN)
_source: random.Random = secrets.SystemRandom()


def reseed() -> None:
    """After a SnapStart restore (``tuishou.snapstart.restore``): re-seed the id source from the OS (a no-op for
    the OS's own randomness; a seeded generator must not draw the same ids in every restored environment)."""
    _source.seed()


def _b32(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """``prefix_`` + 10 chars of millisecond time + 10 random chars: sorts by creation time."""
    return f"{prefix}_{_b32(int(time.time() * 1000), 10)}{_b32(_source.getrandbits(50), 10)}"


def stable_id(prefix: str, at: datetime, seed: str) -> str:
    """An id shaped like ``new_id``'s (time-ordered by ``at``) whose random part is derived from ``seed``:
    the same fact always names the same id, so writing it twice is one conditional write."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:7], "big") >> 6
    return f"{prefix}_{_b32(int(at.timestamp() * 1000), 10)}{_b32(digest, 10)}"


def derived_id(prefix: str, seed: str) -> str:
    """An id shaped like ``new_id``'s wholly derived from ``seed`` (not time-ordered): a fact's one id, which
    anyone holding the fact can compute without a read."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:13], "big") >> 4
    return f"{prefix}_{_b32(digest, 20)}"


def is_id(value: str, prefix: str | None = None) -> bool:
    if not _ID_RE.match(value or ""):
        return False
    return prefix is None or value.startswith(prefix + "_")


CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[0-9a-hjkmnp-tv-z]{{{CODE_LENGTH}}}$")


def is_code(value: str) -> bool:
    """True for a code ``new_code()`` could have made (checked before any lookup)."""
    return bool(_CODE_RE.match(value or ""))


def new_code(length: int = CODE_LENGTH) -> str:
    """Short public code (tracking links, invites, coupons)."""
    return "".join(_source.choice(_ALPHABET) for _ in range(length))
