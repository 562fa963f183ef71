"""Integrity: the review queue of held commissions (admins), the caller's reviewed commissions
(promoters), and who a merchant's checkouts are paid to at the providers (merchants)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import merchant_payments, reviews
from tuishou.models.payments import MerchantPaymentSettings, MerchantPaymentSettingsIn
from tuishou.models.reviews import CommissionPage, CommissionStatus, Review, ReviewDecline, ReviewPage, ReviewStatus
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver, principal

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver()
TAGS = ["integrity"]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=1024, description="`next_cursor` of the previous page.")]
ReviewId = Annotated[str, Path(max_length=64, description="The review's id (`rev_...`).")]


@app.get("/admin/reviews", summary="Reviews of held commissions in one status, newest first", tags=TAGS)
def list_reviews(
    status: Annotated[ReviewStatus, Query(description="open, approved or declined.")] = "open",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ReviewPage:
    principal(app, "admin")
    return reviews.list_reviews(status, limit, cursor)


@app.post("/admin/reviews/<review_id>/approve", summary="Grant a held commission to the promoter", tags=TAGS)
def approve_review(review_id: ReviewId) -> Review:
    admin = principal(app, "admin")
    return reviews.approve(review_id, admin.user_id)


@app.post(
    "/admin/reviews/<review_id>/decline", summary="Decline a held commission (final: the merchant keeps it)", tags=TAGS
)
def decline_review(review_id: ReviewId, body: ReviewDecline) -> Review:
    admin = principal(app, "admin")
    return reviews.decline(review_id, admin.user_id, body.reason)


@app.get("/promoter/commissions", summary="The caller's commissions held for review, by outcome", tags=TAGS)
def list_my_commissions(
    status: Annotated[CommissionStatus, Query(description="held, granted or declined.")] = "held",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CommissionPage:
    promoter = principal(app, "promoter")
    return reviews.promoter_commissions(promoter.user_id, status, limit, cursor)


@app.put("/merchant/payment-settings", summary="Who the caller's checkouts are paid to at the providers", tags=TAGS)
def put_payment_settings(body: MerchantPaymentSettingsIn) -> MerchantPaymentSettings:
    merchant = principal(app, "merchant")
    return merchant_payments.put_settings(merchant.user_id, body)


@app.get("/merchant/payment-settings", summary="The caller's payment settings", tags=TAGS)
def get_payment_settings() -> MerchantPaymentSettings:
    merchant = principal(app, "merchant")
    return merchant_payments.get_settings(merchant.user_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
