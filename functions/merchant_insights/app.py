"""Daily (EventBridge Scheduler): low-performance alerts and raise-reward hints for merchants, each sent
once per period (docs/insights.md).

Two triggers: the schedule sends one message per merchant shard of the active-task index to the insights
queue; each queued message is one page of one shard (``{"shard", "time", "start"}``), and a shard with more
active tasks than a page continues in a further message. A page that fails is reported back
(ReportBatchItemFailures): SQS retries it and the dedup markers send only what was not sent."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import clock, settings
from tuishou.dal import insights as insights_dal
from tuishou.logic import insights
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


def _page(message: dict[str, Any]) -> dict[str, Any]:
    at = clock.parse_iso(message["time"])
    result, start = insights.run_shard(int(message["shard"]), at, message.get("start"))
    if start is not None:  # the shard's next page: a fresh invocation, a fresh time budget
        insights_dal.enqueue([{**message, "start": start}])
    metrics.add_metric(name="LowPerformanceAlertsSent", unit=MetricUnit.Count, value=result.alerts_sent)
    metrics.add_metric(name="RaiseRewardHintsSent", unit=MetricUnit.Count, value=result.hints_sent)
    summary = {"shard": message["shard"], "continues": start is not None, **result.summary()}
    logger.info("merchant insights page", extra=summary)
    return summary


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        failures, pages = [], []
        for record in event["Records"]:
            try:
                pages.append(_page(json.loads(record["body"])))
            except Exception:
                logger.exception("merchant insights page failed", extra={"message_id": record.get("messageId")})
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures, "pages": pages}
    at = clock.parse_iso(event["time"]) if event.get("time") else clock.now()
    shards = insights_dal.active_task_shards()
    insights_dal.enqueue([{"shard": shard, "time": clock.iso(at)} for shard in shards])
    logger.info("merchant insights fanned out", extra={"shards": len(shards)})
    return {"shards": len(shards), "time": clock.iso(at)}
