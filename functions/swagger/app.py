"""GET /swagger: the Swagger UI over the OpenAPI document generated from every handler's pydantic models
(``?format=json`` returns the document itself). The document is built by ``make openapi`` and shipped in
the shared layer, because each function only sees its own code."""

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.observability import logger, metrics, tracer
from tuishou.openapi_doc import openapi_json, swagger_html
from tuishou.rest import build_resolver

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()


@app.get("/swagger", include_in_schema=False)
def swagger():  # noqa: ANN201 - raw HTML or JSON, not a model
    if app.current_event.get_query_string_value("format") == "json":
        return Response(200, content_types.APPLICATION_JSON, openapi_json())
    return Response(200, "text/html; charset=utf-8", swagger_html(spec_url="?format=json"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
