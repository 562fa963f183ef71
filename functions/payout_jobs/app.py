"""PayoutJobsFunction (EventBridge Scheduler): daily, ``{"job": "auto_payouts"}`` requests a payout for every
user who opted in and is at or above the minimum; hourly, ``{"job": "sweep"}`` enqueues again the payouts
left requested or sending too long."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import clock, settings
from tuishou.logic import payouts
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    if event.get("job") == "auto_payouts":
        run = payouts.auto_payouts()
        metrics.add_metric(name="AutoPayoutsRequested", unit="Count", value=run.requested)
        logger.info("automatic payouts", extra=run.__dict__)
        return {"job": "auto_payouts", **run.__dict__}
    at = clock.parse_iso(event["time"]) if event.get("time") else clock.now()
    enqueued = payouts.sweep(at)
    metrics.add_metric(name="StuckPayoutsEnqueued", unit="Count", value=enqueued)
    logger.info("payout sweep", extra={"enqueued": enqueued})
    return {"job": "sweep", "enqueued": enqueued}
