"""Scheduled (EventBridge Scheduler, hourly): refresh the global scores the task list reads."""

from dataclasses import asdict

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic.recalculation import recalculate
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    result = recalculate()
    metrics.add_metric(name="TaskEntriesReranked", unit=MetricUnit.Count, value=result.reranked)
    logger.info("ranking recalculated", extra=asdict(result))
    return asdict(result)
