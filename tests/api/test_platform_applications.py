"""The provider of ``Custom::SnsPlatformApplication`` (functions/platform_application): it reads the
credentials from the SSM parameters the template names and creates, updates and deletes the application,
answering CloudFormation at the pre-signed URL whatever happens."""

from __future__ import annotations

import importlib.util

import boto3
import pytest

from tests.helpers.events import context
from tools import template

ROOT = template.ROOT


@pytest.fixture
def provider(stack, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "platform_application_app", ROOT / "functions/platform_application/app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answers = []
    monkeypatch.setattr(
        module, "respond", lambda event, status, physical, reason="": answers.append((status, physical))
    )
    return module, answers


def request(kind, properties, physical=None, old=None):
    event = {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/presigned",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/tuishou/1",
        "RequestId": "req-1",
        "LogicalResourceId": "ApnsPlatformApplication",
        "ResourceType": "Custom::SnsPlatformApplication",
        "ResourceProperties": properties,
    }
    if physical:
        event["PhysicalResourceId"] = physical
    if old:
        event["OldResourceProperties"] = old
    return event


def apns_properties():
    names = template.parameter_defaults()
    return {
        "Name": "tuishou-test-apns",
        "Platform": "APNS",
        "CredentialParameter": names["ApnsSigningKeyParameter"],
        "PrincipalParameter": names["ApnsKeyIdParameter"],
        "Attributes": {"ApplePlatformTeamID": "TEAM123456", "ApplePlatformBundleID": "com.tuishou.app"},
    }


def test_create_update_delete_with_credentials_from_ssm(provider, stack):
    module, answers = provider
    sns = boto3.client("sns")
    # When CloudFormation creates the application
    module.lambda_handler(request("Create", apns_properties()), context())
    status, arn = answers[-1]
    # Then it exists with the signing key from SSM, and its ARN is the physical id
    assert status == "SUCCESS" and arn.startswith("arn:aws:sns:")
    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attributes["PlatformCredential"] == stack.provider.apns_signing_key
    assert attributes["ApplePlatformTeamID"] == "TEAM123456"
    # When the signing key is rotated in SSM and the stack updated
    boto3.client("ssm").put_parameter(
        Name=template.parameter_defaults()["ApnsSigningKeyParameter"],
        Value="rotated",
        Type="SecureString",
        Overwrite=True,
    )
    module.lambda_handler(request("Update", apns_properties(), arn, old=apns_properties()), context())
    assert answers[-1] == ("SUCCESS", arn)
    assert (
        sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]["PlatformCredential"]
        == "rotated"
    )
    # When the stack deletes it
    module.lambda_handler(request("Delete", apns_properties(), arn), context())
    assert answers[-1] == ("SUCCESS", arn)
    listed = [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]]
    assert arn not in listed


def test_a_missing_credential_parameter_fails_the_resource_and_still_answers(provider):
    module, answers = provider
    # Given a credential parameter that does not exist
    properties = {**apns_properties(), "CredentialParameter": "/tuishou/push/absent"}
    # Then CloudFormation hears FAILED (rather than waiting an hour)
    module.lambda_handler(request("Create", properties), context())
    assert answers[-1][0] == "FAILED"
