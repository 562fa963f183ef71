"""Least privilege, measured: records every AWS API call a function makes (attributed through
``tools.gateway.RUNNING_FUNCTION``) as the IAM action and resource it needs, and evaluates those against the
function's role in the translated template (SAM transform applied).

Resources are compared in one canonical form: region us-east-1, account 123456789012 (moto's), and each
resource named by its logical id (the local stack names them ``tuishou-local-<LogicalId>``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from tools import template
from tools.gateway import RUNNING_FUNCTION
from tools.local_stack import LOCAL_PREFIX

REGION, ACCOUNT = "us-east-1", "123456789012"
# Actions a function must not hold on a table unless it uses them: writes, deletes and whole-table reads.
GUARDED_TABLE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:Scan",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: str


def _logical(name: str) -> str:
    return name.removeprefix(f"{LOCAL_PREFIX}-")


def table_arn(logical_id: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{logical_id}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            yield f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table_arn(_logical(body["TableName"]))
    elif operation in ("BatchGetItem", "BatchWriteItem"):
        for table in params["RequestItems"]:
            yield f"dynamodb:{operation}", table_arn(_logical(table))
    elif "TableName" in params:
        yield f"dynamodb:{operation}", table_arn(_logical(params["TableName"]), params.get("IndexName"))
    elif stream := params.get("StreamArn") or params.get("ShardIterator"):
        # DynamoDB Streams: ``...:table/<name>/stream/<label>`` (moto's shard iterators start with it, then ``|``)
        table, label = stream.split("|", 1)[0].split(":table/", 1)[1].split("/stream/", 1)
        yield f"dynamodb:{operation}", f"{table_arn(_logical(table))}/stream/{label}"
    else:
        yield f"dynamodb:{operation}", "*"


def _sns(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    mobile = params.get("PlatformApplicationArn") or params.get("EndpointArn") or params.get("TargetArn") or ""
    target = params.get("TopicArn") or params.get("TargetArn")
    if ":app/" in mobile or ":endpoint/" in mobile:
        # a platform application ``app/<PLATFORM>/<name>`` or one of its endpoints ``endpoint/<PLATFORM>/<name>/<id>``
        kind, platform, name, *rest = mobile.rsplit(":", 1)[1].split("/")
        yield f"sns:{operation}", f"arn:aws:sns:{REGION}:{ACCOUNT}:" + "/".join([kind, platform, _logical(name), *rest])
    elif target:
        yield f"sns:{operation}", f"arn:aws:sns:{REGION}:{ACCOUNT}:{_logical(target.rsplit(':', 1)[1])}"
    else:  # a direct SMS publish names a phone number, which is no ARN
        yield f"sns:{operation}", f"phone:{params.get('PhoneNumber', '')}"


def _sqs(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    queue = params.get("QueueUrl", "").rstrip("/").rsplit("/", 1)[-1]
    yield f"sqs:{operation}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{_logical(queue)}"


def _ssm(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name in params.get("Names") or [params.get("Name", "")]:
        yield f"ssm:{operation}", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"


_RESOURCES = {"dynamodb": _dynamodb, "sns": _sns, "sqs": _sqs, "ssm": _ssm}


def calls_of(function: str, service: str, operation: str, params: dict[str, Any]) -> list[Call]:
    resources = _RESOURCES.get(service)
    pairs = resources(operation, params) if resources else [(f"{service}:{operation}", "*")]
    return [Call(function, action, resource) for action, resource in pairs]


class CallRecorder:
    """Wraps botocore's one request path; a call made while no function runs (test set-up) is not kept."""

    def __init__(self) -> None:
        self.calls: set[Call] = set()
        self._original: Any = None

    def start(self) -> None:
        from botocore.client import BaseClient

        original = self._original = BaseClient._make_api_call
        recorder = self

        def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
            function = RUNNING_FUNCTION.get()
            if function is not None:
                service = client.meta.service_model.signing_name.removeprefix("streams.")
                recorder.calls.update(calls_of(function, service, operation, params))
            return original(client, operation, params)

        BaseClient._make_api_call = recording

    def write(self, path: str) -> None:
        import json

        rows = sorted((c.function, c.action, c.resource) for c in self.calls)
        with open(path, "w") as out:
            json.dump([dict(zip(("function", "action", "resource"), row, strict=True)) for row in rows], out, indent=1)

    # Runs of one suite in several processes (pytest-xdist workers, then the least-privilege checks).
    def save(self, directory: str, name: str, full_run: bool) -> None:
        import json
        from pathlib import Path

        Path(directory).mkdir(parents=True, exist_ok=True)
        rows = sorted([c.function, c.action, c.resource] for c in self.calls)
        (Path(directory) / f"{name}.json").write_text(json.dumps({"full_run": full_run, "calls": rows}))

    @staticmethod
    def saved_runs(directory: str | None) -> list[dict[str, Any]]:
        import json
        from pathlib import Path

        if not directory or not Path(directory).is_dir():
            return []
        return [json.loads(p.read_text()) for p in sorted(Path(directory).glob("*.json"))]

    def load(self, directory: str | None) -> None:
        for run in self.saved_runs(directory):
            self.calls.update(Call(*row) for row in run["calls"])

    def stop(self) -> None:
        from botocore.client import BaseClient

        if self._original is not None:
            BaseClient._make_api_call = self._original


# ---------------------------------------------------------------- the translated template's policies
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "tuishou",
}


def _canonical_physical(resources: dict[str, Any]) -> dict[str, str]:
    """What ``Ref`` and ``Fn::GetAtt`` of each resource resolve to, in the canonical form of recorded calls."""
    physical: dict[str, str] = {}
    for name, resource in resources.items():
        service = resource["Type"].split("::")[1].lower()
        arn = f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"
        physical.update({name: name, f"{name}.Arn": arn})
        if resource["Type"] == "AWS::DynamoDB::Table":
            physical.update({f"{name}.Arn": table_arn(name), f"{name}.StreamArn": f"{table_arn(name)}/stream/*"})
        elif resource["Type"] == "AWS::SNS::Topic":
            physical.update({name: arn, f"{name}.TopicArn": arn, f"{name}.TopicName": name})
        elif resource["Type"] == "Custom::SnsPlatformApplication":  # the provider's physical id is the ARN
            physical[name] = f"arn:aws:sns:{REGION}:{ACCOUNT}:app/{resource['Properties']['Platform']}/{name}"
        elif resource["Type"] == "AWS::SQS::Queue":
            physical.update({name: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}", f"{name}.QueueName": name})
    return physical


# The AWS-managed policies SAM attaches to roles, as far as the recorded calls need them (the evaluation
# ignores any other managed policy: such a call would be reported as denied).
_MANAGED = {
    "service-role/AWSLambdaDynamoDBExecutionRole": (
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
}


def _managed(arn: str) -> Iterator[Statement]:
    actions = _MANAGED.get(arn.split(":policy/", 1)[-1])
    if actions:
        yield Statement("Allow", actions, ("*",), False)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resource: bool

    def covers(self, action: str, resource: str) -> bool:
        if not any(fnmatchcase(action.lower(), a.lower()) for a in self.actions):
            return False
        matched = any(fnmatchcase(resource, r) for r in self.resources)
        return not matched if self.not_resource else matched


def _statements(document: dict[str, Any], resolver: template.Resolver) -> Iterator[Statement]:
    for raw in _as_list(resolver.resolve(document.get("Statement", []))):
        if not isinstance(raw, dict):
            continue
        not_resource = "NotResource" in raw
        resources = tuple(str(r) for r in _as_list(raw.get("NotResource" if not_resource else "Resource", [])))
        yield Statement(raw["Effect"], tuple(_as_list(raw.get("Action", []))), resources, not_resource)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def policies(parameters: tuple[tuple[str, str], ...] = ()) -> dict[str, tuple[Statement, ...]]:
    """Every function's IAM statements: its role's inline policies and the standalone policies on that role,
    for the template's parameter defaults overridden by ``parameters``."""
    document = template.translated()
    resolver = template.Resolver(
        _canonical_physical(document["Resources"]), {**PSEUDO, **dict(parameters)}, document.get("Conditions", {})
    )
    by_role: dict[str, list[Statement]] = {}
    for logical_id, resource in document["Resources"].items():
        props = resource.get("Properties", {})
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resolver.resolve(props.get("Policies", [])):
                by_role.setdefault(logical_id, []).extend(_statements(policy["PolicyDocument"], resolver))
            for arn in resolver.resolve(props.get("ManagedPolicyArns", [])):
                by_role.setdefault(logical_id, []).extend(_managed(arn))
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements = list(_statements(props["PolicyDocument"], resolver))
            for role in props.get("Roles", []):
                by_role.setdefault(role["Ref"], []).extend(statements)
    functions = {}
    for logical_id, resource in document["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
            functions[logical_id] = tuple(by_role.get(role, []))
    return functions


def allowed(function: str, action: str, resource: str, parameters: tuple[tuple[str, str], ...] = ()) -> bool:
    statements = policies(parameters)[function]
    if any(s.effect == "Deny" and s.covers(action, resource) for s in statements):
        return False
    return any(s.effect == "Allow" and s.covers(action, resource) for s in statements)


def table_logical_ids() -> list[str]:
    return sorted(template.resources("AWS::DynamoDB::Table"))
