"""Hourly (EventBridge Scheduler): release held money whose holding period has ended (pending ->
available), once per hold (docs/payouts.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import clock, settings
from tuishou.logic import holds
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    at = clock.parse_iso(event["time"]) if event.get("time") else clock.now()
    run = holds.release_due(at, settings.payments().release_lookback_hours)
    metrics.add_metric(name="HoldsReleased", unit="Count", value=run.released)
    return dict(vars(run))
