"""POST /webhooks/{provider}: signed payment notifications from Stripe and Alipay, settled exactly once.

The handler only speaks each provider's HTTP dialect: it bounds the body, hands the raw bytes to the
provider adapter (verification + parsing), settles through ``tuishou.logic.settlement``, and answers
only after the outcome is durable - Stripe with 2xx JSON (4xx/5xx make it retry), Alipay with the plain
body ``success`` (anything else makes it resend)."""

from __future__ import annotations

import base64
import time

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.dal import provider_config
from tuishou.errors import NotFound, PayloadTooLarge, TuishouError
from tuishou.logic import settlement
from tuishou.models.payments import WebhookAck
from tuishou.observability import logger, metrics, tracer
from tuishou.providers import PROVIDERS, PaymentEvent, UnreadableNotification
from tuishou.providers import alipay as alipay_provider
from tuishou.providers import stripe as stripe_provider
from tuishou.rest import MAX_BODY_BYTES, build_resolver, ok

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

app = build_resolver(rate_limited=False)  # signed by the provider, not a user: no per-user rate limit


@app.post(
    "/webhooks/<provider>",
    summary="Payment provider notification (Stripe or Alipay)",
    tags=["payments"],
    responses={
        200: {
            "description": "Durably recorded (Stripe: this JSON; Alipay: the plain body `success`)",
            "content": {"application/json": {"model": WebhookAck}},
        },
        413: {"description": "Body over 64 KiB, refused before parsing"},
        503: {"description": "Transient failure; the provider retries"},
    },
)
def receive_notification(provider: str):  # noqa: ANN201 - JSON for Stripe, plain text for Alipay
    if provider not in PROVIDERS:
        raise NotFound(f"unknown payment provider {provider!r}", field="provider")
    if provider == "alipay":
        return _alipay()
    body = _raw_body()
    try:
        event = stripe_provider.parse(body, _headers(), provider_config.stripe().webhook_secrets, int(time.time()))
    except UnreadableNotification as problem:
        return ok(WebhookAck(outcome=_reject("stripe", body, problem)))
    return ok(WebhookAck(outcome=_settle(event)))


def _alipay() -> Response:
    """Alipay resends until it reads exactly ``success``: answer that only once the outcome is durable."""
    try:
        config, body = provider_config.alipay(), _raw_body()
        try:
            event = alipay_provider.parse(body, config.app_id, config.public_key_pem, int(time.time()))
        except UnreadableNotification as problem:
            _reject("alipay", body, problem)
        else:
            _settle(event)
    except TuishouError as exc:
        logger.warning("alipay notification refused", extra={"code": exc.code, "field": exc.field})
        return Response(exc.status, content_types.TEXT_PLAIN, "failure")
    return Response(200, content_types.TEXT_PLAIN, "success")


def _settle(event: PaymentEvent | None) -> str:
    outcome = settlement.handle(event) if event is not None else settlement.Outcome.IGNORED
    metrics.add_metric(name=f"Payment_{outcome.value}", unit="Count", value=1)
    logger.info(
        "payment notification handled",
        extra={"outcome": outcome.value, "payment_id": event.payment_id if event else None},
    )
    return outcome.value


def _reject(provider: str, body: bytes, problem: UnreadableNotification) -> str:
    outcome = settlement.record_rejected(provider, body, problem)
    metrics.add_metric(name=f"Payment_{outcome.value}", unit="Count", value=1)
    return outcome.value


def _raw_body() -> bytes:
    """The exact bytes the provider signed (API Gateway hands binary bodies over base64-encoded)."""
    event = app.current_event
    body = event.body or ""
    raw = base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body larger than {MAX_BODY_BYTES} bytes", field="body")
    return raw


def _headers() -> dict[str, str]:
    return {k.lower(): v for k, v in (app.current_event.headers or {}).items()}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
