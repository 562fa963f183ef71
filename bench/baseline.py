"""The baseline handler: the same Powertools resolver, decorators and DynamoDB client as a real function, doing
only a given list of DynamoDB operations on one small item each. A route's latency divided by the baseline's
(with the operations the route made) is the cost of its own logic over its unavoidable DynamoDB work."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from tools import template
from tools.gateway import LambdaContext as LocalContext
from tools.gateway import proxy_event
from tuishou.dal import dynamo
from tuishou.models.common import MeResponse
from tuishou.observability import logger, metrics, tracer
from tuishou.rest import build_resolver

app = build_resolver()
ROUTE = template.Route("GET", "/bench/baseline", "BaselineFunction", public=True)
_KEY = ("BENCH#baseline", "ITEM")


def _table() -> str:
    return dynamo.table("catalog")


def _one(operation: str) -> None:
    db, table, key = dynamo.client(), _table(), dynamo.key(*_KEY)
    if operation == "GetItem":
        db.get_item(TableName=table, Key=key)
    elif operation == "Query":
        db.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            Limit=1,
            ExpressionAttributeValues={":pk": {"S": _KEY[0]}},
        )
    elif operation == "PutItem":
        db.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    elif operation == "UpdateItem":
        db.update_item(
            TableName=table, Key=key, UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}}
        )
    elif operation == "DeleteItem":
        db.delete_item(TableName=table, Key=dynamo.key(_KEY[0], "GONE"))
    elif operation == "TransactWriteItems":
        db.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
        )
    elif operation == "BatchGetItem":
        db.batch_get_item(RequestItems={table: {"Keys": [key]}})
    elif operation == "BatchWriteItem":
        db.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {**key, "n": {"N": "1"}}}}]})
    elif operation == "Scan":
        db.scan(TableName=table, Limit=1)
    else:
        raise ValueError(f"no baseline for {operation}")


@app.get("/bench/baseline", include_in_schema=False)
def baseline() -> MeResponse:
    for operation in (app.current_event.get_query_string_value("ops") or "").split(","):
        if operation:
            _one(operation)
    return MeResponse(user_id="baseline", role="admin", username=None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


def seed() -> None:
    dynamo.client().put_item(TableName=_table(), Item={**dynamo.key(*_KEY), "n": {"N": "0"}})


def operations_list(operations: dict[str, int]) -> list[str]:
    """``{"GetItem": 1, "TransactWriteItems": 1}`` -> the same operations, one small item each."""
    return [name for name, count in sorted(operations.items()) for _ in range(count)]


def call(operations: list[str]) -> Any:
    event = proxy_event(ROUTE, ROUTE.path, {}, {"ops": [",".join(operations)]}, {}, b"", None)
    return lambda_handler(event, LocalContext(function_name="BaselineFunction"))
