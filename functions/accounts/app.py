"""Ledger accounts: GET /promoter/account, GET /merchant/account, the monthly CSV statements
GET /{promoter,merchant}/statements/{yyyy-mm}, GET /admin/accounts/{user_id}, the admin
lists of unattributed payments GET /admin/payments/unattributed and of rejected provider notifications
GET /admin/payments/rejected, and the ledger audit GET /admin/ledger/audit."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import accounts
from tuishou.logic.ledger import audit_ledger
from tuishou.models.ledger import LedgerAuditReport
from tuishou.models.payments import (
    ACCOUNT_ID_PATTERN,
    AccountResponse,
    RejectedNotificationsResponse,
    UnattributedPaymentsResponse,
)
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=100, description="Entries per page.")]
Cursor = Annotated[str | None, Query(max_length=512, description="`next_cursor` of the previous page.")]


@app.get("/promoter/account", summary="The caller's promoter account: balances and entries", tags=["accounts"])
def get_promoter_account(limit: Limit = 20, cursor: Cursor = None) -> AccountResponse:
    caller = principal(app, "promoter")
    return accounts.statement(caller.user_id, limit, cursor)


@app.get("/merchant/account", summary="The caller's merchant account: balances and entries", tags=["accounts"])
def get_merchant_account(limit: Limit = 20, cursor: Cursor = None) -> AccountResponse:
    caller = principal(app, "merchant")
    return accounts.statement(caller.user_id, limit, cursor)


Month = Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, in the user's time zone.")]
CSV_RESPONSE: dict[int, OpenAPIResponse] = {
    200: {"description": "The statement as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
}


@app.get(
    "/promoter/statements/<month>",
    summary="The caller's monthly statement (CSV): opening balance, entries, closing balance per currency",
    tags=["accounts"],
    responses=CSV_RESPONSE,
)
def get_promoter_statement(month: Month):  # noqa: ANN201 - a CSV Response; its schema is in `responses`
    caller = principal(app, "promoter")
    return _csv(accounts.monthly_statement_csv(caller.user_id, month), f"tuishou-statement-{month}.csv")


@app.get(
    "/merchant/statements/<month>",
    summary="The caller's monthly statement (CSV): opening balance, entries, closing balance per currency",
    tags=["accounts"],
    responses=CSV_RESPONSE,
)
def get_merchant_statement(month: Month):  # noqa: ANN201 - a CSV Response; its schema is in `responses`
    caller = principal(app, "merchant")
    return _csv(accounts.monthly_statement_csv(caller.user_id, month), f"tuishou-statement-{month}.csv")


def _csv(body: str, filename: str) -> Response:
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=body,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@app.get("/admin/accounts/<user_id>", summary="Any account (users and system accounts), for admins", tags=["accounts"])
def get_account_as_admin(
    user_id: Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN)], limit: Limit = 20, cursor: Cursor = None
) -> AccountResponse:
    principal(app, "admin")
    return accounts.statement(user_id, limit, cursor)


@app.get(
    "/admin/payments/unattributed", summary="Payments that could not be attributed, newest first", tags=["accounts"]
)
def list_unattributed_payments(limit: Limit = 20, cursor: Cursor = None) -> UnattributedPaymentsResponse:
    principal(app, "admin")
    return accounts.unattributed_payments(limit, cursor)


@app.get(
    "/admin/payments/rejected",
    summary="Verified provider notifications that could not be read, newest first",
    tags=["accounts"],
)
def list_rejected_notifications(limit: Limit = 20, cursor: Cursor = None) -> RejectedNotificationsResponse:
    principal(app, "admin")
    return accounts.rejected_notifications(limit, cursor)


@app.get("/admin/ledger/audit", summary="Check the whole ledger's invariants (a full table Scan)", tags=["accounts"])
def audit_the_ledger() -> LedgerAuditReport:
    principal(app, "admin")
    return audit_ledger()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
