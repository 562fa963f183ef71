"""The one place Logger, Tracer and Metrics are created; every handler imports them from here, and with them
the SnapStart hooks (``tuishou.snapstart``: registered with Lambda's runtime when it has SnapStart)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from tuishou import snapstart  # noqa: F401 - registers the before-snapshot and after-restore hooks

SERVICE = "tuishou"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)
