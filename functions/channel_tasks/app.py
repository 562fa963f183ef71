"""Channel bonus tasks: admin templates, the promoter's offers and tasks, accepting a task, and the merchant's
lookup of a quota-rescue coupon."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import channel_tasks, coupons
from tuishou.models.channel_tasks import (
    ChannelTaskList,
    ChannelTaskTemplate,
    ChannelTaskTemplateIn,
    ChannelTaskTemplateList,
    ChannelTaskView,
    MerchantCoupon,
)
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, created, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()


@app.post(
    "/admin/channel-task-templates",
    summary="Define a channel bonus template",
    tags=["channel tasks"],
    responses={
        201: {
            "description": "Created; it becomes its channel's offer.",
            "content": {"application/json": {"model": ChannelTaskTemplate}},
        }
    },
)
def create_template(body: ChannelTaskTemplateIn):  # noqa: ANN201 - 201 with the model (see responses)
    principal(app, "admin")
    return created(channel_tasks.create_template(body))


@app.get("/admin/channel-task-templates", summary="List channel bonus templates, newest first", tags=["channel tasks"])
def list_templates() -> ChannelTaskTemplateList:
    principal(app, "admin")
    return channel_tasks.list_templates()


@app.get(
    "/promoter/channel-tasks",
    summary="The caller's channel bonus offers and tasks with progress",
    tags=["channel tasks"],
)
def list_tasks() -> ChannelTaskList:
    caller = principal(app, "promoter")
    return channel_tasks.list_for_promoter(caller.user_id)


@app.post(
    "/promoter/channel-tasks/<template_id>/accept",
    summary="Accept a channel bonus task",
    tags=["channel tasks"],
    responses={
        201: {
            "description": "Started: the deadline is now + duration.",
            "content": {"application/json": {"model": ChannelTaskView}},
        }
    },
)
def accept(template_id: Annotated[str, Path(max_length=40)]):  # noqa: ANN201 - 201 with the model
    caller = principal(app, "promoter")
    return created(channel_tasks.accept(caller.user_id, template_id))


@app.get(
    "/merchant/coupons/<code>",
    summary="A coupon of one of the caller's products, by code: valid, redeemed or expired",
    tags=["channel tasks"],
)
def get_coupon(code: Annotated[str, Path(max_length=64)]) -> MerchantCoupon:
    caller = principal(app, "merchant")
    return coupons.merchant_coupon(caller.user_id, code)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
