"""The one place Logger, Tracer and Metrics are created; every handler imports them from here, and with them
the SnapStart hooks (``tuishou.snapstart``: registered with Lambda's runtime when it has SnapStart)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from tuishou import snapstart  # noqa: F401 - registers the before-snapshot and after-restore hooks

SERVICE = "tuishou"

logger = Logger(service=SERVICE)
# Tracing patches botocore alone, when the dal creates its first client (``trace_aws_calls``): X-Ray's
# patch-everything default would import botocore into functions that never call AWS, and patch sqlite3,
# http.client and other libraries nothing here calls through (docs/performance.md, "Cold start").
tracer = Tracer(service=SERVICE, auto_patch=False)
metrics = Metrics(service=SERVICE)


def trace_aws_calls() -> None:
    """Every AWS call becomes an X-Ray subsegment from now on (once per process; nothing with tracing off)."""
    tracer.patch(["botocore"])
