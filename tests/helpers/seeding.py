"""Seeds large data sets fast: the ``TransactWriteItems`` items the code under test builds (its own item
builders) are folded in memory into the final items, which are then written with ``BatchWriteItem``.

moto copies a whole table for every item of a transaction (to roll back), so seeding hundreds of items
through transactions grows quadratically; the final items are the same either way. Only what the item
builders use is understood: ``Put``, and ``Update`` with ``SET a = :v`` / ``ADD a :v`` clauses; the
conditions ``attribute_not_exists(pk)`` and ``attribute_exists(pk)`` are checked, any other is refused."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tuishou.dal import dynamo

_CLAUSE = re.compile(r"\b(SET|ADD)\s+", re.IGNORECASE)


class BatchSeeder:
    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str], dict[str, Any]] = {}  # (table, pk, sk) -> typed item

    def __enter__(self) -> BatchSeeder:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.flush()

    def transact(self, items: list[dict[str, Any]]) -> None:
        """What ``transact_write_items(TransactItems=items)`` would have left in the tables."""
        for entry in items:
            ((kind, body),) = entry.items()
            if kind == "Put":
                self._check(body, body["Item"])
                self._items[self._key(body["TableName"], body["Item"])] = dict(body["Item"])
            elif kind == "Update":
                self._check(body, body["Key"])
                self._update(body)
            elif kind != "ConditionCheck":
                raise NotImplementedError(kind)

    def put(self, table: str, item: dict[str, Any]) -> None:
        """A plain item (python values), as ``put_item`` would write it."""
        typed = dynamo.to_item(item)
        self._items[self._key(table, typed)] = typed

    def flush(self) -> None:
        by_table: dict[str, list[dict[str, Any]]] = {}
        for (table, _pk, _sk), item in self._items.items():
            by_table.setdefault(table, []).append({"PutRequest": {"Item": item}})
        client = dynamo.client()
        for table, requests in by_table.items():
            for start in range(0, len(requests), 25):
                pending = {table: requests[start : start + 25]}
                while pending:
                    pending = client.batch_write_item(RequestItems=pending)["UnprocessedItems"]
        self._items.clear()

    # ------------------------------------------------------------------ folding
    @staticmethod
    def _key(table: str, item: dict[str, Any]) -> tuple[str, str, str]:
        return table, item["pk"]["S"], item.get("sk", {}).get("S", "")

    def _current(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        index = self._key(table, key)
        if index not in self._items:
            found = dynamo.client().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            if found is None:
                return None
            self._items[index] = found
        return self._items[index]

    def _check(self, body: dict[str, Any], key: dict[str, Any]) -> None:
        condition = body.get("ConditionExpression")
        if condition is None:
            return
        exists = self._current(body["TableName"], {"pk": key["pk"], **({"sk": key["sk"]} if "sk" in key else {})})
        if condition.strip() == "attribute_not_exists(pk)":
            assert exists is None, f"seeding would fail the condition {condition}: {key}"
        elif condition.strip() == "attribute_exists(pk)":
            assert exists is not None, f"seeding would fail the condition {condition}: {key}"
        else:
            raise NotImplementedError(condition)

    def _update(self, body: dict[str, Any]) -> None:
        item = self._current(body["TableName"], body["Key"])
        if item is None:
            item = self._items[self._key(body["TableName"], body["Key"])] = dict(body["Key"])
        names = body.get("ExpressionAttributeNames", {})
        values = body.get("ExpressionAttributeValues", {})
        parts = _CLAUSE.split(body["UpdateExpression"])
        for verb, clause in zip(parts[1::2], parts[2::2], strict=True):
            for action in filter(None, (a.strip() for a in clause.split(","))):
                if verb.upper() == "SET":
                    name, value = (s.strip() for s in action.split("="))
                    item[names.get(name, name)] = values[value]
                else:
                    name, value = action.split()
                    name = names.get(name, name)
                    total = Decimal(item.get(name, {"N": "0"})["N"]) + Decimal(values[value]["N"])
                    item[name] = {"N": str(total)}
