"""Each user's language and time zone: set at promoter registration or by PATCH /me (any role), shown by
GET /me, and what every notification is rendered in."""

from __future__ import annotations

import pytest

from tests.api.test_notifications import EVERY_KIND
from tuishou.logic.notification_texts import render
from tuishou.logic.notifications import notify

DEFAULTS = {"locale": "zh-CN", "time_zone": "Asia/Shanghai"}
PROFILE = {"display_name": "Lin", "phone": "+8613800000000"}


def settings_of(api, user) -> dict:
    me = api.get("/me", as_user=user)
    assert me.status == 200, me.text
    return {k: me.json()[k] for k in ("locale", "time_zone")}


@pytest.mark.parametrize("role", ["promoter", "merchant", "admin"])
def test_any_role_reads_the_defaults_and_changes_each_setting_alone(api, role):
    # Given a user who never chose
    user = api.user(role)
    assert settings_of(api, user) == DEFAULTS
    # When they switch to English
    changed = api.patch("/me", {"locale": "en"}, as_user=user)
    # Then the answer and GET /me show it, the time zone unchanged
    assert changed.status == 200, changed.text
    assert changed.json() == {**api.get("/me", as_user=user).json(), "locale": "en", "time_zone": "Asia/Shanghai"}
    # And a later time-zone change keeps the language
    assert api.patch("/me", {"time_zone": "Europe/Berlin"}, as_user=user).status == 200
    assert settings_of(api, user) == {"locale": "en", "time_zone": "Europe/Berlin"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"locale": "fr"}, "locale"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"locale": "en", "role": "admin"}, "role"),
        ({}, "body"),
    ],
)
def test_bad_settings_are_422_naming_the_field_and_change_nothing(api, dynamodb_requests, body, field):
    # Given a user
    user = api.user("merchant")
    # When they send a setting that does not exist
    dynamodb_requests.reset()
    response = api.patch("/me", body, as_user=user)
    # Then it is refused naming the field, and nothing was written (but for the caller's rate-limit window, which
    # counts a write request before the route runs)
    assert response.status == 422, response.text
    assert response.json()["error"]["field"] == field
    assert dynamodb_requests.operations["UpdateItem"] == dynamodb_requests.rate_limit_windows <= 1
    assert settings_of(api, user) == DEFAULTS


def test_me_needs_a_token(api):
    assert api.get("/me").status == 401
    assert api.patch("/me", {"locale": "en"}).status == 401


def test_promoter_registration_takes_the_settings_and_shows_them(api):
    # Given two promoters, one who registers in English in New York, one who says nothing
    chooser, silent = api.user("promoter"), api.user("promoter")
    # When they register
    chosen = api.post(
        "/promoter/profile", {**PROFILE, "locale": "en", "time_zone": "America/New_York"}, as_user=chooser
    )
    defaulted = api.post("/promoter/profile", PROFILE, as_user=silent)
    # Then each profile shows its settings, and GET /me agrees
    assert chosen.status == 201 and defaulted.status == 201, (chosen.text, defaulted.text)
    assert (chosen.json()["locale"], chosen.json()["time_zone"]) == ("en", "America/New_York")
    assert {k: defaulted.json()[k] for k in DEFAULTS} == DEFAULTS
    assert settings_of(api, chooser) == {"locale": "en", "time_zone": "America/New_York"}
    assert settings_of(api, silent) == DEFAULTS


def test_a_bad_time_zone_at_registration_is_422_and_writes_nothing(api):
    user = api.user("promoter")
    response = api.post("/promoter/profile", {**PROFILE, "time_zone": "Asia/Atlantis"}, as_user=user)
    assert response.status == 422 and response.json()["error"]["field"] == "time_zone"
    # Nothing was written: a valid registration still succeeds
    assert api.post("/promoter/profile", PROFILE, as_user=user).status == 201


def test_every_kind_reaches_each_user_in_their_locale_and_time_zone(api, stack):
    # Given a reader of Chinese in Shanghai (the default) and one of English in New York
    chinese, english = api.user("promoter"), api.user("promoter")
    assert api.patch("/me", {"locale": "en", "time_zone": "America/New_York"}, as_user=english).status == 200
    # When one notification of every kind goes to each
    for user in (chinese, english):
        for kind, data in EVERY_KIND.items():
            notify(user.sub, kind, data)
    # Then each inbox item and each delivery carries the text of the reader's template
    expected = {
        chinese.sub: {k: render(k, d, "zh-CN", "Asia/Shanghai").body for k, d in EVERY_KIND.items()},
        english.sub: {k: render(k, d, "en", "America/New_York").body for k, d in EVERY_KIND.items()},
    }
    for user in (chinese, english):
        items = api.get("/promoter/notifications", as_user=user, query={"limit": 20}).json()["items"]
        assert {i["kind"]: i["text"] for i in items} == expected[user.sub]
    for sent in stack.notifications():
        assert sent["text"] == expected[sent["recipient"]][sent["kind"]]
    # And the deadline is shown in each reader's own clock (08:00 UTC)
    assert "1月2日 16:00" in expected[chinese.sub]["deadline_reminder"]
    assert "2 Jan 03:00" in expected[english.sub]["deadline_reminder"]
