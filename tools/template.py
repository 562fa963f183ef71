"""Reads template.yaml: functions, their API routes and schedules, resources, and the few intrinsic
functions the template uses. The local stack and the tests both work from this, so they cannot drift
from the template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


REST_PAYLOAD, HTTP_API_PAYLOAD = "1.0", "2.0"  # the REST API's proxy event; an HTTP API's payload v2


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function_id: str
    public: bool
    payload_version: str = REST_PAYLOAD  # HTTP_API_PAYLOAD for an ``HttpApi`` event

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\{(\w+)\\\+?}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str
    payload: str | None

    @property
    def period_seconds(self) -> int:
        """How often it fires: a ``rate(...)``, or a daily ``cron(M H * * ? *)`` (the local stack fires it once
        a day from its start, not at that hour)."""
        if re.fullmatch(r"cron\(\d{1,2} \d{1,2} \* \* \? \*\)", self.expression):
            return 86400
        match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", self.expression)
        if not match:
            raise ValueError(f"unsupported schedule expression {self.expression}")
        unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
        return int(match.group(1)) * unit


@dataclass
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any]
    routes: list[Route] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    queues: list[str] = field(default_factory=list)  # logical ids of SQS queues that trigger it

    @property
    def module_path(self) -> Path:
        return self.code_uri / (self.handler.rsplit(".", 1)[0] + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@cache
def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    from cfnlint.decode import decode

    document, matches = decode(str(path))
    if matches or document is None:
        raise ValueError(f"cannot parse {path}: {matches}")
    return document


def resources(of_type: str | None = None) -> dict[str, dict[str, Any]]:
    all_resources = load()["Resources"]
    return {k: v for k, v in all_resources.items() if of_type is None or v["Type"] == of_type}


def parameter_defaults() -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in load().get("Parameters", {}).items()}


def functions() -> list[FunctionSpec]:
    globals_ = load().get("Globals", {}).get("Function", {})
    global_env = globals_.get("Environment", {}).get("Variables", {})
    specs = []
    for logical_id, resource in resources("AWS::Serverless::Function").items():
        props = resource["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        spec = FunctionSpec(logical_id, ROOT / props["CodeUri"], props["Handler"], env, properties=dict(props))
        for event_name, event in props.get("Events", {}).items():
            event_props = event.get("Properties", {})
            if event["Type"] == "Api":
                public = event_props.get("Auth", {}).get("Authorizer") == "NONE"
                spec.routes.append(Route(event_props["Method"].upper(), event_props["Path"], logical_id, public))
            elif event["Type"] == "HttpApi":
                spec.routes.append(_http_api_route(logical_id, event_name, event_props))
            elif event["Type"] == "ScheduleV2":
                spec.schedules.append(Schedule(event_name, event_props["ScheduleExpression"], event_props.get("Input")))
            elif event["Type"] == "SQS":
                queue = event_props["Queue"]
                spec.queues.append(
                    queue["Fn::GetAtt"][0]
                    if isinstance(queue["Fn::GetAtt"], list)
                    else queue["Fn::GetAtt"].split(".", 1)[0]
                )
        specs.append(spec)
    return specs


def _http_api_route(logical_id: str, event_name: str, event_props: dict[str, Any]) -> Route:
    """An ``HttpApi`` event's route. Only what the local gateway reproduces faithfully: payload v2 on a public
    route (an HTTP API's JWT authorizer hands claims in another place than the REST API's Cognito authorizer)."""
    where = f"{logical_id}.{event_name}"
    if str(event_props.get("PayloadFormatVersion")) != HTTP_API_PAYLOAD:
        raise ValueError(f"{where}: HttpApi events must set PayloadFormatVersion {HTTP_API_PAYLOAD!r}")
    api = resources().get(event_props.get("ApiId", {}).get("Ref", ""), {})
    if "Auth" in api.get("Properties", {}) or event_props.get("Auth", {}).get("Authorizer", "NONE") != "NONE":
        raise ValueError(f"{where}: only public HttpApi routes are supported (no authorizer)")
    return Route(event_props["Method"].upper(), event_props["Path"], logical_id, True, HTTP_API_PAYLOAD)


def routes() -> list[Route]:
    return [route for spec in functions() for route in spec.routes]


class Resolver:
    """Resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join`` and ``Fn::If`` against a map of physical
    values (``{LogicalId: value, "LogicalId.Attr": value}``); ``conditions`` are the template's, evaluated
    with the parameter values (defaults, overridden by ``pseudo``)."""

    def __init__(
        self, physical: dict[str, Any], pseudo: dict[str, str], conditions: dict[str, Any] | None = None
    ) -> None:
        self.physical = physical
        self.values = {**parameter_defaults(), **pseudo}
        self.conditions = load().get("Conditions", {}) if conditions is None else conditions

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self._ref(arg)
            if name == "Fn::GetAtt":
                resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.physical[f"{resource}.{attribute}"]
            if name == "Fn::Sub":
                return self._sub(arg)
            if name == "Fn::Join":
                return arg[0].join(str(v) for v in self.resolve(arg[1]))
            if name == "Fn::If":
                condition, if_true, if_false = arg
                return self.resolve(if_true if self.condition(condition) else if_false)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not None]  # AWS::NoValue drops out
        return str(value) if value is not None else None

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.conditions[name]))

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((name, args),) = expression.items()
            if name == "Fn::Equals":
                return str(self._evaluate(args[0])) == str(self._evaluate(args[1]))
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
        if name == "AWS::NoValue":
            return None
        if name in self.values:
            return self.values[name]
        return self.physical[name]

    def _sub(self, arg: str | list[Any]) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def value_of(name: str) -> str:
            if name in variables:
                return str(variables[name])
            return str(self.physical[name] if "." in name else self._ref(name))

        return re.sub(r"\$\{([^}!]+)}", lambda m: value_of(m.group(1)), text)


TRANSLATED_PATH = ROOT / ".aws-sam" / "translated-template.json"


def translate() -> dict[str, Any]:
    """The template as CloudFormation deploys it: the SAM transform applied offline (samtranslator), with
    each code location replaced by the S3 URI that `sam package` would upload it to. samtranslator pins a
    pydantic other than the layer's, so this runs in the build venv (`make build`, python -m tools.translate)."""
    import copy
    import os

    from samtranslator.translator.transform import transform

    document = copy.deepcopy(load())
    for logical_id, resource in document["Resources"].items():
        for uri in ("CodeUri", "ContentUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = f"s3://artifacts/{logical_id}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    class _NoManagedPolicies:  # the template names managed policies by ARN only
        def load(self) -> dict[str, str]:
            return {}

    return transform(document, {}, _NoManagedPolicies())


@cache
def translated() -> dict[str, Any]:
    """The translated template `make build` wrote (see ``translate``)."""
    import json

    if not TRANSLATED_PATH.is_file():
        raise FileNotFoundError(f"{TRANSLATED_PATH} is missing: run `make build`")
    return json.loads(TRANSLATED_PATH.read_text())
