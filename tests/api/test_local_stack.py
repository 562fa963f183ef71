"""The local stack's control routes, swagger and error mapping, in-process and over real HTTP."""

import json
import urllib.error
import urllib.request

from tools.local_stack import serve


def test_local_users_route_creates_a_confirmed_user_with_a_token(api):
    # When a person creates a user through the control route
    response = api.post("/_local/users", {"username": "alice", "role": "promoter"})
    # Then the user exists with the role and its token opens protected routes
    assert response.status == 201
    created = response.json()
    me = api.get("/me", token=created["id_token"])
    assert me.json() == {
        "user_id": created["sub"],
        "role": "promoter",
        "username": me.json()["username"],
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
    }


def test_local_users_route_rejects_an_unknown_role(api):
    response = api.post("/_local/users", {"username": "mallory", "role": "root"})
    assert response.status == 422


def test_swagger_serves_the_ui_and_the_document(api):
    page = api.get("/swagger")
    assert page.status == 200
    assert "swagger-ui" in page.text
    document = api.get("/swagger", query={"format": "json"}).json()
    assert document["openapi"].startswith("3.")
    assert "/me" in document["paths"]


def test_stack_description_has_what_clients_and_providers_need(stack):
    described = stack.describe()
    for key in (
        "api_url",
        "aws_endpoint_url",
        "region",
        "user_pool_id",
        "user_pool_client_id",
        "resources",
        "stripe_webhook_secret",
        "alipay_app_id",
        "alipay_private_key_pem",
    ):
        assert described[key], key
    assert described["resources"]["LedgerTable"].endswith("LedgerTable")
    assert described["alipay_private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")


def test_notifications_route_lists_every_delivery(api, stack):
    # Given a notification to a user who opted into SMS with a phone on the profile, by day in Shanghai
    import time_machine

    from tests.api.test_notifications import EVERY_KIND, set_phone
    from tuishou.logic import notifications
    from tuishou.logic.notification_texts import DEFAULT_LOCALE, DEFAULT_TIME_ZONE, render

    set_phone("u1", "+8613800138000")
    notifications.set_preferences("u1", ["inapp", "sms"])
    with time_machine.travel("2030-03-01T03:00:00Z", tick=True):
        sent = notifications.notify("u1", "deadline_reminder", EVERY_KIND["deadline_reminder"])
        # When a person looks at the local notifications
        items = api.get("/_local/notifications").json()["items"]
    # Then each delivery is there with channel, recipient, kind, text (in the default locale) and the
    # notification it delivered
    text = render("deadline_reminder", EVERY_KIND["deadline_reminder"], DEFAULT_LOCALE, DEFAULT_TIME_ZONE).body
    assert [(i["channel"], i["recipient"], i["kind"], i["text"], i["notification_id"]) for i in items] == [
        ("inapp", "u1", "deadline_reminder", text, sent.notification_id),
        ("sms", "u1", "deadline_reminder", text, sent.notification_id),
    ]


def test_unknown_schedule_is_404(api):
    assert api.post("/_local/schedules/NoSuchFunction").status == 404


def test_real_http_server_on_loopback(stack):
    # Given the gateway served over HTTP on a free loopback port
    server = serve(stack.gateway, 0)
    port = server.server_address[1]
    try:
        # When an anonymous client calls a protected route, then 401 JSON
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/me")
            raise AssertionError("expected 401")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
            assert json.loads(exc.read())["error"]["code"] == "unauthorized"
        # And with a token created through /_local/users it gets in
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/_local/users",
            method="POST",
            data=json.dumps({"username": "bob", "role": "merchant"}).encode(),
        )
        token = json.loads(urllib.request.urlopen(request).read())["id_token"]
        me = urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/me", headers={"Authorization": token})
        )
        assert json.loads(me.read())["role"] == "merchant"
    finally:
        server.shutdown()
        server.server_close()


def test_a_cancelled_transaction_leaves_every_item_as_it_was(stack):
    # Given two items, one with a nested map
    from botocore.exceptions import ClientError

    from tuishou.dal import dynamo

    table, db = dynamo.table("ledger"), boto3_dynamodb()
    db.put_item(TableName=table, Item=dynamo.to_item({"pk": "A", "sk": "1", "n": 1, "m": {"x": [1, 2]}}))
    db.put_item(TableName=table, Item=dynamo.to_item({"pk": "B", "sk": "1", "n": 2}))
    before = sorted(map(str, db.scan(TableName=table)["Items"]))
    # When a transaction updates one in place, deletes the other, adds a third, then fails a condition
    try:
        db.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": dynamo.key("A", "1"),
                        "UpdateExpression": "ADD n :one SET m.x[0] = :z",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":z": {"N": "9"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": dynamo.key("B", "1")}},
                {"Put": {"TableName": table, "Item": dynamo.to_item({"pk": "C", "sk": "1"})}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": dynamo.to_item({"pk": "A", "sk": "2"}),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
        raise AssertionError("the transaction should have been cancelled")
    except ClientError as error:
        assert error.response["Error"]["Code"] == "TransactionCanceledException"
    # Then the table is exactly as before
    assert sorted(map(str, db.scan(TableName=table)["Items"])) == before
    # And a transaction that commits still writes
    db.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": dynamo.key("A", "1"),
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        ]
    )
    assert db.get_item(TableName=table, Key=dynamo.key("A", "1"))["Item"]["n"] == {"N": "2"}


def boto3_dynamodb():
    import boto3

    return boto3.client("dynamodb")


def test_reset_forgets_what_a_test_left_and_keeps_the_provisioned_stack(stack):
    # Given a test that left items, a queued message, a published notification, a user, a parameter and a
    # changed provider secret behind
    import boto3

    from tuishou.dal import dynamo

    ssm, sqs = boto3.client("ssm"), boto3.client("sqs")
    boto3.client("dynamodb").put_item(TableName=dynamo.table("ledger"), Item=dynamo.key("X", "1"))
    sqs.send_message(QueueUrl=stack.physical["CompensationScanQueue"], MessageBody="{}")
    from tests.api.test_notifications import EVERY_KIND
    from tuishou.logic.notifications import notify

    notify("u1", "compensation", EVERY_KIND["compensation"])
    assert stack.notifications()
    stack.create_user("alice", "promoter")
    ssm.put_parameter(Name="/tuishou/faults", Value="{}", Type="String", Overwrite=True)
    ssm.put_parameter(Name="/tuishou/alipay/app-id", Value="rotated", Type="String", Overwrite=True)
    pool, secret = stack.physical["UserPool"], stack.provider.stripe_webhook_secret
    # When the stack is reset for the next test
    stack.reset()
    # Then none of it is there, and the resources and provider secrets are those provisioned
    assert boto3.client("dynamodb").scan(TableName=dynamo.table("ledger"))["Items"] == []
    assert "Messages" not in sqs.receive_message(QueueUrl=stack.physical["CompensationScanQueue"])
    assert stack.notifications() == []
    assert boto3.client("cognito-idp").list_users(UserPoolId=pool)["Users"] == []
    pages = ssm.get_paginator("describe_parameters").paginate()  # ten parameters a page
    assert sorted(p["Name"] for page in pages for p in page["Parameters"]) == sorted(
        (
            "/tuishou/stripe/webhook-secrets",
            "/tuishou/stripe/secret-key",
            "/tuishou/alipay/app-private-key",
            "/tuishou/alipay/app-id",
            "/tuishou/alipay/public-key",
            "/tuishou/visitor-key",
            "/tuishou/wechat/app-id",
            "/tuishou/wechat/app-secret",
            "/tuishou/push/apns-signing-key",
            "/tuishou/push/apns-key-id",
            "/tuishou/push/fcm-server-key",
        )
    )
    assert ssm.get_parameter(Name="/tuishou/alipay/app-id")["Parameter"]["Value"] == stack.provider.alipay_app_id
    assert (stack.physical["UserPool"], stack.provider.stripe_webhook_secret) == (pool, secret)
    assert stack.create_user("alice", "promoter")["username"] == "alice@users.tuishou.test"
