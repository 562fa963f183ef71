"""Hourly (EventBridge Scheduler): remind promoters whose channel bonus task is at risk, once per task.
(``channel_bonus`` grants a crash left undone are found by the compensation scan, not here.)"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import clock, settings
from tuishou.logic import channel_tasks
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    at = clock.parse_iso(event["time"]) if event.get("time") else clock.now()
    lookback = settings.notifications().reminder_lookback_hours
    scan = channel_tasks.scan_reminders(at, lookback)
    metrics.add_metric(name="DeadlineRemindersSent", unit="Count", value=scan.sent)
    logger.info("reminder scan", extra=scan.__dict__)
    return dict(scan.__dict__)
