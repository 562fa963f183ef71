"""The stream event sources of template.yaml: their FilterCriteria, evaluated as Lambda does, pass exactly
the records each consumer derives from (keys built by dal/keys.py, so the template and the keys cannot
drift apart), and the local evaluation of the pattern language is right."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools import streams
from tuishou.dal import keys


def record(name: str, key: tuple[str, str]) -> dict:
    return {
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": {"S": key[0]}, "sk": {"S": key[1]}}, "NewImage": {"n": {"N": "1"}}},
    }


def source(function_id: str) -> streams.StreamSource:
    [found] = [s for s in streams.sources() if s.function_id == function_id]
    return found


PASSED = {
    "TrackingStreamFunction": [
        ("INSERT", keys.click("clk_1")),
        ("INSERT", keys.share("lnk_1", "shr_1")),
        ("MODIFY", keys.promoter_channel("p1", "wechat")),
    ],
    "LedgerStreamFunction": [
        ("INSERT", keys.settlement("stripe", "cs_1")),
        ("MODIFY", keys.settlement("alipay", "2026010122001")),
        ("INSERT", keys.rewardable_event("channel_bonus:ctk_1")),
        ("INSERT", keys.payout("u1", "pout_1")),
    ],
    "CatalogStreamFunction": [("MODIFY", keys.product("prd_1"))],
    "NotificationStreamFunction": [("INSERT", keys.notification("u1", "ntf_1"))],
}
DROPPED = {
    "TrackingStreamFunction": [
        ("MODIFY", keys.click("clk_1")),
        ("REMOVE", keys.click("clk_1")),  # a click expiring (TTL) derives nothing
        ("REMOVE", keys.share("lnk_1", "shr_1")),
        ("INSERT", keys.link("lnk_1")),
        ("INSERT", keys.link_code("abc")),
        ("INSERT", keys.click_coupon("clk_1")),
        ("INSERT", keys.counted("clk_1")),
        ("INSERT", keys.channel_task_ref("p1", "wechat", "tx:stripe:cs_1")),
        ("INSERT", keys.channel_task_reversal("p1", "wechat", "tx:stripe:cs_1")),
        ("MODIFY", keys.promoter_task_history("p1", "prd_1")),
        ("INSERT", keys.day_promoter("prd_1", "2026-01-01", "p1")),
    ],
    "LedgerStreamFunction": [
        ("REMOVE", keys.settlement("stripe", "cs_1")),
        ("INSERT", keys.pending_refund("stripe", "cs_1")),
        ("INSERT", keys.refund("stripe", "cs_1", 100)),
        ("INSERT", keys.rejected_notification("stripe", "n1")),
        ("INSERT", keys.rewardable_event("sale_commission:stripe:cs_1")),
        ("MODIFY", keys.rewardable_event("channel_bonus:ctk_1")),
        ("INSERT", keys.grant("channel_bonus:ctk_1")),
        ("MODIFY", keys.payout("u1", "pout_1")),  # a change other than its end (sending): nothing to tell
        ("INSERT", keys.open_payout("u1", "CNY")),
        ("REMOVE", keys.open_payout("u1", "CNY")),
        ("MODIFY", keys.account_balance("u1", "CNY")),
        ("INSERT", keys.account_entry("u1", "2026-01-01T00:00:00.000Z", "ent_1")),
    ],
    "CatalogStreamFunction": [
        ("INSERT", keys.product("prd_1")),
        ("REMOVE", keys.product("prd_1")),
        ("MODIFY", keys.product_counters("prd_1", 3)),
        ("MODIFY", keys.task_entry("prd_1", "student")),
        ("INSERT", keys.ranking_dirty("2026010100", "prd_1")),
    ],
    "NotificationStreamFunction": [
        ("MODIFY", keys.notification("u1", "ntf_1")),  # a coalesced revision or a delivery's status: told once
        ("REMOVE", keys.notification("u1", "ntf_1")),
        ("INSERT", keys.notification_preferences("u1")),
        ("INSERT", keys.profile("u1")),
        ("INSERT", keys.sms_allowance("u1", "2026-01-01")),
    ],
}


@pytest.mark.parametrize(
    ("function_id", "name", "key"), [(f, n, k) for f, rows in PASSED.items() for n, k in rows], ids=str
)
def test_each_consumer_is_passed_the_facts_it_derives_from(function_id, name, key):
    assert source(function_id).passes(record(name, key))


@pytest.mark.parametrize(
    ("function_id", "name", "key"), [(f, n, k) for f, rows in DROPPED.items() for n, k in rows], ids=str
)
def test_each_consumer_is_spared_what_it_does_not_derive_from(function_id, name, key):
    assert not source(function_id).passes(record(name, key))


@pytest.mark.parametrize(("status", "passed"), [("paid", True), ("failed", True), ("sending", False)])
def test_the_ledger_consumer_is_passed_a_payout_only_when_it_ends(status, passed):
    # Given a payout record changed to ``status``
    change = record("MODIFY", keys.payout("u1", "pout_1"))
    change["dynamodb"]["NewImage"] = {"status": {"S": status}}
    # Then the ledger consumer sees it only when it became paid or failed (its user is told)
    assert source("LedgerStreamFunction").passes(change) is passed


def test_every_stream_event_source_fails_safe():
    # Given every DynamoDB event source of the template
    found = streams.sources()
    assert {s.function_id for s in found} == set(PASSED)
    for s in found:
        # Then a failing batch is bisected, retried a bounded number of times, reported record by record and
        # finally sent to the failure queue: a poison record never wedges a stream
        assert s.bisect and s.report_failures, s.function_id
        assert 0 < s.max_retries <= 10 and 0 < s.max_record_age <= 86_400, s.function_id
        assert s.on_failure == "StreamFailureQueue", s.function_id
        assert s.filters, s.function_id


# ---------------------------------------------------------------- the pattern language (the subset emulated)
def test_value_lists_prefix_exists_and_nesting_match_as_lambda_does():
    pattern = {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {
            "Keys": {"pk": {"S": [{"prefix": "CLICK#"}]}},
            "NewImage": {"bot": {"BOOL": [{"exists": False}]}, "n": {"N": ["1", "2"]}},
        },
    }
    assert streams.matches(pattern, record("INSERT", ("CLICK#1", "CLICK")))
    assert not streams.matches(pattern, record("REMOVE", ("CLICK#1", "CLICK")))
    assert not streams.matches(pattern, record("INSERT", ("SHARE#1", "CLICK")))
    flagged = record("INSERT", ("CLICK#1", "CLICK"))
    flagged["dynamodb"]["NewImage"]["bot"] = {"BOOL": True}
    assert not streams.matches(pattern, flagged)
    assert not streams.matches({"dynamodb": {"OldImage": {"n": {"N": [{"exists": True}]}}}}, flagged)
    assert streams.matches({"eventName": [{"exists": True}]}, flagged)


def test_a_nested_pattern_does_not_match_a_missing_or_scalar_field():
    assert not streams.matches({"dynamodb": {"OldImage": {"n": {"N": ["1"]}}}}, record("INSERT", ("a", "b")))
    assert not streams.matches({"eventName": {"x": ["1"]}}, record("INSERT", ("a", "b")))


@given(value=st.text(max_size=12), prefix=st.text(max_size=4))
def test_prefix_matches_exactly_the_strings_that_start_with_it(value, prefix):
    pattern = {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": prefix}]}}}}
    assert streams.matches(pattern, record("INSERT", (value, "x"))) is value.startswith(prefix)


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": [{"anything-but": ["REMOVE"]}]},
        {"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 0]}]}}}},
        {"eventName": "INSERT"},
        {"eventName": []},
    ],
    ids=json.dumps,
)
def test_a_pattern_the_emulation_does_not_implement_is_refused(pattern):
    # A filter the local event source would evaluate differently from Lambda must not pass silently
    props = {"Stream": {"Fn::GetAtt": ["TrackingTable", "StreamArn"]}, "FilterCriteria": {"Filters": []}}
    props["FilterCriteria"]["Filters"].append({"Pattern": json.dumps(pattern)})
    with pytest.raises(ValueError):
        streams._source("TrackingStreamFunction", props)
