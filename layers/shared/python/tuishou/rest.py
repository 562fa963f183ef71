"""The shared resolver: one factory wires validation and maps every error to the JSON body
``{"error": {"code", "message", "field"}}`` with the right status, for the REST API and the HTTP API alike."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import BaseModel

from tuishou import snapstart
from tuishou.config import remember_request_base_url
from tuishou.errors import Forbidden, ServiceUnavailable, TooManyRequests, TuishouError, Unauthorized
from tuishou.models.common import Principal, Role
from tuishou.observability import logger

if TYPE_CHECKING:
    from tuishou.logic import rate_limits

# The rate limiter (and with it the DynamoDB client) is imported by the first write request, not at cold start:
# a function that never writes (the Swagger page) never loads botocore's client machinery. SnapStart priming
# imports it into the snapshot (tuishou.snapstart).
DEFERRED_IMPORTS = ("tuishou.logic.rate_limits",)

ROLE_CLAIM = "custom:role"
_ROLES = {"merchant", "promoter", "admin"}
MAX_BODY_BYTES = 64 * 1024  # every request body of this API is a few KiB; refuse larger ones before parsing
MAX_JSON_DEPTH = 32  # the deepest body of this API is 4 levels; deeper nesting is refused, never recursed into
MAX_INTEGER_DIGITS = 30  # longer integers exceed every bound of this API (Python refuses over 4300 digits)


class TooLongInteger:
    """A JSON integer too long to be any valid value. Not an ``int`` (Python's int conversion refuses 4,300+
    digits and would fail the whole request) nor a ``str`` (it must not pass as text): no field type accepts
    it, so the model refuses it naming its field."""

    def __init__(self, digits: str) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<integer of {len(self.digits)} digits>"


def read_json(text: str) -> Any:
    """Strict JSON of a request body: standard JSON only (no NaN/Infinity), nesting at most ``MAX_JSON_DEPTH``,
    strings that are valid Unicode (no lone surrogates). Anything else is a ``json.JSONDecodeError``, which the
    validation layer answers with 422 naming ``body``."""
    try:
        value = json.loads(text, parse_int=_integer, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0) from exc
    _check_nesting_and_text(value, text)
    return value


def _integer(digits: str) -> int | TooLongInteger:
    return int(digits) if len(digits.lstrip("-")) <= MAX_INTEGER_DIGITS else TooLongInteger(digits)


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not standard JSON", name, 0)


def _check_nesting_and_text(value: Any, doc: str) -> None:
    """Iterative walk (no recursion to exhaust): depth and Unicode of every key and string."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)) and depth > MAX_JSON_DEPTH:
            raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", doc, 0)
        if isinstance(node, dict):
            pending += [(key, depth) for key in node] + [(item, depth + 1) for item in node.values()]
        elif isinstance(node, list):
            pending += [(item, depth + 1) for item in node]
        elif isinstance(node, str) and not _is_unicode(node):
            raise json.JSONDecodeError("a string holds a lone surrogate (not Unicode text)", doc, 0)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Utf8Body(BaseProxyEvent):
    """A proxy event whose body must be UTF-8: a binary (base64) body that is not is refused as undecodable
    JSON (422 ``body``) instead of failing the request with a ``UnicodeDecodeError``."""

    @cached_property
    def decoded_body(self) -> str | None:
        body = self.body
        if not (self.is_base64_encoded and body):
            return body
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise json.JSONDecodeError("body is not UTF-8 text", "", 0) from exc


class StrictBodyEvent(_Utf8Body, APIGatewayProxyEvent):
    """A REST API (v1) proxy event with a UTF-8 body."""


class StrictBodyEventV2(_Utf8Body, APIGatewayProxyEventV2):
    """An HTTP API payload v2 event with a UTF-8 body."""


def body_bytes(event: dict[str, Any]) -> int:
    """The size of a proxy event's body in bytes, without decoding a base64 body."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    if len(body) > MAX_BODY_BYTES or len(body) * 4 <= MAX_BODY_BYTES:
        return len(body)  # a character is 1..4 UTF-8 bytes: no need to encode to decide
    return len(body.encode("utf-8"))


class _BodyLimited(ApiGatewayResolver):
    """A resolver with a body size limit checked on the raw event, before routing or validation parse anything
    (Powertools runs its request validation before any user middleware); it also remembers the URL the request
    came in on (``tuishou.config.public_base_url``)."""

    _extra_result_fields: ClassVar[Mapping[str, Any]] = {}  # what a result of this payload version also carries

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        request_context = (event.get("requestContext") or {}) if isinstance(event, dict) else {}
        remember_request_base_url(_base_url(request_context.get("domainName"), request_context.get("stage")))
        if isinstance(event, dict) and body_bytes(event) > MAX_BODY_BYTES:
            logger.warning("request body too large", extra={"bytes": body_bytes(event)})
            body = {
                "error": {
                    "code": "payload_too_large",
                    "field": "body",
                    "message": f"body larger than {MAX_BODY_BYTES} bytes",
                }
            }
            return {
                "statusCode": 413,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                **self._extra_result_fields,
                "body": json.dumps(body),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


def _base_url(domain: str | None, stage: str | None) -> str | None:
    """An HTTP API's ``$default`` stage has no path prefix; a REST API stage always has one."""
    if not (domain and stage):
        return None
    return f"https://{domain}" if stage == "$default" else f"https://{domain}/{stage}"


class TuishouResolver(_BodyLimited, APIGatewayRestResolver):
    """The REST API (payload v1) resolver."""

    _extra_result_fields: ClassVar[Mapping[str, Any]] = {"multiValueHeaders": {}}

    def _to_proxy_event(self, event: dict) -> APIGatewayProxyEvent:
        return StrictBodyEvent(event, self._json_body_deserializer)


class TuishouHttpResolver(_BodyLimited, APIGatewayHttpResolver):
    """The HTTP API (payload v2) resolver."""

    def _to_proxy_event(self, event: dict) -> APIGatewayProxyEventV2:
        return StrictBodyEventV2(event, self._json_body_deserializer)


_CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    408: "request_timeout",
    413: "payload_too_large",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


def error_response(
    status: int,
    code: str,
    message: str | dict[str, Any],
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": error}, ensure_ascii=False),
        headers=headers,
    )


def _field_of(location: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'rules', 0, 'value') -> 'rules[0].value'; ('query', 'limit') -> 'limit'."""
    parts = list(location[1:] if location and location[0] in {"body", "query", "path", "header"} else location)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


@overload
def build_resolver(*, http_api: Literal[False] = False, **kwargs: Any) -> TuishouResolver: ...


@overload
def build_resolver(*, http_api: Literal[True], **kwargs: Any) -> TuishouHttpResolver: ...


def build_resolver(
    *,
    http_api: bool = False,
    rate_limited: bool = True,
    route_scopes: Mapping[str, rate_limits.Scope] | None = None,
    **kwargs: Any,
) -> TuishouResolver | TuishouHttpResolver:
    """A resolver with pydantic validation and the project's error mapping: for the REST API's proxy events,
    or with ``http_api`` for an HTTP API's payload v2 events (the public redirect's ``LinkApi``). Unless
    ``rate_limited`` is False (the providers' webhooks), a signed-in caller's write requests count against
    the ``writes`` rate limit, and a route path in ``route_scopes`` also against its scope (429 when over)."""
    resolver_type = TuishouHttpResolver if http_api else TuishouResolver
    app = resolver_type(enable_validation=True, json_body_deserializer=read_json, **kwargs)
    snapstart.track_resolver(app)  # its routes' validation is built before a SnapStart snapshot
    if rate_limited:
        app.use([_rate_limit(dict(route_scopes or {}))])

    @app.exception_handler(TuishouError)
    def _domain_error(exc: TuishouError) -> Response:
        retry_after = exc.retry_after if isinstance(exc, (ServiceUnavailable, TooManyRequests)) else None
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        if exc.status >= 500:
            logger.warning("request failed", extra={"code": exc.code, "status": exc.status})
        return error_response(exc.status, exc.code, exc.message, exc.field, headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first: dict[str, Any] = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field_of(first.get("loc", ("body",)))
        message = first.get("msg", "invalid")
        if first.get("type") == "json_invalid":
            field, message = "body", f"not valid JSON: {(first.get('ctx') or {}).get('error', 'unreadable')}"
        return error_response(422, "validation_error", f"{field}: {message}", field)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        return error_response(415, "unsupported_media_type", "the body must be application/json", "body")

    @app.not_found
    def _route_not_found(_: NotFoundError) -> Response:
        return error_response(404, "not_found", "no such route")

    @app.exception_handler(ServiceError)
    def _powertools_error(exc: ServiceError) -> Response:
        return error_response(exc.status_code, _CODE_OF_STATUS.get(exc.status_code, "error"), exc.msg)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # A bug, never an answer to input: logged with its traceback, answered in the one shape without detail.
        logger.exception("unhandled error", extra={"error": exc.__class__.__name__})
        return error_response(500, "internal_error", "internal error")

    return app


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _rate_limit(route_scopes: dict[str, rate_limits.Scope]) -> Callable[[Any, NextMiddleware], Response]:
    """Middleware: a write request by a signed-in caller counts against the caller's rate limits (1
    UpdateItem) before its route runs; over a limit it is answered 429 with ``Retry-After``. Requests without
    a verified caller (public routes) are not counted: the gateway and route refuse them or they are not
    per-user."""

    def middleware(app: Any, next_middleware: NextMiddleware) -> Response:
        from tuishou.logic import rate_limits

        event = app.current_event
        if event.http_method.upper() in WRITE_METHODS:
            claims = _claims(event)
            if claims.get("sub"):
                scope = route_scopes.get(getattr(event, "resource", "") or "")
                rate_limits.admit(str(claims["sub"]), ["writes", scope] if scope else ["writes"])
        return next_middleware(app)

    return middleware


def _claims(event: Any) -> dict[str, Any]:
    try:
        return dict(event.request_context.authorizer.claims or {})
    except (AttributeError, KeyError, TypeError):
        return {}


def principal(app: APIGatewayRestResolver, *roles: Role) -> Principal:
    """The verified caller. 401 without claims; 403 when ``roles`` are given and the caller has none of them."""
    claims = (app.current_event.request_context.authorizer.claims or {}) if app.current_event else {}
    user_id, role = claims.get("sub"), claims.get(ROLE_CLAIM)
    if not user_id:
        raise Unauthorized("missing or invalid token")
    if role not in _ROLES:
        # Self sign-up is open; roles are granted, never chosen (docs/operations.md, "Accounts and roles").
        raise Forbidden(
            "this account has no role yet: ask a Tuishou administrator to make it a merchant or "
            "promoter account, then sign in again"
        )
    if roles and role not in roles:
        raise Forbidden(f"this route is for {' or '.join(roles)} accounts")
    return Principal(user_id=user_id, role=role, username=claims.get("cognito:username"), email=claims.get("email"))


def created(body: BaseModel) -> Response:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def ok(body: BaseModel) -> Response:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())
