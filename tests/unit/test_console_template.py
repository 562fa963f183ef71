"""The web console's deployment in template.yaml: a private, encrypted, versioned bucket that only the
console's CloudFront distribution reads (Origin Access Control), the API on the same distribution, and a
hosted-UI client of the same user pool whose callback is the distribution's console URL."""

from __future__ import annotations

import json

from tools import template


def resource(logical_id: str) -> dict:
    return template.resources()[logical_id]


def test_the_bucket_is_private_encrypted_and_versioned():
    props = resource("ConsoleBucket")["Properties"]
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    # And only the console's distribution may read it, and only under console/
    [reader] = [
        s
        for s in resource("ConsoleBucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"} and reader["Action"] == "s3:GetObject"
    assert "${ConsoleDistribution}" in json.dumps(reader["Condition"])
    assert reader["Resource"] == {"Fn::Sub": "${ConsoleBucket.Arn}/console/*"}


def test_the_distribution_serves_the_console_through_origin_access_control_and_the_api_uncached():
    config = resource("ConsoleDistribution")["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "console/index.html"
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    assert origins["console"]["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    # Every route prefix the console calls goes to the API, never cached
    console_prefixes = {"/merchant/*", "/admin/*", "/me", "/me/*"}
    api = {b["PathPattern"]: b for b in config["CacheBehaviors"] if b["TargetOriginId"] == "api"}
    assert set(api) == console_prefixes
    assert {b["CachePolicyId"] for b in api.values()} == {"4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}


def test_the_console_signs_in_through_the_hosted_ui_with_the_code_flow_and_no_secret():
    client = resource("ConsoleUserPoolClient")["Properties"]
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert "custom:role" not in client["WriteAttributes"] and "custom:role" in client["ReadAttributes"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${ConsoleDistribution.DomainName}/console/"}]
    assert resource("ConsoleUserPoolDomain")["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    outputs = template.load()["Outputs"]
    assert {"ConsoleUrl", "ConsoleBucket", "ConsoleUserPoolClientId", "ConsoleAuthDomain"} <= set(outputs)
