"""Reaching a user outside the inbox in tests, through the real adapters: devices registered on the
stack's SNS platform applications (``tuishou.dal.devices``), a WeChat binding (``tuishou.dal.wechat``), and
what arrived: the messages moto's SNS accepted per platform endpoint, the subscribe messages the WeChat
emulator accepted."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tools.local_stack import LocalStack
from tools.resources import MOTO_ACCOUNT_ID
from tuishou import clock, settings
from tuishou.dal import devices, wechat
from tuishou.dal.devices import DeviceRecord

REGION = "us-east-1"


def add_device(user_id: str, name: str) -> DeviceRecord:
    """An Android device of the user named ``name`` (its token derives from the user and the name)."""
    token = f"fcm-token-{user_id}-{name}"
    record, _new = devices.register_device(user_id, "fcm", token, clock.iso())
    return record


def disable(device: DeviceRecord) -> None:
    """SNS disabled the device's endpoint (the platform said its token is dead)."""
    boto3.client("sns").set_endpoint_attributes(EndpointArn=device.endpoint_arn, Attributes={"Enabled": "false"})


def bind_wechat(user_id: str, openid: str) -> None:
    wechat.bind(user_id, openid, clock.iso())


def push_ready(user_id: str) -> DeviceRecord:
    """A user push reaches at any hour: one registered device, no quiet hours (inapp + push, the default)."""
    from tuishou.logic import notifications
    from tuishou.models.notifications import QuietHours

    device = add_device(user_id, "phone")
    notifications.set_preferences(user_id, ["inapp", "push"], quiet_hours=QuietHours(start="00:00", end="00:00"))
    return device


def pushes() -> dict[str, list[dict[str, Any]]]:
    """Every push SNS accepted, by endpoint ARN: each the GCM payload (``notification`` title and body,
    ``data``). Reads moto's backend, which runs in this process."""
    from moto.sns.models import sns_backends

    endpoints = sns_backends[MOTO_ACCOUNT_ID][REGION].platform_endpoints
    return {
        arn: [json.loads(json.loads(message)["GCM"]) for message in endpoint.messages.values()]
        for arn, endpoint in endpoints.items()
        if endpoint.messages
    }


def endpoints() -> list[dict[str, Any]]:
    """The endpoints on the stack's FCM application (where ``add_device`` registers)."""
    sns = boto3.client("sns")
    application = settings.push().application_arn("fcm")
    return list(sns.list_endpoints_by_platform_application(PlatformApplicationArn=application)["Endpoints"])


def push_count() -> int:
    return sum(len(sent) for sent in pushes().values())


def wechat_messages(stack: LocalStack) -> list[dict[str, Any]]:
    """Every subscribe message the WeChat emulator accepted, oldest first."""
    assert stack.wechat is not None, "provision() first"
    return list(stack.wechat.messages)
