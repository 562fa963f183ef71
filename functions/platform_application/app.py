"""The provider of ``Custom::SnsPlatformApplication`` (CloudFormation has no native type for an SNS
platform application): creates, updates and deletes one, reading its credentials from SSM parameters so
that no secret is in the template. Answers CloudFormation at the request's pre-signed ``ResponseURL``.

Properties: ``Name``, ``Platform`` (APNS, APNS_SANDBOX or GCM), ``CredentialParameter`` (SSM name of the
PlatformCredential: the APNs signing key or the FCM server key), optional ``PrincipalParameter`` (of the
PlatformPrincipal: the APNs key id) and ``Attributes`` (plain ones, e.g. ApplePlatformTeamID). The physical
id, what ``!Ref`` gives, is the application's ARN."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou.dal import provider_config, push
from tuishou.observability import logger


def platform_attributes(properties: dict[str, Any]) -> dict[str, str]:
    names = [properties["CredentialParameter"], *filter(None, [properties.get("PrincipalParameter")])]
    values = provider_config.secret_values(*names)
    attributes = {str(k): str(v) for k, v in (properties.get("Attributes") or {}).items()}
    attributes["PlatformCredential"] = values[0]
    if len(values) > 1:
        attributes["PlatformPrincipal"] = values[1]
    return attributes


def apply(event: dict[str, Any]) -> str:
    """Do what the request asks; the application's ARN."""
    properties, request = event["ResourceProperties"], event["RequestType"]
    if request == "Create":
        return push.create_platform_application(
            properties["Name"], properties["Platform"], platform_attributes(properties)
        )
    arn = str(event["PhysicalResourceId"])
    if request == "Update":
        old = event.get("OldResourceProperties") or {}
        if (old.get("Name"), old.get("Platform")) != (properties["Name"], properties["Platform"]):
            # a new name or platform is a new application; CloudFormation deletes the old one afterwards
            return push.create_platform_application(
                properties["Name"], properties["Platform"], platform_attributes(properties)
            )
        push.update_platform_application(arn, platform_attributes(properties))
    elif request == "Delete" and arn.startswith("arn:"):
        push.delete_platform_application(arn)
    return arn


def respond(event: dict[str, Any], status: str, physical_id: str, reason: str = "") -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or "see the function's log",
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {"Arn": physical_id},
        }
    ).encode()
    url = str(event["ResponseURL"])
    if not url.startswith("https://"):
        raise ValueError("CloudFormation's ResponseURL is a pre-signed https URL")
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - https, checked above
        pass


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    fallback = str(event.get("PhysicalResourceId") or f"failed-{event.get('LogicalResourceId', 'resource')}")
    try:
        physical_id = apply(event)
    except Exception as exc:  # CloudFormation waits an hour for an answer that never comes: always answer
        logger.exception("platform application request failed")
        respond(event, "FAILED", fallback, f"{type(exc).__name__}: {exc}")
        return
    respond(event, "SUCCESS", physical_id)
