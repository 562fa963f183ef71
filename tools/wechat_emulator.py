"""A small WeChat API for the local stack: issues access tokens for the configured appid and secret,
checks each subscribe message (token, openid, template, the `data` shape, `thing` lengths) as WeChat
does, answers ``{errcode, errmsg}`` and records every message it accepted. ``make local`` starts it and
points ``TUISHOU_WECHAT_API_BASE`` at it; production points that variable at WeChat.

``GET /_emulator/messages`` lists the accepted messages; ``refuse(openid)`` makes an account answer 43101
(the user refused the template), as a user who unsubscribes does."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN_LIFETIME_SECONDS = 7200
THING_MAX = 20
OK, BAD_CREDENTIAL, BAD_TOKEN, EXPIRED_TOKEN, BAD_OPENID, BAD_DATA, BAD_TEMPLATE, REFUSED = (
    0,
    40125,
    40001,
    42001,
    40003,
    47003,
    40037,
    43101,
)


class WechatEmulator:
    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.messages: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self._tokens: dict[str, float] = {}  # token -> expiry (time.monotonic())
        self._refused: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> WechatEmulator:
        handler = type("WechatHandler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="wechat-emulator", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget the messages, refusals and the count of tokens issued (issued tokens stay valid, as a
        cached token would)."""
        with self._lock:
            self.messages.clear()
            self._refused.clear()
            self.tokens_issued = 0

    def refuse(self, openid: str) -> None:
        with self._lock:
            self._refused.add(openid)

    def expire_tokens(self) -> None:
        """Every issued token expired (a cached token is now stale: 42001)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    # ------------------------------------------------------------------ the API
    def issue_token(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return {"errcode": BAD_CREDENTIAL, "errmsg": "invalid appsecret"}
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + TOKEN_LIFETIME_SECONDS
            self.tokens_issued += 1
        return {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS}

    def subscribe_send(self, token: str, message: Any) -> dict[str, Any]:
        with self._lock:
            expiry = self._tokens.get(token)
            if expiry is None:
                return {"errcode": BAD_TOKEN, "errmsg": "invalid credential, access_token is invalid"}
            if time.monotonic() >= expiry:
                return {"errcode": EXPIRED_TOKEN, "errmsg": "access_token expired"}
            problem = _shape_problem(message)
            if problem:
                return problem
            if message["touser"] in self._refused:
                return {"errcode": REFUSED, "errmsg": "user refuse to accept the msg"}
            self.messages.append({**message, "received_at": time.time()})
        return {"errcode": OK, "errmsg": "ok"}


def _shape_problem(message: Any) -> dict[str, Any] | None:
    """WeChat's answer to a malformed message, or None."""
    if not isinstance(message, dict):
        return {"errcode": 44002, "errmsg": "empty post data"}
    openid = message.get("touser")
    if not isinstance(openid, str) or not 1 <= len(openid) <= 64:
        return {"errcode": BAD_OPENID, "errmsg": "invalid openid"}
    if not isinstance(message.get("template_id"), str) or not message["template_id"]:
        return {"errcode": BAD_TEMPLATE, "errmsg": "invalid template_id"}
    data = message.get("data")
    if not isinstance(data, dict) or not data:
        return {"errcode": BAD_DATA, "errmsg": "argument invalid! data is empty"}
    for keyword, field in data.items():
        value = field.get("value") if isinstance(field, dict) else None
        if not isinstance(value, str) or not value:
            return {"errcode": BAD_DATA, "errmsg": f"argument invalid! data.{keyword}.value invalid"}
        if keyword.startswith("thing") and len(value) > THING_MAX:
            return {"errcode": BAD_DATA, "errmsg": f"argument invalid! data.{keyword}.value too long"}
    if message.get("lang", "zh_CN") not in {"zh_CN", "en_US", "zh_HK", "zh_TW"}:
        return {"errcode": BAD_DATA, "errmsg": "argument invalid! lang"}
    return None


class _Handler(BaseHTTPRequestHandler):
    emulator: WechatEmulator
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/cgi-bin/token":
            self._answer(200, self.emulator.issue_token(query))
        elif url.path == "/_emulator/messages":
            self._answer(200, {"items": list(self.emulator.messages)})
        else:
            self._answer(404, {"errcode": 404, "errmsg": "not found"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path != "/cgi-bin/message/subscribe/send":
            self._answer(404, {"errcode": 404, "errmsg": "not found"})
            return
        try:
            message = json.loads(body or b"null")
        except ValueError:
            self._answer(200, {"errcode": 47001, "errmsg": "data format error"})
            return
        self._answer(200, self.emulator.subscribe_send(query.get("access_token", ""), message))

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        pass  # the local stack prints deliveries itself
