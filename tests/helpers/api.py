"""Calls the local gateway in-process, as a mobile client would over HTTPS."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from tools.gateway import HttpResponse
from tools.local_stack import LocalStack


@dataclass
class User:
    sub: str
    token: str
    role: str
    username: str


class ApiClient:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def user(self, role: str, name: str | None = None) -> User:
        import uuid

        created = self.stack.create_user(name or f"{role}-{uuid.uuid4().hex[:8]}", role)
        return User(created["sub"], created["id_token"], role, created["username"])

    def signed_in(self, user: User) -> User:
        """``user`` with a fresh ID token (one lasts an hour: for tests whose clock moves further)."""
        return replace(user, token=self.stack.id_token(user.username))

    @cached_property
    def admin(self) -> User:
        return self.user("admin")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        as_user: User | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        query: dict[str, Any] | None = None,
    ) -> HttpResponse:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if as_user is not None:
            token = as_user.token
        if token is not None:
            all_headers["Authorization"] = token
        if json_body is not None:
            body = json.dumps(json_body).encode()
        if query:
            path = f"{path}?{urlencode({k: v for k, v in query.items() if v is not None})}"
        return self.stack.gateway.handle(method, path, all_headers, body or b"")

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def put(self, path: str, json_body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("PUT", path, json_body=json_body, **kwargs)

    def patch(self, path: str, json_body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("PATCH", path, json_body=json_body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)
