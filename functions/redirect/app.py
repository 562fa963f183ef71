"""GET /l/{code} (public): record a click (one PutItem; counted by the tracking stream consumer) and redirect to
the product's landing URL with ``tsclid``. Served by the HTTP API ``LinkApi`` (payload v2), not the REST API:
clicks are most of the platform's requests, and an HTTP API request costs less than a third of a REST one."""

from html import escape
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.errors import Gone, NotFound
from tuishou.logic import links
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver(http_api=True, rate_limited=False)  # public and read-only: no per-user rate limit
_NO_STORE = {"Cache-Control": "no-store"}


def _page(status: int, title: str, text: str) -> Response:
    body = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>"
    )
    return Response(status, "text/html; charset=utf-8", body, headers=_NO_STORE)


@app.get(
    "/l/<code>",
    summary="Follow a tracking link (records a click, then 302 to the landing page)",
    tags=["links"],
    responses={
        302: {"description": "Redirect to the landing URL with `tsclid=<click_id>`"},
        410: {"description": "The product is paused"},
    },
)
def follow_link(  # noqa: ANN201 - a redirect or an HTML page, described in `responses`
    code: str,
    ch: Annotated[
        list[str] | None,
        Query(
            description="Channel marker of a share URL. Repeated or unknown "
            "markers never fail a visitor: the first known channel "
            "counts (`other` if none is known)."
        ),
    ] = None,
):
    # A list, so that no query string can fail validation: a visitor is redirected, never shown a JSON error.
    # Payload v2 joins a repeated `ch` with commas; the resolver splits it back into the list, in order.
    http = app.current_event.request_context.http
    requester = links.Requester(source_ip=http.source_ip, user_agent=http.user_agent)
    try:
        location = links.record_click(code, ch or [], requester)
    except NotFound:
        return _page(404, "Link not found", "This link does not exist.")
    except Gone:
        return _page(410, "Offer ended", "This product is no longer promoted.")
    return Response(302, "text/plain; charset=utf-8", "", headers={"Location": location, **_NO_STORE})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
