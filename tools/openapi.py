"""Builds the OpenAPI document from every function's resolver (routes and pydantic models) and the
template's auth settings, and writes it into the shared layer for GET /swagger.

``python -m tools.openapi`` writes it; ``--check`` fails when the committed document is stale."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tools import template
from tools.gateway import FunctionHost

DOCUMENT = template.ROOT / "layers" / "shared" / "python" / "tuishou" / "openapi.json"
SECURITY_SCHEME = "CognitoIdToken"


def build() -> dict[str, Any]:
    host = FunctionHost()
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Tuishou API",
            "version": "1.0.0",
            "description": "Affiliate tasks: merchants publish, promoters share, payments settle.",
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Cognito ID token of the user pool (role in custom:role).",
                }
            },
        },
    }
    public = {(r.method.lower(), r.path) for r in template.routes() if r.public}
    for logical_id in sorted(host.specs):
        if not host.specs[logical_id].routes:
            continue
        app = getattr(host.module(logical_id), "app", None)
        if app is None:
            continue
        schema = json.loads(app.get_openapi_json_schema(title="Tuishou API", version="1.0.0"))
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                secured = (method, path) not in public
                if secured:
                    operation["security"] = [{SECURITY_SCHEME: []}]
                _document_errors(operation, secured, method)
                document["paths"].setdefault(path, {})[method] = operation
        for name, model in schema.get("components", {}).get("schemas", {}).items():
            if name not in {"HTTPValidationError", "ValidationError"}:
                document["components"]["schemas"][name] = model
    document["components"]["schemas"].update(_error_schemas())
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_ERROR_STATUSES = {
    "400": "Bad request",
    "404": "Not found",
    "409": "Conflict",
    "422": "Validation error (the field is named)",
}


_WRITE_METHODS = {"post", "put", "patch", "delete"}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the window that refused the request ends",
        "schema": {"type": "integer"},
    }
}


def _document_errors(operation: dict[str, Any], secured: bool, method: str) -> None:
    """Every error is the shared JSON error body, not Powertools' default validation schema. A signed-in
    caller's write request can be over a rate limit (429 with ``Retry-After``)."""
    responses = operation.setdefault("responses", {})
    statuses = dict(_ERROR_STATUSES)
    if secured:
        statuses.update({"401": "Missing or invalid token", "403": "Wrong role or not allowed"})
    for status, description in statuses.items():
        responses[status] = {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
    if secured and method in _WRITE_METHODS:
        responses["429"] = {
            "description": "Over a rate limit (docs/api.md, Rate limits)",
            "headers": _RETRY_AFTER,
            "content": {"application/json": {"schema": _ERROR_REF}},
        }


def _error_schemas() -> dict[str, Any]:
    from tuishou.models.common import ErrorResponse

    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"ErrorResponse": schema, **definitions}


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != text:
            print(f"{DOCUMENT.relative_to(template.ROOT)} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(template.ROOT)} ({len(build()['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
