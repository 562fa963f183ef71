"""``make local``: the whole suite on this machine, no Docker and no AWS account.

moto's ThreadedMotoServer (bound to 127.0.0.1) emulates DynamoDB, SNS, SQS, Cognito and SSM; every
resource is created from template.yaml; the local gateway serves the API on http://127.0.0.1:3000 and
invokes each function's handler in-process; scheduled functions fire on their own rate (compressed by
``--tick-seconds``)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import threading
import time
import uuid
import warnings
from collections.abc import Collection
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from tools import resources, template
from tools.alipay_emulator import AlipayEmulator
from tools.gateway import FunctionHost, HttpResponse, LocalGateway, TokenVerifier, error, json_response
from tools.static_site import StaticSite
from tools.streams import StreamPoller
from tools.stripe_emulator import StripeEmulator
from tools.wechat_emulator import WechatEmulator
from tuishou import clock

REGION = "us-east-1"
STATE_DIR = template.ROOT / ".local"
CONSOLE_DIR = template.ROOT / "console"
LOCAL_PREFIX = "tuishou-local"


def aws_environment(endpoint_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


class LocalStack:
    """The emulated deployment: resources, functions, gateway and the ``/_local`` control routes."""

    def __init__(
        self,
        endpoint_url: str,
        api_url: str = "http://127.0.0.1:3000",
        prefix: str = LOCAL_PREFIX,
        host: FunctionHost | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.api_url = api_url.rstrip("/")
        self.prefix = prefix
        self.host = host or FunctionHost()
        self.physical: dict[str, Any] = {}
        self.provider: resources.ProviderSecrets | None = None
        self.failed_deliveries = 0
        self.gateway: LocalGateway | None = None
        self.environment: dict[str, str] = {}
        self.streams: StreamPoller | None = None
        self.wechat: WechatEmulator | None = None
        self.alipay: AlipayEmulator | None = None
        self.stripe: StripeEmulator | None = None

    # ------------------------------------------------------------------ provisioning
    def provision(self) -> LocalStack:
        os.environ.update(aws_environment(self.endpoint_url))
        self.physical = resources.create_all(self.prefix)
        self.provider = resources.generate_provider_secrets()
        resources.store_provider_secrets(self.provider)
        self.wechat = WechatEmulator(self.provider.wechat_app_id, self.provider.wechat_app_secret).start()
        self.alipay = AlipayEmulator(
            self.provider.alipay_app_id, self.provider.alipay_app_public_key_pem, self.provider.alipay_private_key_pem
        )
        self.alipay.start()
        self.stripe = StripeEmulator(self.provider.stripe_secret_key)
        self.stripe.start()
        self._apply_function_environment()
        self.streams = StreamPoller(self.host, self.physical, self.endpoint_url, REGION)
        verifier = TokenVerifier(self.endpoint_url, REGION, self.physical["UserPool"], self.physical["UserPoolClient"])
        self.gateway = LocalGateway(self.host, verifier)
        self.gateway.add_local_route("POST", "/_local/schedules", self._route_run_schedule)
        self.gateway.add_local_route("GET", "/_local/notifications", self._route_notifications)
        self.gateway.add_local_route("POST", "/_local/users", self._route_create_user)
        self.gateway.add_local_route("PUT", "/_local/faults", self._route_put_faults)
        self.gateway.add_local_route("POST", "/_local/streams/drain", self._route_drain_streams)
        self.gateway.add_local_route("POST", "/_local/clock", self._route_advance_clock)
        self.gateway.add_static_site(StaticSite("/console", CONSOLE_DIR, {"config.json": self.console_config}))
        return self

    def reset(self) -> LocalStack:
        """Back to the state ``provision()`` left, keeping the resources and the provider secrets: tables
        emptied, queues purged, users deleted, SSM holding only the provider configuration, the notifications
        seen so far and the emulators' transfers forgotten, the clock back to the real time, and the
        functions' environment applied again. Much cheaper than provisioning;
        needs the moto server in this process (as the tests and ``make local`` run it)."""
        assert self.provider is not None, "provision() first"
        os.environ.update(aws_environment(self.endpoint_url))
        os.environ.update(self.environment)
        resources.clear_state(self.physical, self.prefix, self.provider)
        self.failed_deliveries = 0
        for emulator in (self.wechat, self.alipay, self.stripe):
            if emulator is not None:
                emulator.reset()
        clock.set_offset(timedelta(0))
        if self.streams is not None:
            self.streams.reset()  # the streams were emptied with the tables: every position starts over
        return self

    def _apply_function_environment(self) -> None:
        """All functions share this process, so their variables must agree: the union is applied once."""
        resolver = template.Resolver(
            self.physical, {"AWS::Region": REGION, "AWS::StackName": self.prefix, "AWS::AccountId": "000000000000"}
        )
        merged: dict[str, str] = {}
        for spec in self.host.specs.values():
            for name, raw in spec.environment.items():
                value = self.api_url if name == "TUISHOU_PUBLIC_BASE_URL" else resolver.resolve(raw)
                if name == "TUISHOU_SMS_DELIVERY":
                    value = "sns"  # moto accepts SMS publishes: locally SMS is on, and listed as a delivery
                elif name == "TUISHOU_WECHAT_API_BASE" and self.wechat is not None:
                    value = self.wechat.url
                elif name == "TUISHOU_ALIPAY_API_BASE" and self.alipay is not None:
                    value = self.alipay.gateway_url
                elif name == "TUISHOU_STRIPE_API_BASE" and self.stripe is not None:
                    value = self.stripe.url
                if name in merged and merged[name] != value:
                    raise ValueError(f"functions disagree on environment variable {name}")
                merged[name] = value
        os.environ.update(merged)
        self.environment = merged

    def describe(self) -> dict[str, Any]:
        assert self.provider is not None
        return {
            "api_url": self.api_url,
            "aws_endpoint_url": self.endpoint_url,
            "region": REGION,
            "user_pool_id": self.physical["UserPool"],
            "user_pool_client_id": self.physical["UserPoolClient"],
            "resources": {k: v for k, v in self.physical.items() if "." not in k},
            "stripe_webhook_secret": self.provider.stripe_webhook_secret,
            "alipay_app_id": self.provider.alipay_app_id,
            "alipay_private_key_pem": self.provider.alipay_private_key_pem,
            "wechat_api_base": self.wechat.url if self.wechat else None,
            "alipay_api_base": self.alipay.gateway_url if self.alipay else None,
            "alipay_emulator_transfers": f"{self.alipay.url}/_emulator/transfers" if self.alipay else None,
            "stripe_api_base": self.stripe.url if self.stripe else None,
            "stripe_emulator_transfers": f"{self.stripe.url}/_emulator/transfers" if self.stripe else None,
        }

    def console_config(self) -> bytes:
        """The web console's ``config.json`` (docs/console.md): the API on the same origin, and local sign-in
        through ``POST /_local/users`` instead of the Cognito hosted UI."""
        return json.dumps({"auth": "local", "api_base": ""}).encode()

    # ------------------------------------------------------------------ operations
    def create_user(self, username: str, role: str | None) -> dict[str, str | None]:
        """A confirmed user in the emulated pool with ``custom:role``, and a fresh ID token. ``role=None`` is
        a user who signed up by themselves: no role until an administrator assigns one."""
        if role is not None and role not in {"merchant", "promoter", "admin"}:
            raise ValueError("role must be merchant, promoter, admin or null (self sign-up)")
        cognito = boto3.client("cognito-idp")
        pool = self.physical["UserPool"]
        email = username if "@" in username else f"{username}@users.tuishou.test"
        role_attribute = [{"Name": "custom:role", "Value": role}] if role else []
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                *role_attribute,
            ],
        )
        token = self.id_token(email)
        attributes = cognito.admin_get_user(UserPoolId=pool, Username=email)["UserAttributes"]
        sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
        return {"sub": sub, "id_token": token, "username": email, "role": role}

    def id_token(self, username: str) -> str:
        """A fresh ID token of an existing user (a new password, then a sign-in): a test whose clock runs past
        an hour signs its users in again, as the app would."""
        cognito = boto3.client("cognito-idp")
        pool, client_id = self.physical["UserPool"], self.physical["UserPoolClient"]
        password = "Local-" + secrets.token_urlsafe(12) + "9a"
        cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
        auth = cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return str(auth["AuthenticationResult"]["IdToken"])

    def run_schedule(self, logical_id: str, at: datetime | None = None, which: int = 0) -> Any:
        """Invoke a scheduled function with the event EventBridge Scheduler would send (for its ``which``-th
        schedule, when it has several)."""
        spec = self.host.specs.get(logical_id)
        if spec is None or not spec.schedules:
            raise KeyError(logical_id)
        schedule = spec.schedules[which]
        event = json.loads(schedule.payload) if schedule.payload else {}
        event.setdefault("source", "aws.scheduler")
        event.setdefault("detail-type", "Scheduled Event")
        event.setdefault("id", str(uuid.uuid4()))
        event.setdefault("time", (at or clock.now()).strftime("%Y-%m-%dT%H:%M:%SZ"))
        event.setdefault("detail", {})
        return self.host.invoke(logical_id, event)

    def drain_queues(self, max_rounds: int = 1000, only: Collection[str] | None = None) -> int:
        """The Lambda SQS event source: deliver each queued message to the function its queue triggers
        (batch of one, with its ``ApproximateReceiveCount``), delete it unless reported in
        ``batchItemFailures``; a failed message becomes visible again at once and is re-delivered until the
        queue's redrive policy dead-letters it. Repeat until the queues are empty (a continuation enqueued
        by a run is delivered too); ``only``: just these queues (logical ids). Returns the deliveries made;
        ``self.failed_deliveries`` counts failures."""
        sqs = boto3.client("sqs")
        delivered = 0
        for _ in range(max_rounds):
            progressed = False
            for spec in self.host.specs.values():
                for queue_id in spec.queues:
                    if only is not None and queue_id not in only:
                        continue
                    url = self.physical[queue_id]
                    for message in sqs.receive_message(
                        QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0, AttributeNames=["All"]
                    ).get("Messages", []):
                        progressed, delivered = True, delivered + 1
                        record = {
                            "messageId": message["MessageId"],
                            "receiptHandle": message["ReceiptHandle"],
                            "body": message["Body"],
                            "eventSource": "aws:sqs",
                            "eventSourceARN": self.physical[f"{queue_id}.Arn"],
                            "attributes": message.get("Attributes", {}),
                        }
                        result = self.host.invoke(spec.logical_id, {"Records": [record]}) or {}
                        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                        if message["MessageId"] in failed:
                            self.failed_deliveries += 1
                            continue
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if not progressed:
                return delivered
        return delivered

    def drain_streams(self) -> int:
        """The Lambda DynamoDB Streams event sources (tools/streams.py): deliver every new stream record to
        its consumer, as the template's event source mappings would (filters, batches, retries, on-failure
        queue), until the consumers' own writes produce nothing new. Returns the records delivered. Tests
        call it before asserting derived state; ``make local`` calls it in the background."""
        assert self.streams is not None, "provision() first"
        return self.streams.drain()

    def replay_streams(self) -> int:
        """Re-deliver every record still in the streams from TRIM_HORIZON (as a new event source mapping
        would), then drain. Derivation is idempotent by each fact's id: a replay changes nothing."""
        assert self.streams is not None, "provision() first"
        return self.streams.replay()

    def dead_letters(self, source_queue_id: str) -> int:
        """Messages waiting in the dead-letter queue of ``source_queue_id`` (per its redrive policy)."""
        sqs = boto3.client("sqs")
        policy = sqs.get_queue_attributes(QueueUrl=self.physical[source_queue_id], AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]["RedrivePolicy"]
        name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[1]
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(counts["Attributes"]["ApproximateNumberOfMessages"])

    def advance_clock(self, hours: float) -> timedelta:
        """Move the time handlers and schedules see ``hours`` ahead (``clock.now()``); returns the total
        offset. Local only: nothing in AWS moves the clock."""
        clock.set_offset(clock.offset() + timedelta(hours=hours))
        return clock.offset()

    def run_schedules_within(self, hours: float) -> dict[str, str]:
        """After a jump of ``hours``, what the scheduler would have done meanwhile: every schedule whose period
        fits in the jump runs once, at the new time (the jobs catch up on what they missed: the hold release
        reads its lookback, the sweeps their windows). A failing job is reported, not raised."""
        ran: dict[str, str] = {}
        for spec in self.host.specs.values():
            for which, schedule in enumerate(spec.schedules):
                if schedule.period_seconds > hours * 3600:
                    continue
                name = spec.logical_id if len(spec.schedules) == 1 else f"{spec.logical_id}#{schedule.name}"
                try:
                    self.run_schedule(spec.logical_id, which=which)
                    ran[name] = "ok"
                except Exception as exc:  # as a real schedule would: retried later, dead-lettered, alarmed
                    ran[name] = f"failed: {exc!r}"[:300]
        return ran

    def set_faults(self, text: str) -> dict[str, int]:
        """Write the fault switch (SSM ``/tuishou/faults``) as an operator would; see docs/compensation.md."""
        from tuishou.logic import faults

        return faults.set_faults(text)

    def notifications(self) -> list[dict[str, Any]]:
        """Every delivery so far, oldest first: ``{channel, recipient, kind, text, notification_id, at}`` for
        inapp, push, sms and wechat (a delivered channel of an inbox item). Delivers what is pending first
        (the notification stream, then the delivery queues: nothing else), as ``make local`` does in the
        background."""
        assert self.streams is not None, "provision() first"
        while self.streams.drain(only={"NotificationStreamFunction"}) + self.drain_queues(only=DELIVERY_QUEUES):
            pass
        from tuishou.dal import keys
        from tuishou.models.notifications import DELIVERY_CHANNELS

        found = []
        for item in _scan(self.physical["UsersTable"]):
            if not str(item.get("sk", "")).startswith(keys.NOTIFICATION_PREFIX):
                continue
            for channel, delivery in (item.get("deliveries") or {}).items():
                if delivery.get("status") == "delivered":
                    found.append(
                        {
                            "channel": channel,
                            "recipient": str(item["pk"]).removeprefix(keys.USER_PREFIX),
                            "kind": item["kind"],
                            "text": item["text"],
                            "notification_id": item["notification_id"],
                            "at": delivery["at"],
                        }
                    )
        order = {channel: n for n, channel in enumerate(DELIVERY_CHANNELS)}
        return sorted(found, key=lambda d: (d["at"], d["notification_id"], order[d["channel"]]))

    # ------------------------------------------------------------------ /_local routes
    def _route_run_schedule(self, rest: str, _h: dict[str, str], _b: bytes, _q: dict[str, list[str]]) -> HttpResponse:
        try:
            result = self.run_schedule(rest)
        except KeyError:
            return error(404, "not_found", f"{rest} is not a scheduled function of template.yaml")
        return json_response(200, {"function": rest, "result": result})

    def _route_notifications(self, _r: str, _h: dict[str, str], _b: bytes, _q: dict[str, list[str]]) -> HttpResponse:
        return json_response(200, {"items": self.notifications()})

    def _route_create_user(self, _r: str, _h: dict[str, str], body: bytes, _q: dict[str, list[str]]) -> HttpResponse:
        try:
            payload = json.loads(body or b"{}")
            username, role = payload["username"], payload["role"]
            if not isinstance(username, str) or not username.strip():
                raise ValueError("username")
        except (ValueError, KeyError, TypeError):
            return error(422, "validation_error", "body must be {username, role}")
        try:
            return json_response(201, self.create_user(username.strip(), role))
        except ValueError as exc:
            return error(422, "validation_error", str(exc))
        except boto3.client("cognito-idp").exceptions.UsernameExistsException:
            return error(409, "conflict", "user exists")

    def _route_drain_streams(self, _r: str, _h: dict[str, str], _b: bytes, _q: dict[str, list[str]]) -> HttpResponse:
        return json_response(200, {"delivered": self.drain_streams()})

    def _route_advance_clock(self, _r: str, _h: dict[str, str], body: bytes, _q: dict[str, list[str]]) -> HttpResponse:
        try:
            hours = json.loads(body or b"{}").get("advance_hours")
        except (ValueError, AttributeError):
            hours = None
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= MAX_ADVANCE_HOURS:
            return error(422, "validation_error", f"advance_hours: a number of hours, 0 < N <= {MAX_ADVANCE_HOURS}")
        total = self.advance_clock(hours)
        ran = self.run_schedules_within(hours)
        return json_response(200, {"now": clock.iso(), "offset_hours": total.total_seconds() / 3600, "schedules": ran})

    def _route_put_faults(self, _r: str, _h: dict[str, str], body: bytes, _q: dict[str, list[str]]) -> HttpResponse:
        try:
            budgets = self.set_faults(body.decode() or "{}")
        except (ValueError, UnicodeDecodeError) as exc:
            return error(422, "validation_error", f"faults: {exc}")
        return json_response(200, {"faults": budgets})


MAX_ADVANCE_HOURS = 24 * 365  # one step of local time travel: at most a year
DELIVERY_QUEUES = ("PushDeliveryQueue", "SmsDeliveryQueue", "WechatDeliveryQueue")


def _scan(table_name: str) -> list[dict[str, Any]]:
    """Every item of a table, plain (local inspection only: the functions never scan)."""
    deserializer = TypeDeserializer()
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table_name)
    return [{k: deserializer.deserialize(v) for k, v in item.items()} for page in pages for item in page["Items"]]


def _poll_queues(stack: LocalStack, stop: threading.Event) -> None:
    """Deliver queued messages (compensation scan runs) as the Lambda SQS event source would."""
    while not stop.wait(1.0):
        try:
            stack.drain_queues()
        except Exception as exc:  # a failed message stays visible after its timeout, like SQS
            print(f"[queue] delivery failed: {exc!r}", flush=True)


def _poll_streams(stack: LocalStack, stop: threading.Event, interval: float = 0.2) -> None:
    """Deliver new stream records every ``interval`` seconds, as Lambda polls a shard (a click is counted a
    moment after its redirect)."""
    while not stop.wait(interval):
        try:
            if delivered := stack.drain_streams():
                print(f"[streams] delivered {delivered} records", flush=True)
        except Exception as exc:  # keep polling; the next round starts from the last checkpoint
            print(f"[streams] delivery failed: {exc!r}", flush=True)


class _Handler(BaseHTTPRequestHandler):
    gateway: LocalGateway
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            response = self.gateway.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # an unhandled function error is a 502, as API Gateway answers
            response = error(502, "internal_error", f"function failed: {exc.__class__.__name__}")
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, fmt: str, *args: Any) -> None:
        print(f"[gateway] {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)


def serve(gateway: LocalGateway, port: int) -> ThreadingHTTPServer:
    handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
    return server


def _tick_schedules(stack: LocalStack, tick_seconds: float, stop: threading.Event) -> None:
    """Fire each scheduled function on its rate, with one hour of schedule time = ``tick_seconds``."""
    next_run: dict[str, float] = {}
    start = time.monotonic()
    for spec in stack.host.specs.values():
        for schedule in spec.schedules[:1]:
            next_run[spec.logical_id] = start + schedule.period_seconds / 3600 * tick_seconds
    while not stop.wait(0.5):
        for logical_id, due in list(next_run.items()):
            if time.monotonic() >= due:
                period = stack.host.specs[logical_id].schedules[0].period_seconds / 3600 * tick_seconds
                next_run[logical_id] = due + period
                try:
                    result = stack.run_schedule(logical_id)
                    print(f"[schedule] {logical_id} -> {json.dumps(result, default=str)[:300]}", flush=True)
                except Exception as exc:  # keep ticking; a real schedule would retry then dead-letter
                    print(f"[schedule] {logical_id} failed: {exc!r}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument(
        "--tick-seconds",
        type=float,
        default=3600.0,
        help="real seconds per hour of schedule time (default 3600: real time)",
    )
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    from moto.server import ThreadedMotoServer

    from tools.moto_fidelity import serialize_dynamodb

    serialize_dynamodb()  # concurrent webhook deliveries need DynamoDB's transaction isolation
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    stack = LocalStack(f"http://{host}:{port}", api_url=f"http://127.0.0.1:{args.port}").provision()
    STATE_DIR.mkdir(exist_ok=True)
    state_file = STATE_DIR / "stack.json"
    state_file.write_text(json.dumps(stack.describe(), indent=2))
    if stack.gateway is None:  # provision() sets it; a stack that could not provision has nothing to serve
        raise SystemExit("the local stack did not provision")
    server = serve(stack.gateway, args.port)
    stop = threading.Event()
    threading.Thread(target=_tick_schedules, args=(stack, args.tick_seconds, stop), daemon=True).start()
    threading.Thread(target=_poll_queues, args=(stack, stop), daemon=True).start()
    threading.Thread(target=_poll_streams, args=(stack, stop), daemon=True).start()

    print(
        f"Tuishou local stack\n  API      {stack.api_url}  (Swagger UI: {stack.api_url}/swagger)\n"
        f"  console  {stack.api_url}/console\n"
        f"  AWS      {stack.endpoint_url} (moto)\n  WeChat   {stack.wechat.url if stack.wechat else '-'} (emulator)\n"
        f"  Alipay   {stack.alipay.gateway_url if stack.alipay else '-'} (emulator)\n"
        f"  Stripe   {stack.stripe.url if stack.stripe else '-'} (emulator)\n"
        f"  state    {Path(state_file).relative_to(template.ROOT)}\n"
        f"  schedules: one hour = {args.tick_seconds:g} s\nCtrl-C stops.",
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        for emulator in (stack.wechat, stack.alipay, stack.stripe):
            if emulator is not None:
                emulator.stop()
        moto.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    main()
