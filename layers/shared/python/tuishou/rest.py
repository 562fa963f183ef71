"""The shared REST resolver: one factory wires validation and maps every error to the JSON body
``{"error": {"code", "message", "field"}}`` with the right status."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel

from tuishou.config import remember_request_base_url
from tuishou.errors import Forbidden, ServiceUnavailable, TuishouError, Unauthorized
from tuishou.models.common import Principal, Role
from tuishou.observability import logger

ROLE_CLAIM = "custom:role"
_ROLES = {"merchant", "promoter", "admin"}
MAX_BODY_BYTES = 64 * 1024  # every request body of this API is a few KiB; refuse larger ones before parsing


def body_bytes(event: dict[str, Any]) -> int:
    """The size of a proxy event's body in bytes, without decoding a base64 body."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    if len(body) > MAX_BODY_BYTES or len(body) * 4 <= MAX_BODY_BYTES:
        return len(body)  # a character is 1..4 UTF-8 bytes: no need to encode to decide
    return len(body.encode("utf-8"))


class TuishouResolver(APIGatewayRestResolver):
    """The REST resolver with a body size limit checked on the raw event, before routing or validation parse
    anything (Powertools runs its request validation before any user middleware)."""

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request_context = (event.get("requestContext") or {}) if isinstance(event, dict) else {}
        domain, stage = request_context.get("domainName"), request_context.get("stage")
        remember_request_base_url(f"https://{domain}/{stage}" if domain and stage else None)
        if isinstance(event, dict) and body_bytes(event) > MAX_BODY_BYTES:
            logger.warning("request body too large", extra={"bytes": body_bytes(event)})
            body = {"error": {"code": "payload_too_large", "field": "body",
                              "message": f"body larger than {MAX_BODY_BYTES} bytes"}}
            return {"statusCode": 413, "headers": {"Content-Type": content_types.APPLICATION_JSON},
                    "multiValueHeaders": {}, "body": json.dumps(body), "isBase64Encoded": False}
        return super().resolve(event, context)


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps({"error": error}, ensure_ascii=False), headers=headers)


def _field_of(location: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'rules', 0, 'value') -> 'rules[0].value'; ('query', 'limit') -> 'limit'."""
    parts = list(location[1:] if location and location[0] in {"body", "query", "path", "header"} else location)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def build_resolver(**kwargs: Any) -> TuishouResolver:
    """A REST resolver with pydantic validation and the project's error mapping."""
    app = TuishouResolver(enable_validation=True, **kwargs)

    @app.exception_handler(TuishouError)
    def _domain_error(exc: TuishouError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, ServiceUnavailable) else None
        if exc.status >= 500:
            logger.warning("request failed", extra={"code": exc.code, "status": exc.status})
        return error_response(exc.status, exc.code, exc.message, exc.field, headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field_of(first.get("loc", ("body",)))
        if first.get("type") == "json_invalid":
            field = "body"
        return error_response(422, "validation_error", f"{field}: {first.get('msg', 'invalid')}", field)

    @app.not_found
    def _route_not_found(_: NotFoundError) -> Response:
        return error_response(404, "not_found", "no such route")

    return app


def principal(app: APIGatewayRestResolver, *roles: Role) -> Principal:
    """The verified caller. 401 without claims; 403 when ``roles`` are given and the caller has none of them."""
    claims = (app.current_event.request_context.authorizer.claims or {}) if app.current_event else {}
    user_id, role = claims.get("sub"), claims.get(ROLE_CLAIM)
    if not user_id:
        raise Unauthorized("missing or invalid token")
    if role not in _ROLES:
        # Self sign-up is open; roles are granted, never chosen (docs/operations.md, "Accounts and roles").
        raise Forbidden("this account has no role yet: ask a Tuishou administrator to make it a merchant or "
                        "promoter account, then sign in again")
    if roles and role not in roles:
        raise Forbidden(f"this route is for {' or '.join(roles)} accounts")
    return Principal(user_id=user_id, role=role, username=claims.get("cognito:username"), email=claims.get("email"))


def created(body: BaseModel) -> Response:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump_json())


def ok(body: BaseModel) -> Response:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body=body.model_dump_json())
