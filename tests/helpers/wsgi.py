"""A WSGI face of the local gateway, so HTTP test tools (schemathesis) call ``stack.gateway.handle``
in-process, with no socket and the same JWT check and proxy events as ``make local``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from tools.gateway import LocalGateway


def wsgi_app(gateway: LocalGateway) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        target = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        response = gateway.handle(environ["REQUEST_METHOD"], target, headers, body)
        phrase = HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else ""
        start_response(f"{response.status} {phrase}".strip(), list(response.headers.items()))
        return [response.body]

    return app
