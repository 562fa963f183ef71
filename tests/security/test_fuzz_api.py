"""Fuzzing every operation of the generated OpenAPI document, in-process through the local gateway (JWT check
included), with a valid token of the operation's role:

- schemathesis sends valid requests (positive) and requests that break the schema (negative: wrong types,
  missing fields, out-of-range values): never a 5xx, a documented status has a conforming body, and every
  error body has the one shape ``{"error": {"code", "message", "field"?}}``;
- Hypothesis, driven by the same document, sends hostile bodies to every operation that takes one (deep
  nesting, invalid UTF-8, 5,000-digit and 10^40 numbers in each property, wrong JSON types, wrong content
  types): always a 4xx in the one shape.

Bounded for CI: few examples per operation, no deadline, derandomised."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers.wsgi import wsgi_app

SPEC_PATH = Path(__file__).resolve().parents[2] / "layers" / "shared" / "python" / "tuishou" / "openapi.json"
SPEC = json.loads(SPEC_PATH.read_text())
SCHEMA = schemathesis.openapi.from_dict(SPEC)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 6}
PUBLIC_PAGES = {"/l/{code}": {302, 404, 410}}  # a visitor gets a redirect or an HTML page, never a JSON error
PLAIN_TEXT_ANSWERS = {"/webhooks/{provider}"}  # Alipay is answered `success` / `failure`


def role_for(path: str) -> str | None:
    """The role whose token an operation needs; public routes get none."""
    for prefix, role in (
        ("/merchant", "merchant"),
        ("/promoter", "promoter"),
        ("/admin", "admin"),
        ("/me", "promoter"),
    ):
        if path.startswith(prefix):
            return role
    return None


def check_error_shape(path: str, status: int, content_type: str, body: bytes) -> None:
    """Every 4xx/5xx JSON body is ``{"error": {"code", "message", "field"?}}``; only the public pages and
    the Alipay dialect answer something else, and the public pages only with their own statuses."""
    assert status < 500, body[:300]
    if path in PUBLIC_PAGES:
        assert status in PUBLIC_PAGES[path], (status, body[:300])
        return
    if status < 400 or (path in PLAIN_TEXT_ANSWERS and content_type.startswith("text/plain")):
        return
    assert content_type.startswith("application/json"), (status, content_type, body[:300])
    payload = json.loads(body)
    assert set(payload) == {"error"}, payload
    assert {"code", "message"} <= set(payload["error"]) <= {"code", "message", "field"}, payload


@pytest.mark.slow  # many Hypothesis examples per operation: CI runs it in `make test-slow`
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_operation_never_answers_5xx_conforms_to_its_schema_and_errors_have_one_shape(api, operation):
    # Given a user of the operation's role with a profile (so promoter routes reach their logic)
    headers = _headers_for(api, operation.path)
    app = wsgi_app(api.stack.gateway)
    statuses: list[int] = []

    for mode, examples in EXAMPLES.items():
        # A documented status must conform to its schema for valid requests; invalid ones are only refused.
        checks = (
            [not_a_server_error, response_schema_conformance]
            if mode is GenerationMode.POSITIVE
            else [not_a_server_error]
        )
        try:
            _fuzz(operation, mode, examples, app, headers, checks, statuses)
        except Unsatisfiable:
            # Nothing in the schema to break (a free-text path parameter and no body): positive cases only.
            assert mode is GenerationMode.NEGATIVE
    assert statuses, "no request was sent"


def _fuzz(
    operation, mode: GenerationMode, examples: int, app, headers: dict[str, str], checks: list, statuses: list[int]
) -> None:
    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        # When schemathesis sends a generated request (valid, or breaking the schema)
        response = case.call(app=app, headers=headers)
        statuses.append(response.status_code)
        # Then no server error, the checks of the mode hold, and an error has the one shape
        case.validate_response(response, checks=checks, headers=headers)
        check_error_shape(operation.path, response.status_code, _content_type(response), response.content)

    fuzz()


def _content_type(response: Any) -> str:
    value = response.headers.get("Content-Type") or response.headers.get("content-type") or ""
    return value[0] if isinstance(value, list) else value


def _headers_for(api, path: str) -> dict[str, str]:
    role = role_for(path)
    if not role:
        return {}
    user = api.user(role)
    if role == "promoter" and path != "/promoter/profile":
        api.post("/promoter/profile", {"display_name": "Fuzz", "phone": "+8613800000000"}, as_user=user)
    return {"Authorization": user.token}


# ---------------------------------------------------------------- hostile bodies, from the document
def _properties(operation: dict[str, Any]) -> list[str]:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {})) or ["value"]


BODY_OPERATIONS = [
    (method.upper(), path, _properties(op))
    for path, ops in SPEC["paths"].items()
    for method, op in ops.items()
    if "requestBody" in op and not path.startswith("/webhooks")
]
SAMPLE_PATH_VALUES = {
    "product_id": "prd_0123456789abcdefghjk",
    "link_id": "lnk_0123456789abcdefghjk",
    "promoter_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
}


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


hostile_values = st.sampled_from(
    [
        "9" * 5000,
        "-" + "9" * 5000,
        str(10**40),
        "1e999999",
        "NaN",
        "-Infinity",
        _nested(40),
        _nested(5000),
        '"\\ud800"',
        '"\\u0000"',
        "[1, 2, 3]",
        "{}",
        '{"a": ' * 30 + "1" + "}" * 30,
        "true",
        "null",
        '"x"',
        "0.5",
    ]
)


OTHER_CONTENT_TYPES = [
    "text/xml",
    "text/plain",
    "application/jsonx",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
]


@st.composite
def hostile_requests(draw) -> tuple[str, str, bytes, str]:
    method, path, properties = draw(st.sampled_from(BODY_OPERATIONS))
    path = re.sub(r"\{(\w+)}", lambda m: SAMPLE_PATH_VALUES.get(m.group(1), "x"), path)
    kind = draw(st.sampled_from(["property", "property", "whole", "bytes", "content_type"]))
    if kind == "property":
        body = (
            "{"
            + ", ".join(
                f'"{name}": {draw(hostile_values)}'
                for name in draw(st.lists(st.sampled_from(properties), min_size=1, max_size=3))
            )
            + "}"
        )
        return method, path, body.encode(), "application/json"
    if kind == "whole":
        return method, path, draw(hostile_values).encode(), "application/json"
    if kind == "bytes":
        return method, path, b'{"' + draw(st.binary(min_size=1, max_size=12)) + b'": 1}', "application/json"
    return method, path, b"<x/>", draw(st.sampled_from(OTHER_CONTENT_TYPES))


@pytest.mark.slow  # 80 Hypothesis examples of hostile bodies: CI runs it in `make test-slow`
def test_hostile_bodies_to_every_body_operation_are_a_4xx_in_the_one_shape(api):
    # Given a user of each role (promoters with a profile)
    headers = {role: _headers_for(api, f"/{role}/x") for role in ("merchant", "promoter", "admin")}

    @settings(max_examples=80, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(request=hostile_requests())
    def fuzz(request):
        method, path, body, content_type = request
        # When a hostile body is sent with the operation's role
        response = api.stack.gateway.handle(
            method, path, {**headers[role_for(path) or "promoter"], "Content-Type": content_type}, body
        )
        # Then a 4xx in the one shape
        assert 400 <= response.status < 500, (method, path, body[:80], response.status, response.body[:200])
        check_error_shape(path, response.status, response.headers.get("Content-Type", ""), response.body)

    fuzz()
