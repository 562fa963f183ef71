"""The canonical form of a URL Tuishou stores and redirects to: absolute https, ASCII only.

A landing URL ends up in a ``Location`` header, which carries ASCII only: a raw UTF-8 path or host there gets
the visitor no response at all. So URLs are canonicalised once, when saved: the host IDNA-encoded and
lower-cased, path, query and fragment percent-encoded as UTF-8 (existing escapes kept), and anything a
browser would not show - control and format characters, whitespace, credentials - refused."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

# Characters RFC 3986 allows as they are in each part ('%' kept so existing escapes are not escaped twice).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def canonical_https_url(value: str) -> str:
    """``value`` in canonical form, or ValueError saying what is wrong with it."""
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError("must not contain whitespace or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ValueError("must be an absolute https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials")
    netloc = _ascii_host(parts.hostname)
    if parts.port is not None:  # reading .port raises ValueError for a port out of 0..65535
        netloc += f":{parts.port}"
    return urlunsplit(
        (
            "https",
            netloc,
            quote(parts.path, safe=_PATH_SAFE),
            quote(parts.query, safe=_QUERY_SAFE),
            quote(parts.fragment, safe=_QUERY_SAFE),
        )
    )


def _ascii_host(hostname: str) -> str:
    try:
        return f"[{ipaddress.IPv6Address(hostname)}]"
    except ValueError:
        pass
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError("host is not a valid (internationalised) domain name") from exc
    if not _HOST_NAME.fullmatch(host):
        raise ValueError("host is not a valid domain name")
    return host
