"""WeChat subscribe messages: the openid bound to a user (``keys.wechat_binding``), and the provider
adapter that sends one message: the access token fetched with the app's credentials and cached until
shortly before it expires, the kind's template and its field mapping, WeChat's answer as a result.

The API base URL is configuration (``TUISHOU_WECHAT_API_BASE``): WeChat in production, the emulator of
``tools/wechat_emulator.py`` locally."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tuishou import settings
from tuishou.dal import dynamo, keys, provider_config
from tuishou.errors import ServiceUnavailable

THING_MAX = 20  # a template's `thing` field holds at most 20 characters (errcode 47003 otherwise)
TOKEN_MARGIN_SECONDS = 300  # refresh that long before WeChat's expiry: a token never expires in flight
STALE_TOKEN_CODES = {40001, 40014, 42001}  # invalid or expired access token: fetch a new one and retry once
LANGS = {"zh-CN": "zh_CN", "en": "en_US"}
PAGE = "pages/notifications/index"  # where tapping the message opens the mini program

# Field mapping of the subscribe-message template every kind uses (keyword name -> what fills it); a kind
# whose template has other keywords gets its own entry in TEMPLATE_FIELDS.
DEFAULT_FIELDS = {"thing1": "title", "thing2": "body", "time3": "at"}
TEMPLATE_FIELDS: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class WechatResult:
    ok: bool
    errcode: int
    errmsg: str


# ---------------------------------------------------------------- the binding
def openid_of(user_id: str) -> str | None:
    found = dynamo.get("users", keys.wechat_binding(user_id), projection="openid")
    return str(found["openid"]) if found else None


def bind(user_id: str, openid: str, at: str) -> None:
    """Bind (or re-bind) the user's WeChat account."""
    pk, sk = keys.wechat_binding(user_id)
    dynamo.put("users", {"pk": pk, "sk": sk, "openid": openid, "bound_at": at})


def unbind(user_id: str) -> None:
    dynamo.delete("users", keys.wechat_binding(user_id))


# ---------------------------------------------------------------- the provider adapter
@dataclass
class _Token:
    value: str
    expires_at: float  # time.monotonic()


_tokens: dict[tuple[str, str], _Token] = {}  # (api base, appid) -> token: one per app per warm process
_tokens_lock = threading.Lock()


def clear_token_cache() -> None:
    with _tokens_lock:
        _tokens.clear()


def send(openid: str, kind: str, title: str, body: str, at_iso: str, locale: str) -> WechatResult:
    """One subscribe message of ``kind`` to ``openid``. WeChat's refusals come back as the result (43101: the
    user refused or unsubscribed the template; 40003: bad openid; 47003: bad data); a kind with no template
    configured is not sent (errcode -1). An unreachable API raises ``ServiceUnavailable`` (retry later)."""
    config = settings.wechat()
    template_id = config.template_for(kind)
    if not template_id:
        return WechatResult(False, -1, f"no subscribe-message template for {kind}")
    values = {"title": title, "body": body, "at": _wechat_time(at_iso)}
    message = {
        "touser": openid,
        "template_id": template_id,
        "page": PAGE,
        "data": {
            keyword: {"value": _fit(keyword, values[source])}
            for keyword, source in TEMPLATE_FIELDS.get(kind, DEFAULT_FIELDS).items()
        },
        "miniprogram_state": "formal",
        "lang": LANGS.get(locale, "zh_CN"),
    }
    answer = _post_message(config.api_base, message, _access_token(config.api_base))
    if answer.get("errcode") in STALE_TOKEN_CODES:
        answer = _post_message(config.api_base, message, _access_token(config.api_base, refresh=True))
    errcode = int(answer.get("errcode", 0))
    return WechatResult(errcode == 0, errcode, str(answer.get("errmsg", "ok")))


def _fit(keyword: str, value: str) -> str:
    """A `thing` keyword holds 20 characters: longer text is cut with an ellipsis."""
    if keyword.startswith("thing") and len(value) > THING_MAX:
        return value[: THING_MAX - 1] + "…"
    return value


def _wechat_time(at_iso: str) -> str:
    """A `time` keyword's format, in the offset ``at_iso`` carries (the recipient's time zone)."""
    return datetime.fromisoformat(at_iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")


def _access_token(api_base: str, refresh: bool = False) -> str:
    credentials = provider_config.wechat()
    cache_key = (api_base, credentials.app_id)
    with _tokens_lock:
        cached = _tokens.get(cache_key)
        if cached and not refresh and time.monotonic() < cached.expires_at:
            return cached.value
        query = urllib.parse.urlencode(
            {"grant_type": "client_credential", "appid": credentials.app_id, "secret": credentials.app_secret}
        )
        answer = _request(f"{api_base}/cgi-bin/token?{query}", None)
        if "access_token" not in answer:
            raise ServiceUnavailable(f"WeChat access token refused: {answer.get('errcode')}")
        lifetime = max(int(answer.get("expires_in", 7200)) - TOKEN_MARGIN_SECONDS, 0)
        _tokens[cache_key] = _Token(str(answer["access_token"]), time.monotonic() + lifetime)
        return str(answer["access_token"])


def _post_message(api_base: str, message: dict[str, Any], token: str) -> dict[str, Any]:
    query = urllib.parse.urlencode({"access_token": token})
    return _request(f"{api_base}/cgi-bin/message/subscribe/send?{query}", message)


def _request(url: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
    # the base URL is checked to be http(s) when the settings are read (WechatSettings)
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=settings.wechat().timeout_seconds) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise ServiceUnavailable("WeChat API unreachable") from exc
    return answer
