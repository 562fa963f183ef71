"""CompensationScanFunction: runs compensation scans.

Two triggers: the hourly schedule (EventBridge Scheduler) starts a rolling sweep; the SQS queue carries
``{"scan_id"}`` messages — a fault window an admin declared, or the continuation of a run that stopped
before the Lambda time limit. A run continues from its last committed page; when time runs short it
enqueues its own continuation and returns. A message whose run fails is reported back
(ReportBatchItemFailures) so SQS retries it; on its last receive (the queue's redrive maxReceiveCount)
the run is parked — reported ``failed`` with the reason — and SQS dead-letters the message. A sweep that
fails is parked at once (the scheduler's retry starts a new sweep)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import clock, settings
from tuishou.dal import compensation as store
from tuishou.logic import compensation
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it

MAX_RECEIVES = 5  # CompensationScanQueue's RedrivePolicy maxReceiveCount (template.yaml; a test checks them)


def _continue(scan_id: str, context: LambdaContext) -> dict[str, Any]:
    max_pages = settings.compensation().max_pages_per_invocation or None
    result = compensation.run(scan_id, context.get_remaining_time_in_millis, max_pages)
    if result.status == "running":
        store.enqueue(scan_id)  # the continuation: a fresh invocation, a fresh time budget
    counts = result.counts
    for name in ("examined", "already_granted", "compensated", "flagged", "errors"):
        metrics.add_metric(
            name=f"Compensation{name.title().replace('_', '')}", unit=MetricUnit.Count, value=getattr(counts, name)
        )
    logger.info(
        "compensation scan progress",
        extra={"scan_id": scan_id, "status": result.status, "pages": result.pages, **counts.__dict__},
    )
    return {"scan_id": scan_id, "status": result.status, "pages": result.pages, **counts.__dict__}


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        failures = []
        for record in event["Records"]:
            scan_id = json.loads(record["body"])["scan_id"]
            try:
                _continue(scan_id, context)
            except Exception as error:
                logger.exception("compensation scan run failed", extra={"message_id": record.get("messageId")})
                if _last_receive(record):
                    compensation.park(scan_id, error)
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}
    at = clock.parse_iso(event["time"]) if event.get("time") else None
    scan_id = compensation.start_sweep(at)
    try:
        return _continue(scan_id, context)
    except Exception as error:
        compensation.park(scan_id, error)
        raise


def _last_receive(record: dict[str, Any]) -> bool:
    """SQS will dead-letter the message rather than deliver it again."""
    return int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1)) >= MAX_RECEIVES
