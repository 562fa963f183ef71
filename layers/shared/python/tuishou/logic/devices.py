"""Where a user can be reached beyond the inbox: push devices (an SNS platform endpoint each) and the
bound WeChat account. Delivery itself is the notification pipeline's (tuishou/logic/notifications.py)."""

from __future__ import annotations

from tuishou import clock
from tuishou.dal import devices as device_store
from tuishou.dal import wechat
from tuishou.models.devices import Device, DeviceList, WechatBinding


def register(user_id: str, platform: str, token: str) -> tuple[str, bool]:
    """(device id, whether it is new): the same token registered again is the same device."""
    record, is_new = device_store.register_device(user_id, platform, token, clock.iso())
    return record.device_id, is_new


def devices(user_id: str) -> DeviceList:
    return DeviceList(
        items=[
            Device(device_id=d.device_id, platform=d.platform, created_at=d.created_at)  # type: ignore[arg-type]
            for d in device_store.devices_of(user_id)
        ]
    )


def forget(user_id: str, device_id: str) -> None:
    device_store.forget_device(user_id, device_id)


def bind_wechat(user_id: str, openid: str) -> WechatBinding:
    at = clock.iso()
    wechat.bind(user_id, openid, at)
    return WechatBinding(openid=openid, bound_at=at)


def unbind_wechat(user_id: str) -> None:
    wechat.unbind(user_id)
