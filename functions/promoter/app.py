"""Promoters: register a profile, the personalised ranked task list, tracking links and shares."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import links, promoters, tasks
from tuishou.models.tasks import Link, Profile, ProfileCreate, Share, ShareCreate, TaskPage, TaskSort
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, created, ok, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

SHARES_ROUTE = "/promoter/links/{link_id}/shares"
app = build_resolver(route_scopes={SHARES_ROUTE: "shares"})  # shares have a rate limit of their own
TAGS = ["promoter"]


@app.post(
    "/promoter/profile",
    summary="Register the caller's promoter profile (tags default to standard)",
    tags=TAGS,
    responses={201: {"description": "Created", "content": {"application/json": {"model": Profile}}}},
)
def register_profile(body: ProfileCreate):  # noqa: ANN201 - a Response; its schemas are in `responses`
    promoter = principal(app, "promoter")
    return created(promoters.register(promoter.user_id, body, promoter.email))


@app.get("/promoter/tasks", summary="The caller's tasks, ranked", tags=TAGS)
def list_tasks(
    sort: Annotated[TaskSort, Query(description="global (g), personal (p) or combined (c)")] = "combined",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> TaskPage:
    promoter = principal(app, "promoter")
    return tasks.list_tasks(promoter.user_id, sort, limit, cursor)


@app.post(
    "/promoter/tasks/<product_id>/links",
    summary="The caller's tracking link for a task",
    tags=TAGS,
    responses={
        200: {"description": "The existing link", "content": {"application/json": {"model": Link}}},
        201: {"description": "Created", "content": {"application/json": {"model": Link}}},
    },
)
def create_link(product_id: str):  # noqa: ANN201 - a Response; its schemas are in `responses`
    promoter = principal(app, "promoter")
    link, is_new = links.get_or_create_link(promoter.user_id, product_id)
    return created(link) if is_new else ok(link)


@app.post(
    "/promoter/links/<link_id>/shares",
    summary="Record a share of the caller's link on a channel",
    tags=TAGS,
    responses={201: {"description": "Created", "content": {"application/json": {"model": Share}}}},
)
def share_link(link_id: str, body: ShareCreate):  # noqa: ANN201 - a Response; its schemas are in `responses`
    promoter = principal(app, "promoter")
    return created(links.record_share(promoter.user_id, link_id, body.channel))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
