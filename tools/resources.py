"""Creates the template's AWS resources in the emulated account (moto): tables with their indexes,
streams and TTL, topics, queues, the Cognito user pool and client, and the provider configuration in
SSM. Returns the physical names and attributes that ``!Ref`` / ``!GetAtt`` resolve to."""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tools import template

LOCAL_ALIPAY_APP_ID = "2021000000000001"
LOCAL_WECHAT_APP_ID = "wx00000000000local"


@dataclass
class ProviderSecrets:
    stripe_webhook_secret: str
    alipay_app_id: str
    alipay_private_key_pem: str
    alipay_public_key_pem: str
    visitor_key: str = field(default_factory=lambda: secrets.token_hex(32))  # keys the click visitor hash
    wechat_app_id: str = LOCAL_WECHAT_APP_ID
    wechat_app_secret: str = field(default_factory=lambda: secrets.token_hex(16))  # the emulator checks it
    apns_signing_key: str = field(default_factory=lambda: secrets.token_hex(16))  # moto accepts any credential
    apns_key_id: str = "LOCALKEY01"
    fcm_server_key: str = field(default_factory=lambda: secrets.token_hex(16))
    # The app's own key pair for Alipay open-API requests: the stack signs with the private half, the
    # Alipay emulator verifies with the public one (and answers signed with alipay_private_key_pem).
    alipay_app_private_key_pem: str = ""
    alipay_app_public_key_pem: str = ""
    stripe_secret_key: str = field(default_factory=lambda: f"sk_test_{secrets.token_hex(24)}")  # the emulator checks it


def create_all(prefix: str = "tuishou-local") -> dict[str, Any]:
    """Create every supported resource; returns ``{LogicalId: physical, "LogicalId.Attr": value}``."""
    physical: dict[str, Any] = {}
    dynamodb, sns, sqs = boto3.client("dynamodb"), boto3.client("sns"), boto3.client("sqs")
    for logical_id, resource in template.resources("AWS::DynamoDB::Table").items():
        name = f"{prefix}-{logical_id}"
        _create_table(dynamodb, name, resource["Properties"])
        physical[logical_id] = name
        physical[f"{logical_id}.Arn"] = f"arn:aws:dynamodb:local:000000000000:table/{name}"
    for logical_id in template.resources("AWS::SNS::Topic"):
        arn = sns.create_topic(Name=f"{prefix}-{logical_id}")["TopicArn"]
        physical[logical_id] = physical[f"{logical_id}.TopicArn"] = arn
    for logical_id in template.resources("AWS::SQS::Queue"):
        url = sqs.create_queue(QueueName=f"{prefix}-{logical_id}")["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        physical[logical_id] = url
        physical[f"{logical_id}.Arn"] = attrs["QueueArn"]
        physical[f"{logical_id}.QueueName"] = f"{prefix}-{logical_id}"
    for logical_id, resource in template.resources("AWS::SQS::Queue").items():
        redrive = resource.get("Properties", {}).get("RedrivePolicy")
        if redrive:  # as SQS does: after maxReceiveCount receives, the next receive dead-letters the message
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
            target_id = target[0] if isinstance(target, list) else target.split(".")[0]
            policy = {
                "deadLetterTargetArn": physical[f"{target_id}.Arn"],
                "maxReceiveCount": str(redrive["maxReceiveCount"]),
            }
            sqs.set_queue_attributes(QueueUrl=physical[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)})
    physical.update(_create_user_pools(prefix))
    physical.update(_create_platform_applications(prefix))
    return physical


def _create_platform_applications(prefix: str) -> dict[str, Any]:
    """What the template's ``Custom::SnsPlatformApplication`` provider creates (functions/platform_application),
    made directly: moto accepts any credential, so none is read from SSM here."""
    sns = boto3.client("sns")
    physical: dict[str, Any] = {}
    for logical_id, resource in template.resources("Custom::SnsPlatformApplication").items():
        created = sns.create_platform_application(
            Name=f"{prefix}-{logical_id}",
            Platform=resource["Properties"]["Platform"],
            Attributes={"PlatformCredential": "local", "PlatformPrincipal": "local"},
        )
        physical[logical_id] = physical[f"{logical_id}.Arn"] = created["PlatformApplicationArn"]
    return physical


def _create_table(dynamodb: Any, name: str, props: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "TableName": name,
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        "AttributeDefinitions": [dict(d) for d in props["AttributeDefinitions"]],
        "KeySchema": [dict(k) for k in props["KeySchema"]],
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = [
            {
                "IndexName": g["IndexName"],
                "KeySchema": [dict(k) for k in g["KeySchema"]],
                "Projection": dict(g["Projection"]),
            }
            for g in props["GlobalSecondaryIndexes"]
        ]
    if "StreamSpecification" in props:
        args["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": props["StreamSpecification"]["StreamViewType"],
        }
    dynamodb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl["Enabled"])},
        )
    if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def _create_user_pools(prefix: str) -> dict[str, Any]:
    cognito = boto3.client("cognito-idp")
    physical: dict[str, Any] = {}
    pool_ids: dict[str, str] = {}
    for logical_id, resource in template.resources("AWS::Cognito::UserPool").items():
        props = resource["Properties"]
        schema = [
            {
                "Name": a["Name"],
                "AttributeDataType": a["AttributeDataType"],
                "Mutable": bool(a.get("Mutable", True)),
                "Required": bool(a.get("Required", False)),
            }
            for a in props.get("Schema", [])
        ]
        pool = cognito.create_user_pool(
            PoolName=f"{prefix}-{logical_id}",
            Schema=schema,
            UsernameAttributes=list(props.get("UsernameAttributes", [])),
            AutoVerifiedAttributes=list(props.get("AutoVerifiedAttributes", [])),
        )["UserPool"]
        pool_ids[logical_id] = physical[logical_id] = pool["Id"]
        physical[f"{logical_id}.Arn"] = pool["Arn"]
    for logical_id, resource in template.resources("AWS::Cognito::UserPoolClient").items():
        props = resource["Properties"]
        pool_id = pool_ids[props["UserPoolId"]["Ref"]]
        flows = sorted({*props.get("ExplicitAuthFlows", []), "ALLOW_ADMIN_USER_PASSWORD_AUTH"})
        client = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=props["ClientName"],
            GenerateSecret=False,
            ExplicitAuthFlows=flows,
            ReadAttributes=list(props.get("ReadAttributes", [])),
            WriteAttributes=list(props.get("WriteAttributes", [])),
        )["UserPoolClient"]
        physical[logical_id] = client["ClientId"]
    return physical


# ---------------------------------------------------------------- back to a fresh account, resources kept
# Between tests, through moto's backends in this process (ThreadedMotoServer): a few dictionary operations
# instead of ~25 requests (deleting and creating tables, purging queues, deleting users and parameters).
MOTO_ACCOUNT_ID = "123456789012"  # the account moto gives the "testing" credentials


def clear_tables(physical: dict[str, Any], region: str = "us-east-1") -> None:
    """Every template table empty: no items, no stream records (schema, indexes, TTL and PITR kept)."""
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[MOTO_ACCOUNT_ID][region].tables
    for logical_id in template.resources("AWS::DynamoDB::Table"):
        table = tables[physical[logical_id]]
        table.items = defaultdict(dict)
        if table.stream_shard is not None:
            table.stream_shard.items = []


def clear_state(physical: dict[str, Any], prefix: str, provider: ProviderSecrets, region: str = "us-east-1") -> None:
    """As ``create_all`` and ``store_provider_secrets`` left the account: tables empty, the stack's queues
    (dead-letter and tap queues too) purged, no users in the pool, no push endpoints (only the template's
    platform applications), and only the provider configuration in SSM, with its provisioned values."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import ssm_backends

    clear_tables(physical, region)
    queues = sqs_backends[MOTO_ACCOUNT_ID][region]
    for name in [n for n in queues.queues if n.startswith(prefix)]:
        queues.purge_queue(name)  # one purge a minute unless MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR=false
    pool = cognitoidp_backends[MOTO_ACCOUNT_ID][region].user_pools[physical["UserPool"]]
    for issued in (pool.users, pool.groups, pool.refresh_tokens, pool.access_tokens, pool.id_tokens):
        issued.clear()
    sns = sns_backends[MOTO_ACCOUNT_ID][region]
    sns.platform_endpoints.clear()
    applications = {physical[i] for i in template.resources("Custom::SnsPlatformApplication")}
    for arn in [a for a in sns.applications if a not in applications]:
        del sns.applications[arn]
    ssm = ssm_backends[MOTO_ACCOUNT_ID][region]
    wanted = _provider_parameters(provider)
    for name in [n for n in ssm._parameters if n not in wanted and not n.startswith("/aws/")]:
        ssm.delete_parameter(name)
    if any(name not in ssm._parameters or _plain(ssm._parameters[name][-1]) != value for name, value in wanted.items()):
        store_provider_secrets(provider)


def _plain(parameter: Any) -> str:
    """moto keeps a SecureString as ``kms:<key id>:<value>``."""
    return parameter.value.split(":", 2)[2] if parameter.parameter_type == "SecureString" else parameter.value


def _provider_parameters(provider: ProviderSecrets) -> dict[str, str]:
    names = template.parameter_defaults()
    return {
        names["StripeWebhookSecretParameter"]: provider.stripe_webhook_secret,
        names["AlipayAppIdParameter"]: provider.alipay_app_id,
        names["AlipayPublicKeyParameter"]: provider.alipay_public_key_pem,
        names["VisitorKeyParameter"]: provider.visitor_key,
        names["WechatAppIdParameter"]: provider.wechat_app_id,
        names["WechatAppSecretParameter"]: provider.wechat_app_secret,
        names["ApnsSigningKeyParameter"]: provider.apns_signing_key,
        names["ApnsKeyIdParameter"]: provider.apns_key_id,
        names["FcmServerKeyParameter"]: provider.fcm_server_key,
        names["AlipayAppPrivateKeyParameter"]: provider.alipay_app_private_key_pem,
        names["StripeSecretKeyParameter"]: provider.stripe_secret_key,
    }


def generate_provider_secrets() -> ProviderSecrets:
    """Local test credentials a payment provider would hold: a Stripe endpoint secret, an RSA key pair
    standing in for Alipay's signing key (the stack trusts its public half), and the app's own key pair
    for Alipay requests (the stack signs with its private half, the emulator checks the public one)."""
    private_pem, public_pem = _rsa_key_pair()
    app_private_pem, app_public_pem = _rsa_key_pair()
    return ProviderSecrets(
        f"whsec_{secrets.token_hex(24)}",
        LOCAL_ALIPAY_APP_ID,
        private_pem,
        public_pem,
        alipay_app_private_key_pem=app_private_pem,
        alipay_app_public_key_pem=app_public_pem,
    )


def _rsa_key_pair() -> tuple[str, str]:
    """(private PKCS#8 PEM, public SubjectPublicKeyInfo PEM) of a fresh 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def store_provider_secrets(provider: ProviderSecrets) -> None:
    """Put the provider configuration where the template says functions read it (SSM)."""
    ssm = boto3.client("ssm")
    names = template.parameter_defaults()
    ssm.put_parameter(
        Name=names["StripeWebhookSecretParameter"],
        Value=provider.stripe_webhook_secret,
        Type="SecureString",
        Overwrite=True,
    )
    ssm.put_parameter(Name=names["AlipayAppIdParameter"], Value=provider.alipay_app_id, Type="String", Overwrite=True)
    ssm.put_parameter(
        Name=names["AlipayPublicKeyParameter"], Value=provider.alipay_public_key_pem, Type="String", Overwrite=True
    )
    ssm.put_parameter(
        Name=names["VisitorKeyParameter"], Value=provider.visitor_key, Type="SecureString", Overwrite=True
    )
    plain = {"WechatAppIdParameter": provider.wechat_app_id, "ApnsKeyIdParameter": provider.apns_key_id}
    secret = {
        "WechatAppSecretParameter": provider.wechat_app_secret,
        "ApnsSigningKeyParameter": provider.apns_signing_key,
        "FcmServerKeyParameter": provider.fcm_server_key,
        "AlipayAppPrivateKeyParameter": provider.alipay_app_private_key_pem,
        "StripeSecretKeyParameter": provider.stripe_secret_key,
    }
    for parameter, value in plain.items():
        ssm.put_parameter(Name=names[parameter], Value=value, Type="String", Overwrite=True)
    for parameter, value in secret.items():
        ssm.put_parameter(Name=names[parameter], Value=value, Type="SecureString", Overwrite=True)
