"""GET /me: who the caller is (as the verified token says) and their settings; PATCH /me changes them."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import me
from tuishou.models.common import MeResponse, MeUpdate
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()


@app.get("/me", summary="The caller's identity, role, language and time zone", tags=["me"])
def get_me() -> MeResponse:
    return me.me(principal(app))


@app.patch("/me", summary="Change the caller's language or time zone (any role)", tags=["me"])
def update_me(body: MeUpdate) -> MeResponse:
    return me.update(principal(app), body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
