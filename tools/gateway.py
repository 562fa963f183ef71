"""The local API Gateway: maps each function's ``Api`` (REST API) and ``HttpApi`` (HTTP API) events from
template.yaml to its handler, on one port and the same paths, verifies Cognito ID tokens as the REST API's
authorizer would, and invokes the handler in-process with a real-shaped event (REST v1 proxy event, or HTTP
API payload v2) and Lambda context."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

from tools import template

if TYPE_CHECKING:
    from tools.static_site import StaticSite

ROOT = str(template.ROOT)
LAYER = str(template.ROOT / "layers" / "shared" / "python")
for entry in (LAYER, ROOT):
    if entry not in sys.path:
        sys.path.insert(0, entry)


# The logical id of the function whose code is running (its import or an invocation), for tests that
# attribute AWS calls to the function that made them.
RUNNING_FUNCTION: ContextVar[str | None] = ContextVar("running_function", default=None)


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 10
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    function_version: str = "$LATEST"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


class FunctionHost:
    """Loads each function's handler module once (as a cold start would) and invokes it."""

    def __init__(self) -> None:
        self._specs = {spec.logical_id: spec for spec in template.functions()}
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        # A Lambda container runs one event at a time, and Powertools keeps the current event on the
        # resolver class, shared by every function in this process: so one invocation at a time here too.
        # Concurrency between "containers" is still real at the DynamoDB level (requests interleave).
        self._invoke_lock = threading.RLock()

    @property
    def specs(self) -> dict[str, template.FunctionSpec]:
        return self._specs

    def module(self, logical_id: str) -> ModuleType:
        with self._lock:
            if logical_id not in self._modules:
                spec = self._specs[logical_id]
                name = f"tuishou_fn_{logical_id}"
                module_spec = importlib.util.spec_from_file_location(name, spec.module_path)
                if module_spec is None or module_spec.loader is None:
                    raise ImportError(f"cannot load {spec.module_path}")
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[name] = module
                module_spec.loader.exec_module(module)
                self._modules[logical_id] = module
            return self._modules[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        spec = self._specs[logical_id]
        timeout = int(spec.properties.get("Timeout", 10))
        with self._invoke_lock:
            running = RUNNING_FUNCTION.set(logical_id)
            try:
                handler: Callable[..., Any] = getattr(self.module(logical_id), spec.handler_name)
                return handler(event, LambdaContext(function_name=logical_id, timeout_seconds=timeout))
            finally:
                RUNNING_FUNCTION.reset(running)


class TokenVerifier:
    """Verifies Cognito ID tokens: RS256 against the pool's JWKS, ``exp``, ``aud``, ``iss``, ``token_use``."""

    def __init__(self, endpoint_url: str, region: str, user_pool_id: str, client_id: str) -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.client_id = client_id
        self._jwks = jwt.PyJWKClient(
            f"{endpoint_url.rstrip('/')}/{user_pool_id}/.well-known/jwks.json", cache_keys=True, lifespan=300
        )

    def claims(self, token: str) -> dict[str, str]:
        signing_key = self._jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience=self.client_id,
            issuer=self.issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        if claims.get("token_use") != "id":
            raise jwt.InvalidTokenError("not an ID token")
        # API Gateway hands claims to the function as strings.
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(payload, ensure_ascii=False).encode(),
    )


def error(status: int, code: str, message: str) -> HttpResponse:
    return json_response(status, {"error": {"code": code, "message": message}})


LocalRoute = Callable[[str, dict[str, str], bytes, dict[str, list[str]]], HttpResponse]


class LocalGateway:
    def __init__(self, host: FunctionHost, verifier: TokenVerifier, stage: str = "local") -> None:
        self.host = host
        self.verifier = verifier
        self.stage = stage
        self.routes = [route for spec in host.specs.values() for route in spec.routes]
        self.local_routes: dict[tuple[str, str], LocalRoute] = {}
        self.static_sites: list[StaticSite] = []

    def add_local_route(self, method: str, prefix: str, handler: LocalRoute) -> None:
        """Control routes under ``/_local/``: never in template.yaml, never deployed."""
        self.local_routes[(method, prefix)] = handler

    def add_static_site(self, site: StaticSite) -> None:
        """Static files under a prefix no template route uses (the web console at ``/console``)."""
        self.static_sites.append(site)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> HttpResponse:
        parts = urlsplit(target)
        path, query = parts.path or "/", parse_qs(parts.query, keep_blank_values=True)
        if path.startswith("/_local/"):
            return self._handle_local(method, path, headers, body, query)
        for site in self.static_sites:
            if site.matches(path):
                return site.get(path) if method == "GET" else error(404, "not_found", f"no route for {method} {path}")
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                return self._invoke_route(route, match.groupdict(), path, query, headers, body, parts.query)
        return error(404, "not_found", f"no route for {method} {path}")

    def _handle_local(
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: dict[str, list[str]]
    ) -> HttpResponse:
        for (route_method, prefix), handler in self.local_routes.items():
            if route_method == method and (path == prefix or path.startswith(prefix.rstrip("/") + "/")):
                rest = path[len(prefix) :].strip("/")
                return handler(rest, headers, body, query)
        return error(404, "not_found", f"no local route for {method} {path}")

    def _invoke_route(
        self,
        route: template.Route,
        path_params: dict[str, str],
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        raw_query: str,
    ) -> HttpResponse:
        claims = None
        if not route.public:
            token = _bearer(headers)
            if not token:
                return error(401, "unauthorized", "missing token")
            try:
                claims = self.verifier.claims(token)
            except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
                return error(401, "unauthorized", f"invalid token: {exc.__class__.__name__}")
        event = proxy_event(route, path, path_params, query, headers, body, claims, self.stage, raw_query)
        result = self.host.invoke(route.function_id, event)
        return _from_proxy_result(result)


def _bearer(headers: dict[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    value = value.strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    return value or None


def proxy_event(
    route: template.Route,
    path: str,
    path_params: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
    claims: dict[str, str] | None,
    stage: str = "local",
    raw_query: str | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends the route's function: a REST v1 proxy event, or an HTTP API's payload v2
    (``raw_query``: the query string as sent; rebuilt from ``query`` when not given)."""
    if route.payload_version == template.HTTP_API_PAYLOAD:
        if raw_query is None:
            raw_query = urlencode([(name, value) for name, values in query.items() for value in values])
        return http_api_event(route, path, path_params, query, raw_query, headers, body)
    return rest_event(route, path, path_params, query, headers, body, claims, stage)


def _event_body(body: bytes) -> tuple[str | None, bool]:
    """(the body as the event carries it, whether it is base64): text when it is UTF-8, else base64."""
    try:
        return (body.decode("utf-8") if body else None), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


def rest_event(
    route: template.Route,
    path: str,
    path_params: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
    claims: dict[str, str] | None,
    stage: str = "local",
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy integration event, as a Lambda receives it."""
    text_body, is_base64 = _event_body(body)
    request_id = str(uuid.uuid4())
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": route.method,
        "headers": dict(headers) or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": dict(query) or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": route.method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "000000000000",
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def http_api_event(
    route: template.Route,
    path: str,
    path_params: dict[str, str],
    query: dict[str, list[str]],
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    """An HTTP API payload v2 event on the ``$default`` stage (paths without a stage prefix), as a Lambda
    receives it: header names lower-cased, repeated headers and query parameters joined by commas, the
    ``cookie`` header moved to ``cookies``; keys without a value are left out, as API Gateway leaves them."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        lowered[name.lower()] = f"{lowered[name.lower()]},{value}" if name.lower() in lowered else value
    cookie_header = lowered.pop("cookie", "")
    cookies = [cookie.strip() for cookie in cookie_header.split(";") if cookie.strip()]
    text_body, is_base64 = _event_body(body)
    now = time.time()
    domain = lowered.get("host", "localhost")
    event: dict[str, Any] = {
        "version": template.HTTP_API_PAYLOAD,
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "cookies": cookies,
        "headers": lowered,
        "queryStringParameters": {name: ",".join(values) for name, values in query.items()},
        "pathParameters": path_params,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": route.method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }
    optional = ("cookies", "queryStringParameters", "pathParameters", "body")
    return {key: value for key, value in event.items() if key not in optional or value}


def _from_proxy_result(result: dict[str, Any]) -> HttpResponse:
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for k, values in (result.get("multiValueHeaders") or {}).items():
        if values:
            headers[k] = ", ".join(str(v) for v in values)
    if result.get("cookies"):  # payload v2: each becomes a Set-Cookie header (one here, as headers are a dict)
        headers["Set-Cookie"] = ", ".join(result["cookies"])
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return HttpResponse(int(result.get("statusCode", 502)), headers, raw)
