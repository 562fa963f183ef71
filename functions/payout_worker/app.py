"""PayoutFunction: one message of the PayoutQueue -> one payout sent to Alipay or Stripe, exactly once
(``tuishou.logic.payouts.send``). A message whose outcome is unknown is reported in ``batchItemFailures``:
the queue retries it after its visibility timeout, and the retry asks the provider before sending again."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from tuishou import settings
from tuishou.dal import payout_providers  # noqa: F401 - loaded at init (the SnapStart snapshot), not by the first payout
from tuishou.logic import payouts
from tuishou.observability import logger, metrics, tracer

settings.load()  # a bad TUISHOU_* variable fails the cold start, naming it


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return payouts.handle_messages(event)
