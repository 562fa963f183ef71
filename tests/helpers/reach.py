"""Stand-ins for the device, push and WeChat adapters (``tuishou.dal.devices``, ``.push``, ``.wechat``) where
this tree does not have them yet: same names and shapes as their interface, recording what was sent. Where
the real adapters exist, ``install`` leaves them alone and ``reach_everywhere`` uses the real routes."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeviceRecord:
    device_id: str
    platform: str
    endpoint_arn: str
    created_at: str


@dataclass(frozen=True)
class WechatResult:
    ok: bool
    errcode: int
    errmsg: str


@dataclass
class Reach:
    devices: dict[str, list[DeviceRecord]] = field(default_factory=dict)
    openids: dict[str, str] = field(default_factory=dict)
    pushed: list[dict[str, Any]] = field(default_factory=list)
    wechat_sent: list[dict[str, Any]] = field(default_factory=list)
    disabled: set[str] = field(default_factory=set)  # endpoint ARNs SNS disabled

    def clear(self) -> None:
        for part in (self.devices, self.openids):
            part.clear()
        self.pushed.clear()
        self.wechat_sent.clear()
        self.disabled.clear()


REACH = Reach()
INSTALLED: set[str] = set()


def _devices_module() -> types.ModuleType:
    module = types.ModuleType("tuishou.dal.devices")
    module.DeviceRecord = DeviceRecord  # type: ignore[attr-defined]
    module.devices_of = lambda user_id: list(REACH.devices.get(user_id, []))  # type: ignore[attr-defined]

    def forget_device(user_id: str, device_id: str) -> None:
        REACH.devices[user_id] = [d for d in REACH.devices.get(user_id, []) if d.device_id != device_id]

    module.forget_device = forget_device  # type: ignore[attr-defined]
    return module


def _push_module() -> types.ModuleType:
    module = types.ModuleType("tuishou.dal.push")

    def push(device: DeviceRecord, title: str, body: str, data: Mapping[str, str]) -> bool:
        if device.endpoint_arn in REACH.disabled:
            return False
        REACH.pushed.append({"device_id": device.device_id, "title": title, "body": body, "data": dict(data)})
        return True

    module.push = push  # type: ignore[attr-defined]
    return module


def _wechat_module() -> types.ModuleType:
    module = types.ModuleType("tuishou.dal.wechat")
    module.WechatResult = WechatResult  # type: ignore[attr-defined]
    module.openid_of = REACH.openids.get  # type: ignore[attr-defined]

    def send(openid: str, kind: str, title: str, body: str, at_iso: str, locale: str) -> WechatResult:
        REACH.wechat_sent.append({"openid": openid, "kind": kind, "title": title, "body": body, "locale": locale})
        return WechatResult(True, 0, "ok")

    module.send = send  # type: ignore[attr-defined]
    return module


def install() -> None:
    """Put the stand-ins in ``sys.modules`` for each adapter this tree lacks (once per process)."""
    for name, build in (
        ("tuishou.dal.devices", _devices_module),
        ("tuishou.dal.push", _push_module),
        ("tuishou.dal.wechat", _wechat_module),
    ):
        if name in INSTALLED or importlib.util.find_spec(name) is None:
            sys.modules[name] = build()
            INSTALLED.add(name)


def add_device(user_id: str, device_id: str, endpoint_arn: str | None = None) -> None:
    arn = endpoint_arn or f"arn:aws:sns:us-east-1:000000000000:endpoint/GCM/tuishou/{device_id}"
    REACH.devices.setdefault(user_id, []).append(DeviceRecord(device_id, "fcm", arn, "2030-01-01T00:00:00.000Z"))


def bind_wechat(user_id: str, openid: str) -> None:
    REACH.openids[user_id] = openid


def push_ready(user_id: str) -> None:
    """A user push reaches at any hour: one registered device, no quiet hours (inapp + push, the default)."""
    from tuishou.logic import notifications
    from tuishou.models.notifications import QuietHours

    add_device(user_id, "dev_1")
    notifications.set_preferences(user_id, ["inapp", "push"], quiet_hours=QuietHours(start="00:00", end="00:00"))
