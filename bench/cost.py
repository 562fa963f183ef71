"""The daily cost model at the scale the platform is built for, from the units `make bench` measured.

``python -m bench.cost`` reads bench/results.json and prints the model as a Markdown table (docs/performance.md
quotes it). Every DynamoDB figure is a measured row: requests, items read and write units per call. Prices
are AWS's public on-demand list prices (us-east-1); volumes are the scale of a busy day. Reads are priced as
eventually consistent item reads of under 4 KB (0.5 read unit per item read), an upper bound for Queries,
which DynamoDB bills per 4 KB read rather than per item, when a row predates the measured read units (the
harness's ``read_units``: per 4 KB, as DynamoDB bills). Each line's function, its memory and its API (a
REST API or an HTTP API, priced differently) are read from template.yaml, so the model follows the template."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from tools.template import ROOT, load, resources

RESULTS = ROOT / "bench" / "results.json"

# Prices (USD), on-demand, us-east-1.
WRITE_UNIT = 0.625 / 1_000_000
READ_UNIT = 0.125 / 1_000_000
API_REQUEST = {"Api": 3.50 / 1_000_000, "HttpApi": 1.00 / 1_000_000}  # REST / HTTP API, first 300M+ a month
LAMBDA_REQUEST = 0.20 / 1_000_000
LAMBDA_GB_SECOND = 0.0000166667  # x86_64
STORAGE_GB_MONTH = 0.25

# A busy day.
CLICKS, SALES, PROMOTERS = 1_000_000, 20_000, 50_000  # and a catalogue of 100,000 products
SHARES = 2 * PROMOTERS  # each active promoter shares twice
TASK_LISTS = 2 * PROMOTERS  # and opens the task list twice
DIRTY_PRODUCTS_PER_HOUR = 5_000  # products whose promotions or sales changed in an hour
LAMBDA_SECONDS = 0.05  # ~50 ms a warm invocation, at the function's MemorySize
STREAM_BATCH_CLICKS = 12  # clicks per consumer invocation at the average rate with a 1-second window
CLICK_BYTES, CLICK_DAYS = 350, 30  # a click item, kept for the attribution window (TTL)

ROWS = {
    "click": "GET /l/{code}",
    "click_consumer": "stream: TrackingStreamFunction, a day's click mix (12 clicks: one 1-second batch)",
    "share_consumer": "stream: TrackingStreamFunction, a day's share mix (12 shares)",
    "share": "POST /promoter/links/{id}/shares (no channel task)",
    "sale": "POST /webhooks/stripe (first delivery)",
    "sale_consumer": "stream: LedgerStreamFunction (100 records)",
    "task_list": "GET /promoter/tasks x1 (500 products)",
    "ranking": "job: ranking hourly pass (100 changed of 100,000 products)",
}


@dataclass(frozen=True)
class Function:
    """What the template says of a function that the model prices: its memory and the API it is behind."""

    memory_gb: float
    api_request: float  # per request; 0 when no API invokes it

    @classmethod
    def of(cls, logical_id: str) -> Function:
        properties = resources("AWS::Serverless::Function")[logical_id]["Properties"]
        memory = properties.get("MemorySize", load()["Globals"]["Function"]["MemorySize"])
        apis = {event["Type"] for event in properties.get("Events", {}).values()} & API_REQUEST.keys()
        return cls(memory / 1024, max((API_REQUEST[api] for api in apis), default=0.0))


@dataclass(frozen=True)
class Line:
    what: str
    per_day: int
    requests: float
    read_units: float
    write_units: float
    function: Function
    lambda_invocations: float

    @property
    def dollars(self) -> float:
        dynamo = self.per_day * (self.read_units * READ_UNIT + self.write_units * WRITE_UNIT)
        api = self.per_day * self.function.api_request
        invocations = self.per_day * self.lambda_invocations
        compute = invocations * (LAMBDA_REQUEST + self.function.memory_gb * LAMBDA_SECONDS * LAMBDA_GB_SECOND)
        return dynamo + api + compute


def _rows() -> dict[str, dict]:
    scenarios = {r["name"]: r for r in json.loads(RESULTS.read_text())["scenarios"]}
    missing = [name for name in ROWS.values() if name not in scenarios]
    if missing:
        raise SystemExit(f"run `make bench` first: bench/results.json lacks {missing}")
    return {key: scenarios[name] for key, name in ROWS.items()}


def _per(row: dict, calls: float) -> tuple[float, float, float]:
    """(requests, read units, write units) per unit of work, from a row measured over ``calls`` of it."""
    read = row["read_units"] if row.get("read_units") is not None else row["items_read"] * 0.5
    return row["requests"] / calls, read / calls, (row.get("write_units") or 0) / calls


def lines() -> list[Line]:
    r = _rows()
    click, consumer = _per(r["click"], 1), _per(r["click_consumer"], STREAM_BATCH_CLICKS)
    sale, sale_consumer = _per(r["sale"], 1), _per(r["sale_consumer"], 100)
    share, share_consumer = _per(r["share"], 1), _per(r["share_consumer"], STREAM_BATCH_CLICKS)
    ranking = _per(r["ranking"], 100)  # the row re-ranks 100 changed products
    task_list = _per(r["task_list"], 1)
    redirect, promoter, tracking = (
        Function.of(f) for f in ("RedirectFunction", "PromoterFunction", "TrackingStreamFunction")
    )
    webhook, ledger = Function.of("WebhookFunction"), Function.of("LedgerStreamFunction")
    ranker = Function.of("RankingRecalculationFunction")
    return [
        Line("click: redirect", CLICKS, *click, redirect, 1),
        Line("click: counted by the tracking stream", CLICKS, *consumer, tracking, 1 / STREAM_BATCH_CLICKS),
        Line("share: request", SHARES, *share, promoter, 1),
        Line("share: counted by the tracking stream", SHARES, *share_consumer, tracking, 1 / STREAM_BATCH_CLICKS),
        Line("sale: webhook", SALES, *sale, webhook, 1),
        Line("sale: derived by the ledger stream", SALES, *sale_consumer, ledger, 1 / 10),
        Line("task list", TASK_LISTS, *task_list, promoter, 1),
        Line("ranking: hourly pass", DIRTY_PRODUCTS_PER_HOUR * 24, *ranking, ranker, 1 / 500),
    ]


def storage_dollars() -> float:
    clicks_gb = CLICKS * CLICK_DAYS * CLICK_BYTES / 1e9
    return clicks_gb * STORAGE_GB_MONTH / 30


def render() -> str:
    rows = lines()
    out = [
        "| work | per day | requests | read units | write units | $/day |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for line in rows:
        out.append(
            f"| {line.what} | {line.per_day:,} | {line.requests:.2f} | {line.read_units:.2f} | "
            f"{line.write_units:.2f} | {line.dollars:.2f} |"
        )
    storage = storage_dollars()
    out.append(f"| click storage ({CLICK_DAYS}-day TTL) | — | — | — | — | {storage:.2f} |")
    total = sum(line.dollars for line in rows) + storage
    out.append(f"| **total** | | | | | **{total:.2f}** |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(render() + "\n")
