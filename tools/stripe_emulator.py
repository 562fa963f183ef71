"""A small Stripe API for the local stack: ``POST /v1/transfers`` to a connected account, ``GET
/v1/transfers`` (by ``transfer_group``) and ``GET /v1/transfers/{id}``, answering Stripe's JSON shapes. It
checks the secret key (``Authorization: Bearer sk_...``), honours ``Idempotency-Key`` as Stripe does (a
repeat gets the first answer with ``Idempotent-Replayed: true``; the same key with other parameters is a 400
``idempotency_error``; a request refused by validation saves nothing), and refuses a destination that is
not ``acct_`` and letters or digits (400 ``account_invalid``). ``make local`` starts it and points
``TUISHOU_STRIPE_API_BASE`` at it.

Faults (``PUT /_local/faults``): ``payout.fail`` refuses the next transfers with ``account_invalid``;
``payout.timeout_then_succeed`` makes them and answers after the caller's timeout. ``refuse_account(id)``
makes a connected account invalid. ``GET /_emulator/transfers`` lists every key with its counts."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tools.payout_emulation import EmulatorHandler, EmulatorServer, TransferRecord, fires
from tuishou import money
from tuishou.logic import faults

ACCOUNT = re.compile(r"acct_[A-Za-z0-9]+")
TRANSFER_PATH = re.compile(r"/v1/transfers/(tr_[A-Za-z0-9]+)")
Answer = tuple[int, dict[str, Any]]


class StripeEmulator(EmulatorServer):
    name = "stripe-emulator"

    def __init__(self, secret_key: str) -> None:
        super().__init__()
        self.secret_key = secret_key
        self._invalid_accounts: set[str] = set()

    def _handler(self) -> type[EmulatorHandler]:
        return _Handler

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._invalid_accounts.clear()

    def refuse_account(self, account_id: str) -> None:
        with self._lock:
            self._invalid_accounts.add(account_id)

    # ------------------------------------------------------------------ the API
    def authorised(self, authorization: str | None) -> bool:
        return secrets.compare_digest((authorization or "").encode(), f"Bearer {self.secret_key}".encode())

    def create_transfer(self, form: dict[str, str], key: str | None) -> tuple[Answer, bool, bool]:
        """((status, body), replayed, late) for one ``POST /v1/transfers``."""
        with self._lock:
            first = self.transfers.get(key) if key else None
            if first is not None:
                if first.params != form:
                    message = (
                        "Keys for idempotent requests can only be used with the same parameters they were first"
                        f" used with. Try using a key other than '{key}' if you meant to execute a different request."
                    )
                    return (400, _error("idempotency_error", None, None, message)), False, False
                first.requests += 1
                return first.answer, True, False
            invalid = _validation_problem(form)
            if invalid is not None:  # refused before it ran: Stripe saves no idempotent result
                return invalid, False, False
            transfer_id = f"tr_{secrets.token_hex(12)}"
            destination, amount, currency = form["destination"], int(form["amount"]), form["currency"]
            key = key or transfer_id  # a request without a key is counted under its transfer
            if not ACCOUNT.fullmatch(destination) or destination in self._invalid_accounts or fires(faults.PAYOUT_FAIL):
                answer: Answer = (
                    400,
                    _error(
                        "invalid_request_error",
                        "account_invalid",
                        "destination",
                        f"The destination account '{destination}' is invalid or cannot receive transfers.",
                    ),
                )
                record = TransferRecord(key, "failed", amount, currency, destination, None, 0, answer)
            else:
                answer = (200, _transfer_object(transfer_id, form))
                record = TransferRecord(key, "paid", amount, currency, destination, transfer_id, 1, answer)
            record.params = form
            self.transfers[record.key] = record
            late = record.count_sent == 1 and fires(faults.PAYOUT_TIMEOUT_THEN_SUCCEED)
        return answer, False, late

    def list_transfers(self, query: dict[str, str]) -> Answer:
        try:
            limit = min(max(int(query.get("limit", "10")), 1), 100)
        except ValueError:
            return 400, _error("invalid_request_error", "parameter_invalid_integer", "limit", "Invalid integer: limit")
        group = query.get("transfer_group")
        with self._lock:
            found = [
                r.answer[1]
                for r in sorted(self.transfers.values(), key=lambda r: r.created_at, reverse=True)
                if r.count_sent and (group is None or r.answer[1].get("transfer_group") == group)
            ]
        return 200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": "/v1/transfers"}

    def get_transfer(self, transfer_id: str) -> Answer:
        with self._lock:
            for record in self.transfers.values():
                if record.reference == transfer_id:
                    return 200, record.answer[1]
        return 404, _error("invalid_request_error", "resource_missing", "id", f"No such transfer: '{transfer_id}'")


def _validation_problem(form: dict[str, str]) -> Answer | None:
    for name in ("amount", "currency", "destination"):
        if not form.get(name):
            return 400, _error("invalid_request_error", "parameter_missing", name, f"Missing required param: {name}.")
    if not form["amount"].isdigit() or int(form["amount"]) < 1:
        return 400, _error("invalid_request_error", "parameter_invalid_integer", "amount", "Invalid integer: amount")
    if form["currency"] != form["currency"].lower() or not money.is_currency(form["currency"].upper()):
        return 400, _error("invalid_request_error", None, "currency", f"Invalid currency: {form['currency']}.")
    return None


def _transfer_object(transfer_id: str, form: dict[str, str]) -> dict[str, Any]:
    metadata = {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[") and k.endswith("]")}
    return {
        "id": transfer_id,
        "object": "transfer",
        "amount": int(form["amount"]),
        "amount_reversed": 0,
        "balance_transaction": f"txn_{secrets.token_hex(12)}",
        "created": int(time.time()),
        "currency": form["currency"],
        "description": form.get("description"),
        "destination": form["destination"],
        "destination_payment": f"py_{secrets.token_hex(12)}",
        "livemode": False,
        "metadata": metadata,
        "reversals": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/transfers/{transfer_id}/reversals",
        },
        "reversed": False,
        "source_transaction": None,
        "source_type": "card",
        "transfer_group": form.get("transfer_group"),
    }


def _error(kind: str, code: str | None, param: str | None, message: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return {"error": error}


class _Handler(EmulatorHandler):
    emulator: StripeEmulator

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/_emulator/transfers":
            self._json(200, {"items": self.emulator.listing()})
        elif not self.emulator.authorised(self.headers.get("Authorization")):
            self._unauthorised()
        elif url.path == "/v1/transfers":
            self._json(*self.emulator.list_transfers(query))
        elif match := TRANSFER_PATH.fullmatch(url.path):
            self._json(*self.emulator.get_transfer(match.group(1)))
        else:
            self._json(404, _error("invalid_request_error", None, None, f"Unrecognized request URL (GET: {url.path})."))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if not self.emulator.authorised(self.headers.get("Authorization")):
            self._unauthorised()
            return
        if url.path != "/v1/transfers":
            message = f"Unrecognized request URL (POST: {url.path})."
            self._json(404, _error("invalid_request_error", None, None, message))
            return
        try:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            form = {}
        (status, answer), replayed, late = self.emulator.create_transfer(form, self.headers.get("Idempotency-Key"))
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        self._json(status, answer, headers, late)

    def _unauthorised(self) -> None:
        message = "Invalid API Key provided. You did not provide a valid Bearer secret key."
        self._json(401, _error("invalid_request_error", None, None, message))

    def _json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None, late: bool = False
    ) -> None:
        headers = {"Request-Id": f"req_{secrets.token_hex(7)}", **(headers or {})}
        self._answer(status, json.dumps(payload).encode(), "application/json", headers, late)
