"""NotificationStreamFunction: the UsersTable's stream (new inbox items only, by FilterCriteria) ->
``tuishou.logic.notification_delivery.derive``: decides each channel and queues one delivery per channel.
A chunk that fails is answered in ``batchItemFailures`` and Lambda retries from it."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.dal.streams import changes, report
from tuishou.logic import notification_delivery
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    found = changes(event)
    metrics.add_metric(name="StreamRecords", unit=MetricUnit.Count, value=len(found))
    return report(found, notification_delivery.derive)
