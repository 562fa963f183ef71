"""DynamoDB fault injection: a botocore ``before-call`` hook on the shared client that answers chosen calls
with a throttling or transient error instead of sending them (as DynamoDB would after its retries ran out)."""

from __future__ import annotations

import threading
from typing import Any

from botocore.awsrequest import AWSResponse

from tuishou.dal import dynamo


class DynamoFaults:
    """``fail(code, count, skip)``: let ``skip`` calls through, then fail the next ``count`` calls with ``code``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._skip = self._remaining = 0
        self._code = ""
        self.injected: list[str] = []
        self.passed: list[str] = []
        dynamo.client().meta.events.register("before-call.dynamodb", self._before_call)

    def fail(self, code: str = "ProvisionedThroughputExceededException", count: int = 1, skip: int = 0) -> None:
        with self._lock:
            self._code, self._remaining, self._skip = code, count, skip

    def off(self) -> None:
        self.fail(count=0)

    def _before_call(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        with self._lock:
            if self._skip > 0 or self._remaining <= 0:
                self._skip = max(0, self._skip - 1)
                self.passed.append(model.name)
                return None
            self._remaining -= 1
            self.injected.append(model.name)
            code = self._code
        status = 500 if code == "InternalServerError" else 400
        parsed = {"Error": {"Code": code, "Message": "injected fault"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://dynamodb.local", status, {}, None), parsed
