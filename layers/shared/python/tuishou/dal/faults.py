"""The chaos switch's storage: the SSM parameter ``/tuishou/faults`` (what to inject, and its version)
and the DynamoDB counter items that make "skip the next k" exact under concurrency."""

from __future__ import annotations

from tuishou.dal import clients, dynamo, keys


def reset() -> None:
    """Forget the cached SSM client the parameter is read with (callers reset the store between stacks)."""
    clients.ssm.cache_clear()


def read_parameter(name: str) -> tuple[str | None, int]:
    """(value, version) of the parameter; (None, 0) when it does not exist. One GetParameter (the version
    keys the budgets, which Powertools Parameters does not return, hence the direct call)."""
    try:
        found = clients.call(clients.ssm(), "get_parameter", Name=name)["Parameter"]
    except clients.ParameterNotFound:
        return None, 0
    return found["Value"], int(found.get("Version", 0))


def write_parameter(name: str, value: str) -> int:
    """Overwrite the parameter (local stack and tests); returns the new version."""
    response = clients.call(clients.ssm(), "put_parameter", Name=name, Value=value, Type="String", Overwrite=True)
    return int(response["Version"])


def claim(fault: str, version: int, budget: int) -> bool:
    """Take one firing of ``fault`` from the budget of this parameter version: one conditional UpdateItem,
    so k concurrent callers and more get exactly ``budget`` True answers."""
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("ledger"),
            Key=dynamo.key(*keys.fault_counter(fault, version)),
            UpdateExpression="ADD fired :one SET budget = :budget",
            ConditionExpression="attribute_not_exists(fired) OR fired < :budget",
            ExpressionAttributeValues={":one": {"N": "1"}, ":budget": {"N": str(budget)}},
        )
        is not None
    )
