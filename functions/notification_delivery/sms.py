"""SmsDeliveryFunction: one message of the SmsDeliveryQueue -> one notification texted to the user's verified
phone (SNS, transactional; the only function allowed to text), claimed so it goes out once. A failed message
is reported in ``batchItemFailures``: the queue retries it, then dead-letters it."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.logic import notification_delivery
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return notification_delivery.handle_messages(event, "sms")
