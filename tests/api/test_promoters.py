"""Promoter profiles and admin-set tags."""

import pytest

from tests.helpers.tasks import promoter

PROFILE = {"display_name": "Lin", "phone": "+8613800000000"}  # invite codes: tests/api/test_compensation.py


def test_register_profile_is_201_with_default_tag_and_409_the_second_time(api):
    # Given a promoter
    user = api.user("promoter")
    # When it registers its profile (with a body that tries to pick its own identity and tags)
    response = api.post("/promoter/profile", {**PROFILE, "user_id": "someone-else", "tags": ["vip"]}, as_user=user)
    # Then the identity comes from the token and the tag defaults to standard
    assert response.status == 201, response.text
    profile = response.json()
    assert profile["user_id"] == user.sub
    assert profile["tags"] == ["standard"]
    assert profile["invite_code"] is None
    # And registering again is a conflict
    assert api.post("/promoter/profile", PROFILE, as_user=user).status == 409


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "call me"}, "phone"),
        ({"display_name": ""}, "display_name"),
        ({"invite_code": "bad code!"}, "invite_code"),
    ],
)
def test_bad_profile_is_422_and_writes_nothing(api, overrides, field):
    user = api.user("promoter")
    response = api.post("/promoter/profile", {**PROFILE, **overrides}, as_user=user)
    assert response.status == 422
    assert response.json()["error"]["field"] == field
    # Nothing was written: a valid registration still succeeds
    assert api.post("/promoter/profile", PROFILE, as_user=user).status == 201


def test_merchant_cannot_register_a_promoter_profile(api):
    assert api.post("/promoter/profile", PROFILE, as_user=api.user("merchant")).status == 403


def test_admin_sets_tags(api):
    user = promoter(api)
    response = api.put(f"/admin/promoters/{user.sub}/tags", {"tags": ["gold", "standard"]}, as_user=api.admin)
    assert response.status == 200, response.text
    assert response.json()["tags"] == ["gold", "standard"]


def test_only_admins_set_tags(api):
    user = promoter(api)
    assert api.put(f"/admin/promoters/{user.sub}/tags", {"tags": ["gold"]}, as_user=user).status == 403


def test_tags_of_an_unregistered_promoter_is_404(api):
    user = api.user("promoter")
    assert api.put(f"/admin/promoters/{user.sub}/tags", {"tags": ["gold"]}, as_user=api.admin).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tags": ["Gold!"]}, "tags[0]"),
        ({"tags": []}, "tags"),
        ({"tags": ["gold", "gold"]}, "tags"),
        ({"tags": [f"t{i}" for i in range(9)]}, "tags"),
    ],
)
def test_bad_tags_are_422_and_change_nothing(api, body, field):
    user = promoter(api)
    response = api.put(f"/admin/promoters/{user.sub}/tags", body, as_user=api.admin)
    assert response.status == 422
    assert response.json()["error"]["field"] == field
    assert api.put(f"/admin/promoters/{user.sub}/tags", {"tags": ["standard"]}, as_user=api.admin).json()["tags"] == [
        "standard"
    ]


def test_malformed_promoter_id_is_422(api):
    response = api.put("/admin/promoters/not-a-sub/tags", {"tags": ["gold"]}, as_user=api.admin)
    assert response.status == 422
    assert response.json()["error"]["field"] == "promoter_id"
