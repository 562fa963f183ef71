"""Payouts: the caller's payout method (PUT/GET /promoter/payout-method, /merchant/payout-method), payout
requests and the caller's payouts (POST/GET /promoter/payouts, /merchant/payouts), and the admin list by
status (GET /admin/payouts). Sending is the PayoutFunction's (functions/payout_worker)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import payouts
from tuishou.models.payouts import (
    PayoutAccepted,
    PayoutMethod,
    PayoutMethodUpdate,
    PayoutPage,
    PayoutRequest,
    PayoutStatus,
)
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, created, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()
TAGS = ["payouts"]
Limit = Annotated[int, Query(ge=1, le=100, description="Payouts per page.")]
Cursor = Annotated[str | None, Query(max_length=1024, description="`next_cursor` of the previous page.")]
ACCEPTED: dict[int, OpenAPIResponse] = {
    202: {
        "description": "Accepted: the payout is sent asynchronously",
        "content": {"application/json": {"model": PayoutAccepted}},
    }
}


@app.put("/promoter/payout-method", summary="Set the caller's payout method (replaces the last one)", tags=TAGS)
def put_promoter_method(body: PayoutMethodUpdate) -> PayoutMethod:
    caller = principal(app, "promoter")
    return payouts.set_method(caller.user_id, caller.role, body)


@app.put("/merchant/payout-method", summary="Set the caller's payout method (replaces the last one)", tags=TAGS)
def put_merchant_method(body: PayoutMethodUpdate) -> PayoutMethod:
    caller = principal(app, "merchant")
    return payouts.set_method(caller.user_id, caller.role, body)


@app.get("/promoter/payout-method", summary="The caller's payout method", tags=TAGS)
def get_promoter_method() -> PayoutMethod:
    caller = principal(app, "promoter")
    return payouts.method_of(caller.user_id)


@app.get("/merchant/payout-method", summary="The caller's payout method", tags=TAGS)
def get_merchant_method() -> PayoutMethod:
    caller = principal(app, "merchant")
    return payouts.method_of(caller.user_id)


@app.post("/promoter/payouts", summary="Request a payout of available money", tags=TAGS, responses=ACCEPTED)
def request_promoter_payout(body: PayoutRequest):  # noqa: ANN201 - a Response; its schema is in `responses`
    caller = principal(app, "promoter")
    response = created(payouts.request_payout(caller.user_id, caller.role, body))
    response.status_code = 202
    return response


@app.post("/merchant/payouts", summary="Request a payout of available money", tags=TAGS, responses=ACCEPTED)
def request_merchant_payout(body: PayoutRequest):  # noqa: ANN201 - a Response; its schema is in `responses`
    caller = principal(app, "merchant")
    response = created(payouts.request_payout(caller.user_id, caller.role, body))
    response.status_code = 202
    return response


@app.get("/promoter/payouts", summary="The caller's payouts, newest first", tags=TAGS)
def list_promoter_payouts(limit: Limit = 20, cursor: Cursor = None) -> PayoutPage:
    caller = principal(app, "promoter")
    return payouts.user_payouts(caller.user_id, limit, cursor)


@app.get("/merchant/payouts", summary="The caller's payouts, newest first", tags=TAGS)
def list_merchant_payouts(limit: Limit = 20, cursor: Cursor = None) -> PayoutPage:
    caller = principal(app, "merchant")
    return payouts.user_payouts(caller.user_id, limit, cursor)


@app.get("/admin/payouts", summary="Payouts in one status, most recently changed first", tags=TAGS)
def list_payouts_as_admin(
    status: Annotated[PayoutStatus, Query(description="requested, sending, paid or failed.")],
    limit: Limit = 20,
    cursor: Cursor = None,
) -> PayoutPage:
    principal(app, "admin")
    return payouts.payouts_with_status(status, limit, cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
