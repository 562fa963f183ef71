"""Push through SNS mobile push: one platform endpoint per device token on the platform's application
(declared in template.yaml), and one publish per notification to a device's endpoint."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tuishou import settings
from tuishou.dal import clients

if TYPE_CHECKING:
    from tuishou.dal.devices import DeviceRecord


def endpoint_for(platform: str, token: str) -> str:
    """The endpoint of ``token`` on the platform's application: SNS returns the same endpoint for a token it
    knows, so registering twice is one endpoint. A token registered again is a live token, so an endpoint
    SNS had disabled is enabled again (SNS either returns it as it is, or refuses the create naming it)."""
    try:
        created = clients.call(
            clients.sns(),
            "create_platform_endpoint",
            PlatformApplicationArn=settings.push().application_arn(platform),
            Token=token,
        )
    except clients.EndpointExists as exists:
        _enable(exists.arn)
        return exists.arn
    arn = str(created["EndpointArn"])
    attributes = clients.call(clients.sns(), "get_endpoint_attributes", EndpointArn=arn)["Attributes"]
    if str(attributes.get("Enabled", "true")).lower() != "true":
        _enable(arn)
    return arn


def _enable(endpoint_arn: str) -> None:
    clients.call(clients.sns(), "set_endpoint_attributes", EndpointArn=endpoint_arn, Attributes={"Enabled": "true"})


def delete_endpoint(endpoint_arn: str) -> None:
    clients.call(clients.sns(), "delete_endpoint", EndpointArn=endpoint_arn)


def push(device: DeviceRecord, title: str, body: str, data: Mapping[str, str]) -> bool:
    """Publish one notification to the device (the payload shaped for its platform). False when SNS has
    disabled the endpoint: the token is dead and the caller forgets the device."""
    payload = {
        "default": body,
        "APNS": json.dumps({"aps": {"alert": {"title": title, "body": body}, "sound": "default"}, **data}),
        "GCM": json.dumps({"notification": {"title": title, "body": body}, "data": dict(data)}),
    }
    try:
        clients.call(
            clients.sns(),
            "publish",
            TargetArn=device.endpoint_arn,
            Message=json.dumps(payload, ensure_ascii=False),
            MessageStructure="json",
        )
    except clients.EndpointDisabled:
        return False
    return True


# ---------------------------------------------------------------- platform applications (the stack's own)
def create_platform_application(name: str, platform: str, attributes: Mapping[str, str]) -> str:
    """A platform application (``platform`` as SNS names it: APNS, APNS_SANDBOX, GCM): its ARN."""
    created = clients.call(
        clients.sns(), "create_platform_application", Name=name, Platform=platform, Attributes=dict(attributes)
    )
    return str(created["PlatformApplicationArn"])


def update_platform_application(arn: str, attributes: Mapping[str, str]) -> None:
    clients.call(
        clients.sns(), "set_platform_application_attributes", PlatformApplicationArn=arn, Attributes=dict(attributes)
    )


def delete_platform_application(arn: str) -> None:
    clients.call(clients.sns(), "delete_platform_application", PlatformApplicationArn=arn)
