"""``make soak``: the local stack under a bounded mixed load, then the ledger invariants over the whole table.

The parent process starts moto and the local gateway on free loopback ports (127.0.0.1 only), then runs the
load from a second process (``--client``) over HTTP: listing, clicks, shares, Stripe and Alipay payments,
partial refunds and duplicate deliveries, ``--requests`` in all (default 500). When the client is done
(or after ``--timeout`` seconds) the parent scans the ledger and checks: every transaction balances per
currency; every balance equals the sum of its entries; each payment settled at most once (one sale
transaction per settlement record, no account twice in it); refunds never take back more than was posted.
It prints a report and exits 1 on a violation."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from tools import template

WEIGHTS = {
    "listing": 20,
    "click": 25,
    "share": 15,
    "stripe_payment": 15,
    "alipay_payment": 8,
    "refund": 7,
    "duplicate": 10,
}


# ---------------------------------------------------------------- the load (second process)
class Client:
    def __init__(self, state: dict[str, Any], seed: int) -> None:
        self.state = state
        self.api = state["api_url"]
        self.random = random.Random(seed)
        self.statuses: Counter[str] = Counter()
        self.clicks: list[str] = []
        self.paid: list[tuple[str, int]] = []  # (payment id, amount) of Stripe payments
        self.deliveries: list[tuple[str, bytes, dict[str, str]]] = []

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = token
        request = urllib.request.Request(self.api + path, data=body, method=method, headers=all_headers)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, payload: Any = None, token: str | None = None) -> Any:
        status, _, body = self.request(
            method, path, json.dumps(payload).encode() if payload is not None else None, token
        )
        if status >= 400:
            raise RuntimeError(f"setup {method} {path} -> {status} {body[:200]!r}")
        return json.loads(body)

    def setup(self) -> None:
        self.merchant = self.json(
            "POST", "/_local/users", {"username": f"m-{uuid.uuid4().hex[:8]}", "role": "merchant"}
        )
        self.promoters = []
        for n in range(4):
            user = self.json("POST", "/_local/users", {"username": f"p{n}-{uuid.uuid4().hex[:8]}", "role": "promoter"})
            self.json(
                "POST", "/promoter/profile", {"display_name": f"P{n}", "phone": "+8613800000000"}, user["id_token"]
            )
            self.promoters.append(user)
        self.links = []
        for n in range(6):
            product = self.json(
                "POST",
                "/merchant/products",
                {
                    "title": f"Product {n}",
                    "category": "home/tea",
                    "price_minor": 1000 + 731 * n,
                    "currency": "CNY",
                    "landing_url": "https://shop.example/p",
                    "reward_rules": [{"promoter_tag": "standard", "type": "percent", "value": 500 + 250 * n}],
                },
                self.merchant["id_token"],
            )
            for promoter in self.promoters:
                link = self.json("POST", f"/promoter/tasks/{product['product_id']}/links", None, promoter["id_token"])
                self.links.append((promoter, link, product))

    def run(self, count: int) -> None:
        operations = list(WEIGHTS)
        weights = [WEIGHTS[o] for o in operations]
        for _ in range(count):
            operation = self.random.choices(operations, weights)[0]
            if operation in {"stripe_payment", "alipay_payment"} and not self.clicks:
                operation = "click"
            if operation == "refund" and not self.paid:
                operation = "listing"
            if operation == "duplicate" and not self.deliveries:
                operation = "listing"
            status = getattr(self, operation)()
            self.statuses[f"{operation} {status}"] += 1

    def listing(self) -> int:
        promoter = self.random.choice(self.promoters)
        sort = self.random.choice(["global", "personal", "combined"])
        return self.request("GET", f"/promoter/tasks?sort={sort}&limit=20", token=promoter["id_token"])[0]

    def click(self) -> int:
        _, link, _ = self.random.choice(self.links)
        channel = self.random.choice(["", "?ch=wechat", "?ch=weibo"])
        status, headers, _ = self.request("GET", f"/l/{link['code']}{channel}")
        location = headers.get("Location", "")
        if status == 302 and location:
            self.clicks.extend(parse_qs(urlsplit(location).query).get("tsclid", []))
        return status

    def share(self) -> int:
        promoter, link, _ = self.random.choice(self.links)
        channel = self.random.choice(["wechat", "weibo", "douyin", "qq"])
        body = json.dumps({"channel": channel}).encode()
        # the link's owner shares; now and then another promoter tries (404)
        owner = promoter if self.random.random() > 0.1 else self.random.choice(self.promoters)
        return self.request("POST", f"/promoter/links/{link['link_id']}/shares", body, owner["id_token"])[0]

    def stripe_payment(self) -> int:
        from tests.helpers.payments import stripe_checkout_event

        payment_id, amount = f"pi_{uuid.uuid4().hex[:16]}", self.random.randint(100, 50_000)
        event = stripe_checkout_event(payment_id, amount, click_id=self.random.choice(self.clicks))
        self.paid.append((payment_id, amount))
        return self._deliver("stripe", json.dumps(event).encode())

    def alipay_payment(self) -> int:
        from tests.helpers.payments import alipay_body, alipay_params

        amount = self.random.randint(100, 50_000)
        params = alipay_params(
            self.state["alipay_app_id"],
            f"2024{uuid.uuid4().int % 10**20:020d}",
            f"{amount // 100}.{amount % 100:02d}",
            self.random.choice(self.clicks),
        )
        return self._deliver("alipay", alipay_body(params, self.state["alipay_private_key_pem"]))

    def refund(self) -> int:
        from tests.helpers.payments import stripe_refund_event

        payment_id, amount = self.random.choice(self.paid)
        refunded = self.random.randint(1, amount)
        return self._deliver("stripe", json.dumps(stripe_refund_event(payment_id, refunded, amount)).encode())

    def duplicate(self) -> int:
        provider, body, _ = self.random.choice(self.deliveries)
        return self._deliver(provider, body, remember=False)

    def _deliver(self, provider: str, body: bytes, remember: bool = True) -> int:
        from tests.helpers.payments import sign_stripe

        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        if provider == "stripe":
            headers = {"Stripe-Signature": sign_stripe(body, self.state["stripe_webhook_secret"])}
        status, _, answer = self.request("POST", f"/webhooks/{provider}", body, headers=headers)
        if remember:
            self.deliveries.append((provider, body, headers))
        if provider == "alipay" and status == 200 and answer != b"success":
            return 599  # a 200 without "success" would make Alipay resend: count it as a failure
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


def client_main(state_path: str, count: int, seed: int) -> int:
    with open(state_path) as handle:
        state = json.load(handle)
    client = Client(state, seed)
    client.setup()
    started = time.monotonic()
    client.run(count)
    report = {
        "requests": count,
        "seconds": round(time.monotonic() - started, 1),
        "statuses": dict(sorted(client.statuses.items())),
    }
    print(json.dumps(report))
    return 0


# ---------------------------------------------------------------- the invariants (first process)
def check_ledger(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The ledger audit (``tuishou.logic.ledger.audit``: balanced transactions, balances, no double posting,
    refunds within what was posted) plus the settlement cross-check: every sale transaction is the one its
    settlement record names, and every settlement that moved money has its entries."""
    from tuishou.dal import keys
    from tuishou.dal.ledger import money_records
    from tuishou.logic.ledger import SALE_TRANSACTION_PREFIX, audit

    report = audit(money_records(items))
    settlements = [i for i in items if i["sk"] == "SETTLEMENT"]
    entries = [i for i in items if i["sk"].startswith(keys.ENTRY_PREFIX)]
    sale_transactions = {t for t in (e["transaction_id"] for e in entries) if t.startswith(SALE_TRANSACTION_PREFIX)}
    posted_by = ("settlement", "compensation", None)  # "skipped" / "nothing": no sale entries are owed yet
    settled = {s["transaction_id"] for s in settlements if s.get("transaction_id") and s.get("money_by") in posted_by}
    violations = [f"{v.rule}: {v.subject}: {v.detail}" for v in report.violations]
    violations += [
        f"sale transaction {t} has no settlement record naming it"
        for t in sale_transactions
        if t not in {s.get("transaction_id") for s in settlements}
    ]
    violations += [f"settlement names {t} but no entries exist" for t in settled if t not in sale_transactions]
    return {
        "entries": report.entries,
        "transactions": report.transactions,
        "accounts": report.accounts,
        "settlements": len(settlements),
        "sale_transactions": len(sale_transactions),
        "violations": violations,
    }


def scan_ledger() -> list[dict[str, Any]]:
    from tuishou.dal import dynamo

    db, items, args = dynamo.client(), [], {"TableName": dynamo.table("ledger"), "ConsistentRead": True}
    while True:  # an offline check over the whole table: a Scan is right here, never on a request path
        page = db.scan(**args)
        items += [dynamo.from_item(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600, help="stop the load after this many seconds")
    parser.add_argument("--client", metavar="STATE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        return client_main(args.client, args.requests, args.seed)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    from moto.server import ThreadedMotoServer

    from tools.local_stack import LocalStack, serve
    from tools.moto_fidelity import serialize_dynamodb

    serialize_dynamodb()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    stack = LocalStack(f"http://{host}:{port}", api_url="http://127.0.0.1:0").provision()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # over the template's INFO: the report is the output
    if stack.gateway is None:
        raise RuntimeError("the local stack was not provisioned")
    server = serve(stack.gateway, 0)  # a free loopback port
    handler_class = cast(type[BaseHTTPRequestHandler], server.RequestHandlerClass)  # serve() built it
    handler_class.log_message = lambda *_args, **_kwargs: None  # type: ignore[method-assign]  # the report says it all
    api_url = f"http://127.0.0.1:{server.server_address[1]}"
    stack.api_url = api_url
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({**stack.describe(), "api_url": api_url}, handle)
            state_path = handle.name
        print(f"soak: {args.requests} requests against {api_url} (moto {stack.endpoint_url})", flush=True)
        load = subprocess.run(
            [
                sys.executable,
                "-m",
                "tools.soak",
                "--client",
                state_path,
                "--requests",
                str(args.requests),
                "--seed",
                str(args.seed),
            ],
            cwd=template.ROOT,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=False,
        )
        os.unlink(state_path)
        if load.returncode != 0:
            print(load.stdout, load.stderr, sep="\n")
            return 1
        report = json.loads(load.stdout.strip().splitlines()[-1])
        print(json.dumps({"load": report}), flush=True)
        ledger = check_ledger(scan_ledger())
    finally:
        server.shutdown()
        server.server_close()
        moto.stop()
    server_errors = {k: v for k, v in report["statuses"].items() if int(k.rsplit(" ", 1)[1]) >= 500}
    print(json.dumps({"load": report, "ledger": ledger, "server_errors": server_errors}, indent=2))
    if ledger["violations"] or server_errors:
        print("soak: FAILED", flush=True)
        return 1
    print("soak: ledger invariants hold", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
