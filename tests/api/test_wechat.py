"""The WeChat subscribe-message adapter against the local WeChat API emulator (tools/wechat_emulator.py),
which ``make local`` and the test stack start: the access token is fetched once and cached, a stale one is
replaced, each kind maps to its template and fields within WeChat's limits, refusals come back as results."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from tuishou.dal import wechat


@pytest.fixture
def emulator(stack):
    wechat.clear_token_cache()
    yield stack.wechat
    wechat.clear_token_cache()


def test_a_message_reaches_the_emulator_with_the_kinds_template_and_fields(emulator):
    # When a compensation notice is sent in Chinese
    result = wechat.send(
        "oUser_1",
        "compensation",
        "补偿到账",
        "因系统故障，您获得了 ¥12.34 的补偿，已计入余额。",
        "2030-03-01T16:05:00+08:00",
        "zh-CN",
    )
    # Then WeChat accepted it as the kind's template with title, text cut to 20 characters and the time
    assert result == wechat.WechatResult(True, 0, "ok")
    (message,) = emulator.messages
    assert message["touser"] == "oUser_1"
    assert message["template_id"] == "tuishou-notice"
    assert message["lang"] == "zh_CN"
    assert message["data"]["thing1"] == {"value": "补偿到账"}
    assert len(message["data"]["thing2"]["value"]) == 20
    assert message["data"]["thing2"]["value"].endswith("…")
    assert message["data"]["time3"] == {"value": "2030-03-01 16:05"}


def test_the_access_token_is_fetched_once_and_replaced_when_stale(emulator):
    # Given two messages sent in a row
    for openid in ("oA", "oB"):
        assert wechat.send(openid, "coupon_issued", "Coupon", "A shopper got a coupon", "2030-03-01T08:00:00Z", "en").ok
    # Then one token served both
    assert emulator.tokens_issued == 1
    # When WeChat expires it before the cache does
    emulator.expire_tokens()
    # Then the next message fetches a new token and goes out once
    assert wechat.send("oC", "coupon_issued", "Coupon", "Another", "2030-03-01T08:00:00Z", "en").ok
    assert emulator.tokens_issued == 2
    assert [m["touser"] for m in emulator.messages] == ["oA", "oB", "oC"]
    assert emulator.messages[-1]["lang"] == "en_US"


def test_a_user_who_refused_the_template_is_reported_not_raised(emulator):
    # Given the user refused the subscription
    emulator.refuse("oRefuses")
    # Then the send reports 43101 (the pipeline stops sending that user WeChat messages)
    result = wechat.send("oRefuses", "low_performance", "Low", "Low sales", "2030-03-01T08:00:00Z", "en")
    assert (result.ok, result.errcode) == (False, 43101)
    assert emulator.messages == []


def test_a_kind_without_a_template_is_not_sent(emulator, monkeypatch):
    # Given only one kind has a template configured
    monkeypatch.setenv("TUISHOU_WECHAT_TEMPLATES", json.dumps({"compensation": "tpl-comp"}))
    # Then another kind is not sent, and the configured one uses its template
    assert wechat.send("oX", "coupon_issued", "t", "b", "2030-03-01T08:00:00Z", "zh-CN").errcode == -1
    assert wechat.send("oX", "compensation", "t", "b", "2030-03-01T08:00:00Z", "zh-CN").ok
    assert [m["template_id"] for m in emulator.messages] == ["tpl-comp"]


def test_the_emulator_checks_credentials_tokens_and_shape(emulator):
    base = os.environ["TUISHOU_WECHAT_API_BASE"]
    assert base == emulator.url

    def call(path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        with urllib.request.urlopen(urllib.request.Request(f"{base}{path}", data=data)) as response:
            return json.loads(response.read())

    # Then a wrong secret gets no token, and a message with a bad token or an over-long thing is refused
    assert call("/cgi-bin/token?grant_type=client_credential&appid=wx&secret=wrong")["errcode"] == 40125
    message = {"touser": "oA", "template_id": "t", "data": {"thing1": {"value": "x" * 21}}}
    assert call("/cgi-bin/message/subscribe/send?access_token=forged", message)["errcode"] == 40001
    token = emulator.issue_token(
        {"grant_type": "client_credential", "appid": emulator.app_id, "secret": emulator.app_secret}
    )["access_token"]
    assert call(f"/cgi-bin/message/subscribe/send?access_token={token}", message)["errcode"] == 47003
    assert call("/_emulator/messages") == {"items": []}
