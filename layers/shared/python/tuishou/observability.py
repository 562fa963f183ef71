"""The one place Logger, Tracer and Metrics are created; every handler imports them from here."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "tuishou"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)
