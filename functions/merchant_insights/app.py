"""Daily (EventBridge Scheduler): low-performance alerts and raise-reward hints for merchants, each sent
once per period (docs/insights.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import clock, settings
from tuishou.logic import insights
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    at = clock.parse_iso(event["time"]) if event.get("time") else clock.now()
    result = insights.run(at)
    metrics.add_metric(name="LowPerformanceAlertsSent", unit="Count", value=result.alerts_sent)
    metrics.add_metric(name="RaiseRewardHintsSent", unit="Count", value=result.hints_sent)
    summary = {
        "window": list(result.window),
        "period": result.period,
        "active_tasks": result.active_tasks,
        "alerts_sent": result.alerts_sent,
        "hints_sent": result.hints_sent,
        "already_sent": result.already_sent,
        "notifications": result.notifications,
    }
    logger.info("merchant insights run", extra=summary)
    return summary
