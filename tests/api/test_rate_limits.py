"""Per-user rate limits: shares (20 a minute, 200 an hour by default) and every write route (configurable),
answered 429 with ``Retry-After`` in the one error shape, admitted again once the window has passed; reads,
other users and the providers' webhooks are not limited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.helpers.insights import pay
from tests.helpers.tasks import create_product, link_for, promoter

MINUTE = datetime(2030, 3, 1, 8, 0, 15, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(MINUTE, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(api, clock):
    merchant = api.user("merchant")
    product = create_product(api, merchant)
    seller = promoter(api)
    return seller, link_for(api, seller, product["product_id"])


def _share(api, seller, link):
    return api.post(f"/promoter/links/{link['link_id']}/shares", {"channel": "wechat"}, as_user=seller)


def test_the_21st_share_in_a_minute_is_429_with_retry_after_then_ok_the_next_minute(api, stack, clock, setup):
    seller, link = setup
    # When a promoter shares 20 times within a minute (08:00:15)
    assert [_share(api, seller, link).status for _ in range(20)] == [201] * 20
    # Then the 21st share is refused in the one error shape, with the seconds left in the minute
    refused = _share(api, seller, link)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "45"
    assert refused.json()["error"]["code"] == "too_many_requests"
    # And another promoter is not limited by it
    other = promoter(api)
    other_link = link_for(api, other, link["product_id"])
    assert _share(api, other, other_link).status == 201
    # And after the minute the promoter may share again
    clock.shift(timedelta(seconds=45))
    assert _share(api, seller, link).status == 201


def test_the_hour_limit_answers_retry_after_until_the_next_hour(api, stack, clock, setup, monkeypatch):
    seller, link = setup
    monkeypatch.setenv("TUISHOU_SHARE_RATE_PER_HOUR", "3")
    # When a promoter shares 3 times in the hour, a minute apart
    for _ in range(3):
        assert _share(api, seller, link).status == 201
        clock.shift(timedelta(minutes=1))
    # Then the 4th share (08:03:15) waits for the next hour
    refused = _share(api, seller, link)
    assert (refused.status, refused.headers["Retry-After"]) == (429, str(60 * 60 - 3 * 60 - 15))
    # And at 09:00 it is admitted
    clock.move_to(datetime(2030, 3, 1, 9, 0, tzinfo=UTC))
    seller = api.signed_in(seller)  # an ID token lasts an hour
    assert _share(api, seller, link).status == 201


def test_write_routes_share_one_per_user_limit_and_reads_are_not_counted(api, stack, clock, monkeypatch):
    monkeypatch.setenv("TUISHOU_WRITE_RATE_PER_MINUTE", "2")
    user = api.user("promoter")
    # When a user makes two writes in a minute on two routes (reads in between)
    assert api.patch("/me", {"locale": "en"}, as_user=user).status == 200
    assert api.get("/me", as_user=user).status == 200
    registered = api.post("/promoter/profile", {"display_name": "Li", "phone": "+8613800000000"}, as_user=user)
    assert registered.status == 201, registered.text
    # Then the third write, whichever route, is 429; reads still answer
    refused = api.patch("/me", {"locale": "zh-CN"}, as_user=user)
    assert refused.status == 429
    assert (refused.headers["Retry-After"], refused.json()["error"]["code"]) == ("45", "too_many_requests")
    assert api.get("/me", as_user=user).status == 200
    # And another user is not limited by it
    assert api.patch("/me", {"locale": "en"}, as_user=api.user("merchant")).status == 200
    # And the next minute the user is admitted again
    clock.shift(timedelta(minutes=1))
    assert api.patch("/me", {"locale": "zh-CN"}, as_user=user).status == 200


def test_a_refused_share_counts_nothing_and_writes_nothing(api, stack, clock, setup, monkeypatch):
    import boto3

    from tuishou.dal import keys

    seller, link = setup
    monkeypatch.setenv("TUISHOU_SHARE_RATE_PER_MINUTE", "1")
    # Given the minute's one share made
    assert _share(api, seller, link).status == 201
    # When the promoter keeps trying within the minute
    assert [_share(api, seller, link).status for _ in range(5)] == [429] * 5
    # Then the refusals wrote no share, and did not fill the next minute: one share is admitted there
    clock.shift(timedelta(minutes=1))
    assert _share(api, seller, link).status == 201
    shares = boto3.client("dynamodb").query(
        TableName=stack.physical["TrackingTable"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :share)",
        ExpressionAttributeValues={":pk": {"S": keys.share(link["link_id"], "")[0]}, ":share": {"S": "SHARE#"}},
    )["Items"]
    assert len(shares) == 2


def test_provider_webhooks_are_not_rate_limited(api, stack, clock, payments, monkeypatch):
    monkeypatch.setenv("TUISHOU_WRITE_RATE_PER_MINUTE", "1")
    # When a provider delivers three notifications within a minute
    outcomes = [pay(payments, payments.seed_click().click_id, 9900)["outcome"] for _ in range(3)]
    # Then none is refused (``pay`` asserts each is answered 200)
    assert outcomes == ["settled"] * 3
