"""Least privilege, measured: records every AWS API call a function makes (attributed through
``tools.gateway.RUNNING_FUNCTION``) as the IAM action and resource it needs, and evaluates those against the
function's role in the translated template (SAM transform applied).

Resources are compared in one canonical form: region us-east-1, account 123456789012 (moto's), and each
resource named by its logical id (the local stack names them ``tuishou-local-<LogicalId>``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from tools import template
from tools.gateway import RUNNING_FUNCTION
from tools.local_stack import LOCAL_PREFIX

REGION, ACCOUNT = "us-east-1", "123456789012"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "tuishou",
    "AWS::NoValue": None,
}
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
    else:
        yield f"dynamodb:{operation}", "*"


def _sns(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str]]:
    target = params.get("TopicArn") or params.get("TargetArn")
    if target:
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
class _Intrinsics:
    """Resolves the intrinsic functions found in the translated policies to canonical ARNs."""

    def __init__(self, document: dict[str, Any], overrides: dict[str, str]) -> None:
        self.resources = document["Resources"]
        self.parameters = {k: v.get("Default", "") for k, v in document.get("Parameters", {}).items()} | overrides
        self.conditions = document.get("Conditions", {})

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            handler = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Sub": self._sub,
                "Fn::If": self._if,
                "Fn::Join": self._join,
            }.get(name)
            if handler:
                return handler(arg)
        return {k: self.resolve(v) for k, v in value.items()}

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.conditions[name]))

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((name, args),) = expression.items()
            if name == "Fn::Equals":
                left, right = (self._evaluate(a) for a in args)
                return str(left) == str(right)
            if name == "Fn::Not":
                return not self._evaluate(args[0])
            if name == "Fn::And":
                return all(self._evaluate(a) for a in args)
            if name == "Fn::Or":
                return any(self._evaluate(a) for a in args)
            if name == "Condition":
                return self.condition(args)
        return self.resolve(expression)

    def _ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = self.resources[name]["Type"]
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        return name

    def _get_att(self, arg: Any) -> str:
        name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
        kind = self.resources[name]["Type"]
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return table_arn(name)
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return f"{table_arn(name)}/stream/*"
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}" if attribute == "Arn" else name
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}" if attribute == "TopicArn" else name
        return f"arn:aws:{kind.split('::')[1].lower()}:{REGION}:{ACCOUNT}:{name}"

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        resolved = {k: self.resolve(v) for k, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved:
                return str(resolved[name])
            if "." in name:
                return str(self._get_att(name))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)}", substitute, text)

    def _if(self, arg: list[Any]) -> Any:
        name, if_true, if_false = arg
        return self.resolve(if_true if self.condition(name) else if_false)

    def _join(self, arg: list[Any]) -> str:
        separator, values = arg
        return separator.join(str(v) for v in self.resolve(values))


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


def _statements(document: dict[str, Any], intrinsics: _Intrinsics) -> Iterator[Statement]:
    for raw in _as_list(intrinsics.resolve(document.get("Statement", []))):
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
    intrinsics = _Intrinsics(document, dict(parameters))
    by_role: dict[str, list[Statement]] = {}
    for logical_id, resource in document["Resources"].items():
        props = resource.get("Properties", {})
        if "Condition" in resource and not intrinsics.condition(resource["Condition"]):
            continue
        if resource["Type"] == "AWS::IAM::Role":
            for policy in intrinsics.resolve(props.get("Policies", [])):
                by_role.setdefault(logical_id, []).extend(_statements(policy["PolicyDocument"], intrinsics))
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements = list(_statements(props["PolicyDocument"], intrinsics))
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
