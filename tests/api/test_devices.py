"""Push devices and the WeChat binding through the API (HTTP-shaped events through the local gateway): a
token registered twice is one device with one SNS endpoint, removal deletes the endpoint, a disabled
endpoint reports so; the WeChat openid is bound and unbound per caller."""

from __future__ import annotations

import boto3

from tuishou.dal import devices, push, wechat

IOS_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
ANDROID_TOKEN = "fcm:APA91bH-example_token.value"


def endpoints(stack, application_id):
    arn = stack.physical[application_id]
    return boto3.client("sns").list_endpoints_by_platform_application(PlatformApplicationArn=arn)["Endpoints"]


def test_a_token_registered_twice_is_one_device_with_one_endpoint(api, stack):
    promoter = api.user("promoter")
    # Given a promoter registers an iOS token
    first = api.post("/me/devices", {"platform": "apns", "token": IOS_TOKEN}, as_user=promoter)
    assert first.status == 201, first.text
    # When the app registers the same token again (every launch does)
    again = api.post("/me/devices", {"platform": "apns", "token": IOS_TOKEN}, as_user=promoter)
    # Then it is the same device, listed once, with one endpoint on the APNs application
    assert again.status == 200, again.text
    assert again.json() == first.json()
    listed = api.get("/me/devices", as_user=promoter).json()["items"]
    assert [(d["device_id"], d["platform"]) for d in listed] == [(first.json()["device_id"], "apns")]
    assert len(endpoints(stack, "ApnsPlatformApplication")) == 1
    assert IOS_TOKEN not in str(listed)  # the token never comes back


def test_each_platform_registers_on_its_own_application_and_users_do_not_see_each_other(api, stack):
    promoter, merchant = api.user("promoter"), api.user("merchant")
    # Given a promoter with an Android and an iOS device
    assert api.post("/me/devices", {"platform": "fcm", "token": ANDROID_TOKEN}, as_user=promoter).status == 201
    assert api.post("/me/devices", {"platform": "apns", "token": IOS_TOKEN}, as_user=promoter).status == 201
    # Then each has an endpoint on its platform's application
    assert len(endpoints(stack, "FcmPlatformApplication")) == 1
    assert len(endpoints(stack, "ApnsPlatformApplication")) == 1
    # And another user sees none of them
    assert sorted(d["platform"] for d in api.get("/me/devices", as_user=promoter).json()["items"]) == ["apns", "fcm"]
    assert api.get("/me/devices", as_user=merchant).json() == {"items": []}


def test_deleting_a_device_deletes_its_endpoint_and_unknown_ones_are_no_error(api, stack):
    merchant = api.user("merchant")
    device_id = api.post("/me/devices", {"platform": "fcm", "token": ANDROID_TOKEN}, as_user=merchant).json()[
        "device_id"
    ]
    # When the merchant removes it, and then removes it again
    assert api.delete(f"/me/devices/{device_id}", as_user=merchant).status == 204
    assert api.delete(f"/me/devices/{device_id}", as_user=merchant).status == 204
    # Then it is gone, and so is its endpoint
    assert api.get("/me/devices", as_user=merchant).json() == {"items": []}
    assert endpoints(stack, "FcmPlatformApplication") == []


def test_bad_registrations_are_rejected_and_anonymous_callers_refused(api, stack):
    promoter = api.user("promoter")
    # Then an unknown platform, a short token and an extra field are 422; no token is a 401
    for body in (
        {"platform": "wns", "token": IOS_TOKEN},
        {"platform": "apns", "token": "short"},
        {"platform": "apns", "token": IOS_TOKEN, "user_id": "someone-else"},
    ):
        response = api.post("/me/devices", body, as_user=promoter)
        assert response.status == 422, (body, response.text)
    assert api.post("/me/devices", {"platform": "apns", "token": IOS_TOKEN}).status == 401
    assert api.put("/me/social/wechat", {"openid": "oABC"}).status == 401


def test_push_publishes_to_the_device_and_reports_an_endpoint_sns_disabled(api, stack):
    promoter = api.user("promoter")
    api.post("/me/devices", {"platform": "apns", "token": IOS_TOKEN}, as_user=promoter)
    (device,) = devices.devices_of(promoter.sub)
    # Given a live endpoint, a push goes out
    assert push.push(device, "奖励到账", "您获得了 ¥12.34 的奖励", {"notification_id": "n1"}) is True
    # When SNS disables the endpoint (APNs said the token is no longer valid)
    boto3.client("sns").set_endpoint_attributes(EndpointArn=device.endpoint_arn, Attributes={"Enabled": "false"})
    # Then push says so, and the caller forgets the device (its endpoint too)
    assert push.push(device, "奖励到账", "您获得了 ¥12.34 的奖励", {}) is False
    devices.forget_device(promoter.sub, device.device_id)
    assert devices.devices_of(promoter.sub) == []
    assert endpoints(stack, "ApnsPlatformApplication") == []


def test_a_token_registered_again_after_sns_disabled_it_is_enabled_again(api, stack):
    promoter = api.user("promoter")
    api.post("/me/devices", {"platform": "fcm", "token": ANDROID_TOKEN}, as_user=promoter)
    (device,) = devices.devices_of(promoter.sub)
    boto3.client("sns").set_endpoint_attributes(EndpointArn=device.endpoint_arn, Attributes={"Enabled": "false"})
    # When the app registers the token again (the platform handed it out again)
    assert api.post("/me/devices", {"platform": "fcm", "token": ANDROID_TOKEN}, as_user=promoter).status == 200
    # Then pushes reach it again
    assert push.push(device, "title", "body", {}) is True


def test_wechat_binding_is_per_caller_and_can_be_removed(api, stack):
    promoter, merchant = api.user("promoter"), api.user("merchant")
    # When the promoter binds an openid, then binds another (a new WeChat account)
    assert api.put("/me/social/wechat", {"openid": "oFirst_openid-1"}, as_user=promoter).status == 200
    response = api.put("/me/social/wechat", {"openid": "oSecond_openid-2"}, as_user=promoter)
    assert response.status == 200, response.text
    assert response.json()["openid"] == "oSecond_openid-2"
    # Then the latest is where WeChat messages go, and the merchant has none
    assert wechat.openid_of(promoter.sub) == "oSecond_openid-2"
    assert wechat.openid_of(merchant.sub) is None
    # When the promoter unbinds it (twice is fine)
    assert api.delete("/me/social/wechat", as_user=promoter).status == 204
    assert api.delete("/me/social/wechat", as_user=promoter).status == 204
    assert wechat.openid_of(promoter.sub) is None
    # And a malformed openid is refused
    assert api.put("/me/social/wechat", {"openid": "not an openid!"}, as_user=promoter).status == 422


def test_a_phone_signed_in_by_another_user_moves_to_them(api, stack):
    first, second = api.user("promoter"), api.user("promoter")
    # Given the first user registered the phone's token
    assert api.post("/me/devices", {"platform": "apns", "token": IOS_TOKEN}, as_user=first).status == 201
    # When the second user signs in on the same phone and the app registers the token
    response = api.post("/me/devices", {"platform": "apns", "token": IOS_TOKEN}, as_user=second)
    assert response.status == 201, response.text
    # Then the device is the second user's only: the first user's notifications no longer reach the phone
    assert api.get("/me/devices", as_user=first).json() == {"items": []}
    assert [d["device_id"] for d in api.get("/me/devices", as_user=second).json()["items"]] == [
        response.json()["device_id"]
    ]
    # And the first user removing it (a stale app) leaves the second user's endpoint alone
    assert api.delete(f"/me/devices/{response.json()['device_id']}", as_user=first).status == 204
    assert len(endpoints(stack, "ApnsPlatformApplication")) == 1
    # While the second user removing it deletes the endpoint
    assert api.delete(f"/me/devices/{response.json()['device_id']}", as_user=second).status == 204
    assert endpoints(stack, "ApnsPlatformApplication") == []
