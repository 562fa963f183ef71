"""Where notifications reach a person outside the app: push devices and the bound WeChat account."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PushPlatform = Literal["apns", "fcm"]
# A device id is the start of a SHA-256 of its platform and token (tuishou.dal.devices.device_id_for): any
# other path value names no device and is refused before a request reaches DynamoDB.
DEVICE_ID_PATTERN = r"^[0-9a-f]{24}$"


class DeviceRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: PushPlatform = Field(description="apns (iOS) or fcm (Android).")
    token: str = Field(min_length=8, max_length=4096, pattern=r"^[A-Za-z0-9_:\-.]+$", description="The push token.")


class DeviceRegistered(BaseModel):
    device_id: str


class Device(BaseModel):
    device_id: str
    platform: PushPlatform
    created_at: str


class DeviceList(BaseModel):
    items: list[Device]


class WechatBindingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    openid: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="The caller's openid in the mini program, which the app obtains through WeChat login.",
    )


class WechatBinding(BaseModel):
    openid: str
    bound_at: str
