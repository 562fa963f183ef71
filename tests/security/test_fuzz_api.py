"""Fuzzing every operation of the generated OpenAPI document with schemathesis, in-process through the local
gateway (JWT check included), with a valid token of the operation's role: no 5xx, and every response whose
status the document describes matches its schema. Bounded (few examples per operation, no deadline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers.wsgi import wsgi_app

SPEC = Path(__file__).resolve().parents[2] / "layers" / "shared" / "python" / "tuishou" / "openapi.json"
SCHEMA = schemathesis.openapi.from_dict(json.loads(SPEC.read_text()))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
MAX_EXAMPLES = 12


def role_for(path: str) -> str | None:
    """The role whose token an operation needs; public routes get none."""
    for prefix, role in (("/merchant", "merchant"), ("/promoter", "promoter"), ("/admin", "admin"),
                         ("/me", "promoter")):
        if path.startswith(prefix):
            return role
    return None


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_operation_never_answers_5xx_and_conforms_to_its_schema(api, operation):
    # Given a user of the operation's role with a profile (so promoter routes reach their logic)
    role = role_for(operation.path)
    headers = {}
    if role:
        user = api.user(role)
        headers["Authorization"] = user.token
        if role == "promoter" and operation.path != "/promoter/profile":
            api.post("/promoter/profile", {"display_name": "Fuzz", "phone": "+8613800000000"}, as_user=user)
    app = wsgi_app(api.stack.gateway)
    statuses: list[int] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def fuzz(case):
        # When schemathesis sends a generated request
        response = case.call(app=app, headers=headers)
        statuses.append(response.status_code)
        # Then no server error, and a documented status has a conforming body
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance],
                               headers=headers)

    fuzz()
    assert statuses, "no request was sent"
