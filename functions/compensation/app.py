"""Compensation (admin): fault windows, scan summaries, compensation records, user blocks; promoters:
their compensation records and their invite code."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import compensation, invites
from tuishou.models.common import UtcDatetime
from tuishou.models.compensation import (
    CompensationPage,
    FaultWindowIn,
    InviteCode,
    ScanAccepted,
    ScanSummary,
    UserBlock,
)
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, created, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()
TAGS = ["compensation"]
Limit = Annotated[int, Query(ge=1, le=100, description="Records per page.")]
Cursor = Annotated[str | None, Query(max_length=1024, description="`next_cursor` of the previous page.")]
UserId = Annotated[str, Path(max_length=64, description="The user's Cognito sub.")]


@app.post(
    "/admin/fault-windows",
    summary="Declare a fault window: scan it and compensate what it swallowed",
    tags=TAGS,
    responses={
        202: {
            "description": "Accepted: the scan runs asynchronously",
            "content": {"application/json": {"model": ScanAccepted}},
        }
    },
)
def declare_fault_window(body: FaultWindowIn):  # noqa: ANN201 - a Response; its schema is in `responses`
    admin = principal(app, "admin")
    accepted = compensation.start_fault_window(body, admin.user_id)
    response = created(accepted)
    response.status_code = 202
    return response


@app.get("/admin/scans/<scan_id>", summary="A compensation scan's status and summary", tags=TAGS)
def get_scan(scan_id: Annotated[str, Path(max_length=64)]) -> ScanSummary:
    principal(app, "admin")
    return compensation.summary(scan_id)


@app.get("/admin/compensations", summary="Compensation records (compensated and flagged) since a time", tags=TAGS)
def list_compensations(
    since: Annotated[UtcDatetime | None, Query(description="ISO 8601 with offset, 2000..2099; default: all")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CompensationPage:
    principal(app, "admin")
    return compensation.list_all(since, limit, cursor)


@app.get("/promoter/compensations", summary="The caller's compensation records", tags=TAGS)
def list_my_compensations(limit: Limit = 50, cursor: Cursor = None) -> CompensationPage:
    caller = principal(app, "promoter")
    return compensation.list_for_user(caller.user_id, limit, cursor)


@app.put("/admin/users/<user_id>/block", summary="Block a user from compensation (fraud review)", tags=TAGS)
def block_user(user_id: UserId) -> UserBlock:
    admin = principal(app, "admin")
    return compensation.block(user_id, admin.user_id)


@app.delete("/admin/users/<user_id>/block", summary="Lift a user's block", tags=TAGS)
def unblock_user(user_id: UserId) -> UserBlock:
    principal(app, "admin")
    return compensation.unblock(user_id)


@app.post(
    "/promoter/invites",
    summary="The caller's invite code (one per promoter; asking again returns it)",
    tags=TAGS,
    responses={201: {"description": "The invite code", "content": {"application/json": {"model": InviteCode}}}},
)
def create_invite():  # noqa: ANN201 - a Response; its schema is in `responses`
    promoter = principal(app, "promoter")
    return created(invites.invite_code_for(promoter.user_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
