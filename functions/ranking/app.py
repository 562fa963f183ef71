"""RankingRecalculationFunction: refreshes the global scores the task list reads.

Two triggers: the hourly schedule (EventBridge Scheduler) re-ranks the products whose counters changed
since the checkpoint, and starts a full re-rank when the ranking weights changed; the ranking queue carries
continuations (``{"kind": "dirty", "until"}`` or ``{"kind": "rerank", "weights"}``) when either has more
than one invocation's worth of products. A continuation that fails is reported back
(ReportBatchItemFailures): SQS retries it from the last saved checkpoint, then dead-letters it."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import clock, settings
from tuishou.logic import recalculation
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


def _report(result: recalculation.RecalculationResult) -> dict[str, int]:
    metrics.add_metric(name="TaskEntriesReranked", unit=MetricUnit.Count, value=result.reranked)
    metrics.add_metric(name="RankingProductsRead", unit=MetricUnit.Count, value=result.products)
    logger.info("ranking recalculated", extra=asdict(result))
    return asdict(result)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        failures = []
        for record in event["Records"]:
            try:
                _report(recalculation.resume(json.loads(record["body"])))
            except Exception:
                logger.exception("ranking continuation failed", extra={"message_id": record.get("messageId")})
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}
    at = clock.parse_iso(event["time"]) if event.get("time") else clock.now()
    return _report(recalculation.hourly(at))
