"""tools/backfill.py on items exactly as the code before the streams redesign wrote them: old links redirect
(and draw coupons) again, a pause reaches them, the insights job sees old active products, and a replay
or a resumed run changes nothing more."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tests.helpers.insights import run_job
from tests.helpers.tasks import create_product, promoter
from tools import backfill

OLD_ACTIVE_TASKS_INDEX = "ACTIVETASKS"
"""The one GSI1 partition of every active-task entry before merchant shards (keys.ACTIVE_TASKS_INDEX then)."""


def _put(table: str, item_key: tuple[str, str], fields: dict[str, Any]) -> None:
    from tuishou.dal import dynamo

    dynamo.put(table, {**fields, "pk": item_key[0], "sk": item_key[1]})


def _old_link(product: dict[str, Any], promoter_id: str, suffix: str) -> dict[str, Any]:
    """A link as the old ``tracking.create_link`` wrote it: the same fields on the link, the promoter's
    one-link-per-task marker and the code item (which added the landing URL only)."""
    from tuishou.dal import keys

    link = {
        "link_id": f"lnk_{suffix:0>20}",
        "code": f"{suffix:0>8}",
        "promoter_id": promoter_id,
        "product_id": product["product_id"],
        "merchant_id": product["merchant_id"],
        "created_at": "2029-06-01T10:00:00.000Z",
    }
    _put("tracking", keys.promoter_link(promoter_id, product["product_id"]), link)
    _put("tracking", keys.link(link["link_id"]), link)
    _put("tracking", keys.link_code(link["code"]), {**link, "landing_url": product["landing_url"]})
    return link


def _old_active_entry(product_id: str) -> None:
    """The product's active-task entry as the old code wrote it: in the one unsharded partition."""
    from tuishou.dal import dynamo, keys

    entry = dynamo.get("catalog", keys.active_task(product_id))
    assert entry is not None
    dynamo.put("catalog", {**entry, "gsi1pk": OLD_ACTIVE_TASKS_INDEX})


def _without_active_entry(product_id: str) -> None:
    """A product saved before the active-task index existed: no entry at all."""
    from tuishou.dal import dynamo, keys

    dynamo.delete("catalog", keys.active_task(product_id))


def _old_channel_task(promoter_id: str) -> str:
    """An accepted wechat task as the old code left the promoter's channel counter item: the pointer, its
    counts and the set of counted refs (one sale of two counted: the quota-rescue coupon is open)."""
    from tuishou import clock
    from tuishou.dal import keys
    from tuishou.ids import new_id

    now = clock.now()
    terms = {
        "task_id": new_id("cht"),
        "template_id": new_id("ctt"),
        "accepted_at": clock.iso(now - timedelta(hours=1)),
        "deadline_at": clock.iso(now + timedelta(hours=23)),
        "target_transactions": 2,
        "bonus_minor": 5000,
        "currency": "CNY",
        "coupon_threshold": 1,
        "coupon_value_minor": 300,
    }
    counters = {"clicks": 7, "transactions": 1, "chtask": terms, "chtask_tx": 1, "chtask_promo": 0}
    _put("tracking", keys.promoter_channel(promoter_id, "wechat"), {**counters, "chtask_refs": {"tx:stripe:pi_old"}})
    return terms["task_id"]


def _redirect(api, code: str, channel: str | None = None):
    return api.get(f"/l/{code}", query={"ch": channel} if channel else None, headers={"User-Agent": "Mozilla/5.0"})


def _tables(stack) -> dict[str, list[dict[str, Any]]]:
    client = boto3.client("dynamodb")
    return {
        logical_id: sorted(
            client.scan(TableName=stack.physical[logical_id])["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"])
        )
        for logical_id in ("CatalogTable", "TrackingTable")
    }


def test_old_links_redirect_pause_and_reach_the_insights_job_after_the_backfill(api, stack):
    from tuishou import clock

    # Given three products and a promoter's links to them, as the code before the streams redesign wrote them
    merchant, seller = api.user("merchant"), promoter(api)
    sold, unindexed = create_product(api, merchant), create_product(api, merchant, title="Saved before the index")
    withdrawn = create_product(api, merchant, title="Paused")
    _old_active_entry(sold["product_id"])
    _without_active_entry(unindexed["product_id"])
    link, other = _old_link(sold, seller.sub, "1"), _old_link(unindexed, seller.sub, "2")
    stale = _old_link(withdrawn, seller.sub, "3")
    # And one product paused meanwhile: the status fan-out does not find its old code (not in GSI1), and the
    # old code item has no status to read, so its link still redirects
    assert api.post(f"/merchant/products/{withdrawn['product_id']}/pause", as_user=merchant).status == 200
    stack.drain_streams()
    assert _redirect(api, stale["code"]).status == 302
    # And the promoter's channel task as the old code left it (seeded after the drain: the old code's writes
    # reach no stream)
    task_id = _old_channel_task(seller.sub)
    # When the backfill runs
    report = backfill.run()
    # Then it reports what it added, by kind
    assert report == {
        "active_task_moved": 1,
        "active_task_restored": 1,
        "code_indexed": 3,
        "code_status": 3,
        "link_status": 3,
        "code_pointer": 3,
        "progress_ref": 1,
    }
    # And the sale the old task counted has its ref item, so a refund of it reverses the task's count
    from tuishou.dal import channel_tasks

    counted = channel_tasks.get_progress_ref(seller.sub, "wechat", "tx:stripe:pi_old")
    assert counted is not None and (counted.task_id, counted.dimension) == (task_id, "transactions")
    # And the paused product's old link answers 410
    assert _redirect(api, stale["code"]).status == 410
    # And the old links redirect, the share URL's click drawing the open task's coupon
    plain = _redirect(api, other["code"])
    assert plain.status == 302, plain.text
    on_wechat = _redirect(api, link["code"], "wechat")
    assert on_wechat.status == 302, on_wechat.text
    assert "tscoupon" in parse_qs(urlsplit(on_wechat.headers["Location"]).query)
    stack.drain_streams()
    # And the daily insights job finds both active products in their merchant's shard
    assert run_job(stack, clock.now())["active_tasks"] == 2
    # When the merchant pauses one product through the route
    paused = api.post(f"/merchant/products/{sold['product_id']}/pause", as_user=merchant)
    assert paused.status == 200, paused.text
    stack.drain_streams()  # the catalog consumer finds the old code through the product's GSI1 list
    # Then its old link answers 410, and sharing it too
    assert _redirect(api, link["code"]).status == 410
    share = api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "qq"}, as_user=seller)
    assert share.status == 410
    assert _redirect(api, other["code"]).status == 302
    # When the backfill runs again (after the deploy, as docs/operations.md says)
    before = _tables(stack)
    replay = backfill.run()
    # Then it changes nothing: the pause stays, the coupon pointer stays
    assert replay == dict.fromkeys(backfill.KINDS, 0)
    assert _tables(stack) == before
    from tuishou.dal import tracking

    target = tracking.get_code(link["code"])
    assert target is not None and target.product_status == "paused"
    assert target.chtasks["wechat"].task_id == task_id


def test_a_run_resumed_from_a_printed_cursor_finishes_the_job(api, stack):
    from tuishou.dal import tracking

    # Given five old links to one product
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    codes = {_old_link(product, promoter(api).sub, str(n))["code"] for n in range(5)}

    # When a run stops after the first cursor of the tracking table it printed
    class Stopped(Exception):
        pass

    printed: list[str] = []

    def stop_in_tracking(cursor: str) -> None:
        printed.append(cursor)
        if cursor.startswith("tracking:"):
            raise Stopped

    with pytest.raises(Stopped):
        backfill.run(page_size=2, progress=stop_in_tracking)
    # And the run is resumed from that cursor
    resumed = backfill.run(resume=printed[-1], page_size=2)
    # Then every old code is listed under its product, each written once across the two runs
    assert {code for code, _ in tracking.product_links(product["product_id"])} == codes
    assert "tracking" in printed and resumed["active_task_moved"] == 0
    assert resumed["code_indexed"] < 5 and backfill.run() == dict.fromkeys(backfill.KINDS, 0)


def test_the_command_reads_the_local_stacks_state_file(api, stack, tmp_path, capsys):
    # Given the local stack's state file and an old link
    state = tmp_path / "stack.json"
    state.write_text(json.dumps(stack.describe()))
    product = create_product(api, api.user("merchant"))
    _old_link(product, promoter(api).sub, "9")
    # When the command runs against it
    assert backfill.main(["--state", str(state)]) == 0
    # Then it prints what it changed as JSON
    assert json.loads(capsys.readouterr().out)["code_status"] == 1
