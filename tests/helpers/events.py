"""Event builders for invoking handlers directly (as ``sam local invoke -e`` would)."""

from __future__ import annotations

import json
from typing import Any

from tools import template
from tools.gateway import LambdaContext, proxy_event


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    claims: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The event the template route matching ``method path`` receives: a REST v1 proxy event, or an HTTP API
    payload v2 event for an ``HttpApi`` route (the public redirect)."""
    for route in template.routes():
        match = route.pattern.match(path)
        if match and route.method == method:
            raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
            return proxy_event(
                route,
                path,
                match.groupdict(),
                {k: [v] for k, v in (query or {}).items()},
                {"Content-Type": "application/json", **(headers or {})},
                raw,
                claims,
            )
    raise LookupError(f"no route {method} {path} in template.yaml")


def claims_for(sub: str, role: str) -> dict[str, str]:
    return {"sub": sub, "custom:role": role, "cognito:username": sub, "token_use": "id"}


def context(name: str = "test") -> LambdaContext:
    return LambdaContext(function_name=name)
