"""Merchant insights routes: per-promoter reward overrides and a product's stats over a window."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import product_stats, reward_overrides
from tuishou.models.insights import ProductStats, RewardOverride
from tuishou.models.rewards import RewardOverrideBody
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()
TAGS = ["merchant insights"]


@app.put(
    "/merchant/products/<product_id>/promoter-rewards/<promoter_id>",
    tags=TAGS,
    summary="Pay one promoter differently on this product (beats the tag rule in listing, links and settlement)",
)
def put_promoter_reward(product_id: str, promoter_id: str, body: RewardOverrideBody) -> RewardOverride:
    merchant = principal(app, "merchant")
    return reward_overrides.set_override(merchant.user_id, product_id, promoter_id, body)


@app.delete(
    "/merchant/products/<product_id>/promoter-rewards/<promoter_id>",
    tags=TAGS,
    summary="Remove a promoter's override (the tag rule applies again)",
    responses={204: {"description": "Removed (or there was none)"}},
)
def delete_promoter_reward(product_id: str, promoter_id: str):  # noqa: ANN201 - a 204 Response, no body
    merchant = principal(app, "merchant")
    reward_overrides.remove_override(merchant.user_id, product_id, promoter_id)
    return Response(status_code=204, body="")


@app.get(
    "/merchant/products/<product_id>/stats",
    tags=TAGS,
    summary="Clicks, promotions, sales, revenue, commission and conversion per day, top promoters and channels",
)
def get_product_stats(
    product_id: str,
    days: Annotated[
        int, Query(ge=1, le=product_stats.MAX_DAYS, description="Window length in UTC days, ending today")
    ] = 7,
) -> ProductStats:
    merchant = principal(app, "merchant")
    return product_stats.product_stats(merchant.user_id, product_id, days)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
