"""Administration: set a promoter's tags."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import promoters
from tuishou.models.tasks import Profile, TagsUpdate
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()


@app.put("/admin/promoters/<promoter_id>/tags", summary="Replace a promoter's tags", tags=["admin"])
def set_promoter_tags(promoter_id: str, body: TagsUpdate) -> Profile:
    principal(app, "admin")
    return promoters.set_tags(promoter_id, body.tags)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
