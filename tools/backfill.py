"""Upgrade a stack's tables written before the streams redesign: add what the new read paths need and the
old write paths did not write. Offline (it Scans), idempotent (it writes only what differs from what the
new code would have written, each write conditional on what it read) and resumable (``--resume CURSOR``).

What it adds, by kind (the report counts each):

- ``active_task_moved``: an active-task index entry (``PRODUCT#…/ACTIVE``) still in the one unsharded GSI1
  partition, moved to its merchant's shard (the insights job and the full re-rank read shards);
- ``active_task_restored``: the entry of an active product saved before the index existed;
- ``code_indexed``: a link-code item listed in its product's GSI1 partition (the status fan-out's Query);
- ``code_status`` / ``link_status``: the product's status copied onto a link-code item (the redirect
  answers 410 unless it is ``active``) and a link item (shares);
- ``code_pointer``: the promoter's active channel-task summary copied onto (or removed from) a link-code
  item, per channel (the redirect draws quota-rescue coupons from it);
- ``progress_ref``: an event an active channel task counted while refs were a set on the promoter's channel
  counter item (``chtask_refs``), as its own ref item (a refunded sale's reversal reads it).

Run it against the live tables, deploy, run it again: the second run catches what the old code wrote in
between (docs/operations.md, "Upgrading a stack with existing data"). Tables come from the local stack's
state file (``.local/stack.json``, the default), a CloudFormation stack (``--stack``) or by name."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import template

PHASES = ("catalog", "tracking")
KINDS = (
    "active_task_moved",
    "active_task_restored",
    "code_indexed",
    "code_status",
    "link_status",
    "code_pointer",
    "progress_ref",
)
TABLE_RESOURCES = {"catalog": "CatalogTable", "tracking": "TrackingTable"}


@dataclass
class Backfill:
    """One run's caches (a product's status, a promoter's channel-task summaries, read once per run) and
    what it changed."""

    changed: Counter[str] = field(default_factory=Counter)
    _statuses: dict[str, str | None] = field(default_factory=dict)
    _summaries: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    # ---------------------------------------------------------------- CatalogTable
    def catalog_item(self, item: dict[str, Any]) -> None:
        from tuishou.dal import catalog, insights, keys

        product_id = str(item.get("product_id", ""))
        item_key = (item["pk"], item["sk"])
        if item_key == keys.active_task(product_id):
            seen = str(item.get("gsi1pk", ""))
            if seen != insights.active_task_partition(item["merchant_id"]):
                self._count("active_task_moved", insights.move_active_task(product_id, item["merchant_id"], seen))
        elif item_key == keys.product(product_id) and item.get("status") == "active":
            product = catalog.as_product_record(item)
            self._count("active_task_restored", catalog.restore_active_task(product))

    # ---------------------------------------------------------------- TrackingTable
    def tracking_item(self, item: dict[str, Any]) -> None:
        from tuishou.dal import channel_tasks as store
        from tuishou.dal import keys, tracking
        from tuishou.dal.channel_tasks import LEGACY_REFS
        from tuishou.logic import channel_tasks

        if (item["pk"], item["sk"]) == keys.link(str(item.get("link_id", ""))):
            status = self._status(item["product_id"])
            if status is not None and item.get("product_status") != status:
                written = tracking.replace_product_status(
                    keys.link(item["link_id"]), status, item.get("product_status")
                )
                self._count("link_status", written)
        elif (item["pk"], item["sk"]) == keys.link_code(str(item.get("code", ""))):
            self._code_item(item)
        elif (pair := tracking.promoter_channel_of((item["pk"], item["sk"]))) and item.get(LEGACY_REFS):
            for ref in channel_tasks.legacy_refs(*pair, item):
                self._count("progress_ref", store.restore_progress_ref(*pair, ref))

    def _code_item(self, item: dict[str, Any]) -> None:
        from tuishou.dal import keys, tracking

        target = tracking.code_target(item)
        if "gsi1pk" not in item:
            self._count("code_indexed", tracking.index_code(target.code, target.product_id))
        status = self._status(target.product_id)
        seen = item.get("product_status")
        if status is not None and seen != status:
            self._count("code_status", tracking.replace_product_status(keys.link_code(target.code), status, seen))
            # A status change fanned out before the item was listed missed it: read the product again.
            fresh = self._status(target.product_id, fresh=True)
            if fresh is not None and fresh != status:
                tracking.set_product_status(target.code, target.link_id, fresh)
        summaries = self._summaries_of(target.promoter_id)
        stale = [c for c in sorted({*summaries, *target.chtasks}) if summaries.get(c) != target.chtasks.get(c)]
        for channel in stale:
            tracking.set_code_pointer(target.code, channel, summaries.get(channel))
            self._count("code_pointer", True)
        if stale:  # a pointer fanned out meanwhile may have been overwritten by the summary read before it
            fresh_summaries = self._summaries_of(target.promoter_id, fresh=True)
            for channel in stale:
                if fresh_summaries.get(channel) != summaries.get(channel):
                    tracking.set_code_pointer(target.code, channel, fresh_summaries.get(channel))

    # ---------------------------------------------------------------- reads
    def _status(self, product_id: str, *, fresh: bool = False) -> str | None:
        """The product's status (None when the product is gone: nothing to copy)."""
        from tuishou.dal import catalog

        if fresh or product_id not in self._statuses:
            product = catalog.get_product(product_id, consistent=True)
            self._statuses[product_id] = None if product is None else product.status
        return self._statuses[product_id]

    def _summaries_of(self, promoter_id: str, *, fresh: bool = False) -> Mapping[str, Any]:
        """What a link-code item carries of the promoter's active channel tasks, by channel (1 BatchGetItem)."""
        from tuishou.logic import channel_tasks, coupons
        from tuishou.models.tasks import CHANNELS

        if fresh or promoter_id not in self._summaries:
            tasks = channel_tasks.active_tasks([(promoter_id, channel) for channel in CHANNELS])
            summaries = {pair[1]: coupons.pointer_summary(task) for pair, task in tasks.items()}
            self._summaries[promoter_id] = {c: s for c, s in summaries.items() if s is not None}
        return self._summaries[promoter_id]

    def _count(self, kind: str, written: bool) -> None:
        if written:
            self.changed[kind] += 1


def _kinds_read(table_name: str) -> dict[str, Any]:
    """The Scan's filter: only the item kinds this reads (products and their index entries; links, codes and
    promoter channel counters)."""
    from tuishou.dal import keys

    if table_name == "catalog":
        return {
            "FilterExpression": "sk IN (:product, :active)",
            "ExpressionAttributeValues": {
                ":product": {"S": keys.product("")[1]},
                ":active": {"S": keys.active_task("")[1]},
            },
        }
    return {
        "FilterExpression": "sk IN (:link, :code) OR begins_with(sk, :channel)",
        "ExpressionAttributeValues": {
            ":link": {"S": keys.link("")[1]},
            ":code": {"S": keys.link_code("")[1]},
            ":channel": {"S": keys.promoter_channel("", "")[1]},
        },
    }


def run(
    resume: str | None = None, page_size: int = 100, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Every page of both tables from ``resume`` (a cursor this printed: ``{table}`` or ``{table}:{page}``);
    ``progress`` receives the cursor after each page. Returns the counts of what changed, by kind."""
    from tuishou.dal import dynamo

    phase, _, start = (resume or PHASES[0]).partition(":")
    if phase not in PHASES:
        raise SystemExit(f"--resume: not a cursor this tool printed: {resume!r}")
    backfill = Backfill()
    handlers = {"catalog": backfill.catalog_item, "tracking": backfill.tracking_item}
    for name in PHASES[PHASES.index(phase) :]:
        page: str | None = start or None
        while True:
            items, page = dynamo.scan_page(name, page_size, page, **_kinds_read(name))
            for item in items:
                handlers[name](item)
            if page is None:
                break
            if progress:
                progress(f"{name}:{page}")
        start = ""
        next_phase = PHASES.index(name) + 1
        if progress and next_phase < len(PHASES):
            progress(PHASES[next_phase])
    return {kind: backfill.changed[kind] for kind in KINDS}


# ---------------------------------------------------------------- configuration
def _tables_from_state(path: Path) -> tuple[dict[str, str], str | None, str | None]:
    state = json.loads(path.read_text())
    resources = state["resources"]
    return (
        {name: resources[logical_id] for name, logical_id in TABLE_RESOURCES.items()},
        state.get("aws_endpoint_url"),
        state.get("region"),
    )


def _tables_from_stack(stack_name: str, region: str | None) -> dict[str, str]:
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    return {
        name: cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        for name, logical_id in TABLE_RESOURCES.items()
    }


def configure(args: argparse.Namespace) -> None:
    """Point the dal at the tables (``TUISHOU_*_TABLE``, ``AWS_ENDPOINT_URL``) as the functions are."""
    from tuishou.dal import dynamo

    endpoint, region = args.endpoint_url, args.region
    if args.stack:
        tables = _tables_from_stack(args.stack, region)
    elif args.catalog_table or args.tracking_table:
        if not (args.catalog_table and args.tracking_table):
            raise SystemExit("--catalog-table and --tracking-table go together")
        tables = {"catalog": args.catalog_table, "tracking": args.tracking_table}
    else:
        tables, state_endpoint, state_region = _tables_from_state(args.state)
        if state_endpoint:  # the local stack: moto, with its fixed credentials
            from tools.local_stack import aws_environment

            os.environ.update(aws_environment(state_endpoint))
        endpoint, region = endpoint or state_endpoint, region or state_region
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    if region:
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = region
    for name, physical in tables.items():
        os.environ[f"TUISHOU_{name.upper()}_TABLE"] = physical
    dynamo.reset()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_argument_group("tables (default: the local stack's state file)")
    source.add_argument("--state", type=Path, default=template.ROOT / ".local" / "stack.json")
    source.add_argument("--stack", help="a deployed CloudFormation stack: its CatalogTable and TrackingTable")
    source.add_argument("--catalog-table")
    source.add_argument("--tracking-table")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (moto, DynamoDB Local)")
    parser.add_argument("--region")
    parser.add_argument("--resume", metavar="CURSOR", help="a cursor a previous run printed")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    configure(args)
    counts = run(args.resume, args.page_size, lambda cursor: print(f"cursor {cursor}", file=sys.stderr, flush=True))
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
