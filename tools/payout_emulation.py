"""What the local payout provider emulators (tools/alipay_emulator.py, tools/stripe_emulator.py) share: a
threaded HTTP server on 127.0.0.1, the record of each idempotency key's transfer (how many requests
carried the key, how many transfers it made: never more than one), the fault switches they consume, and
the late answer of ``payout.timeout_then_succeed``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LATE_MARGIN_SECONDS = 0.5  # how far past the caller's timeout a late answer comes


@dataclass
class TransferRecord:
    """One idempotency key (Alipay ``out_biz_no``, Stripe ``Idempotency-Key``) and the first answer to it."""

    key: str
    status: str
    amount: str | int
    currency: str
    payee: str
    reference: str | None
    count_sent: int  # transfers made for this key: 1 at most, whatever the repeats
    answer: Any  # the first answer, replayed to every repeat
    params: Any = None  # what the first request asked (a repeat must ask the same)
    requests: int = 1
    created_at: float = field(default_factory=time.time)

    def listing(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "count_sent": self.count_sent,
            "requests": self.requests,
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "payee": self.payee,
            "reference": self.reference,
        }


def fires(fault: str) -> bool:
    """Whether the fault switch (``PUT /_local/faults``) makes this request ``fault``: the emulators run in
    the local stack's process, so they spend the same budgets the functions would."""
    from tuishou.logic import faults

    return faults.fire(fault)


def late_answer_seconds() -> float:
    """How long a ``payout.timeout_then_succeed`` answer waits: just past the caller's timeout."""
    from tuishou import settings

    return settings.payout_providers().timeout_seconds + LATE_MARGIN_SECONDS


class EmulatorServer:
    """A threaded HTTP server on 127.0.0.1 serving ``handler`` (a ``EmulatorHandler`` subclass)."""

    name = "emulator"

    def __init__(self) -> None:
        self.transfers: dict[str, TransferRecord] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _handler(self) -> type[EmulatorHandler]:
        raise NotImplementedError

    def start(self, port: int = 0) -> EmulatorServer:
        handler = type(f"{type(self).__name__}Handler", (self._handler(),), {"emulator": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget every transfer (and whatever refusals a subclass configured)."""
        with self._lock:
            self.transfers.clear()

    def listing(self) -> list[dict[str, Any]]:
        """Every key's record, oldest first (``GET /_emulator/transfers``)."""
        with self._lock:
            records = sorted(self.transfers.values(), key=lambda r: r.created_at)
            return [r.listing() for r in records]


class EmulatorHandler(BaseHTTPRequestHandler):
    emulator: Any
    protocol_version = "HTTP/1.1"

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None, late: bool = False
    ) -> None:
        if late:
            time.sleep(late_answer_seconds())  # the transfer is made; the caller has given up by now
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the caller timed out and closed the connection: as a provider, we do not care

    def log_message(self, fmt: str, *args: Any) -> None:
        pass  # the local stack prints what matters itself
