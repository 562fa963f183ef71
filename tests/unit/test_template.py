"""Template invariants: what every function, schedule and table must carry."""

from tools import template

SCHEDULED_IDS = {
    "RankingRecalculationFunction",
    "DeadlineReminderFunction",
    "MerchantInsightsFunction",
    "CompensationScanFunction",
    "HoldReleaseFunction",
}


def test_every_function_traces_has_log_retention_and_alarms():
    # Given the template's functions and resources
    functions = template.resources("AWS::Serverless::Function")
    all_resources = template.resources()
    tracing = template.load()["Globals"]["Function"].get("Tracing")
    # Then each is traced, keeps logs for a bounded time and alarms on errors and throttles
    for logical_id, resource in functions.items():
        assert resource["Properties"].get("Tracing", tracing) == "Active", logical_id
        log_group = all_resources[f"{logical_id}LogGroup"]["Properties"]
        assert log_group["RetentionInDays"], logical_id
        for metric in ("Errors", "Throttles"):
            alarm = all_resources[f"{logical_id}{metric}Alarm"]["Properties"]
            assert alarm["MetricName"] == metric
            assert alarm["Dimensions"][0]["Value"] == {"Ref": logical_id}


def test_every_schedule_has_retry_policy_and_dead_letter_queue():
    # Given every ScheduleV2 event of the template
    for spec in template.functions():
        for name, event in spec.properties.get("Events", {}).items():
            if event["Type"] != "ScheduleV2":
                continue
            props = event["Properties"]
            # Then it retries a bounded number of times and dead-letters what still fails
            assert props["RetryPolicy"]["MaximumRetryAttempts"] >= 1, (spec.logical_id, name)
            assert "DeadLetterConfig" in props, (spec.logical_id, name)
            assert spec.logical_id in SCHEDULED_IDS, f"{spec.logical_id} is not a fixed scheduled function id"


def test_every_table_is_on_demand_with_point_in_time_recovery():
    for logical_id, resource in template.resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id


def test_public_routes_are_exactly_the_link_webhooks_and_swagger():
    public = {(r.method, r.path) for r in template.routes() if r.public}
    allowed = {("GET", "/l/{code}"), ("POST", "/webhooks/{provider}"), ("GET", "/swagger")}
    assert public <= allowed
    assert ("GET", "/swagger") in public


def test_no_local_control_route_in_the_template():
    assert not [r for r in template.routes() if r.path.startswith("/_local")]


def test_user_pool_has_role_attribute_that_clients_cannot_write():
    pool = template.resources("AWS::Cognito::UserPool")["UserPool"]["Properties"]
    assert any(a["Name"] == "role" for a in pool["Schema"])
    client = template.resources("AWS::Cognito::UserPoolClient")["UserPoolClient"]["Properties"]
    assert "custom:role" not in client["WriteAttributes"]


def test_every_route_handler_module_exists():
    for spec in template.functions():
        assert spec.module_path.is_file(), spec.module_path


def test_no_function_environment_references_the_api():
    # The API's definition references every function; a function referencing the API would be a cycle
    # that CloudFormation refuses to deploy.
    import json

    globals_env = template.load()["Globals"]["Function"]["Environment"]["Variables"]
    for spec in template.functions():
        env = {**globals_env, **spec.environment}
        assert "TuishouApi" not in json.dumps(env, default=str), spec.logical_id


def test_every_table_and_the_user_pool_survive_a_stack_deletion():
    # Given the stateful resources (the ledger first among them)
    stateful = {**template.resources("AWS::DynamoDB::Table"), **template.resources("AWS::Cognito::UserPool")}
    assert "LedgerTable" in stateful
    for logical_id, resource in stateful.items():
        # Then deleting or replacing them keeps the data, and deletion itself is refused
        assert resource.get("DeletionPolicy") == "Retain", logical_id
        assert resource.get("UpdateReplacePolicy") == "Retain", logical_id
    for logical_id, resource in template.resources("AWS::DynamoDB::Table").items():
        assert resource["Properties"].get("DeletionProtectionEnabled") is True, logical_id
    assert template.resources("AWS::Cognito::UserPool")["UserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"


def test_deployed_client_has_no_plain_password_flow():
    client = template.resources("AWS::Cognito::UserPoolClient")["UserPoolClient"]["Properties"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"]


def test_every_scheduled_function_keeps_its_failed_async_invocations_with_an_alarm():
    alarms = template.resources("AWS::CloudWatch::Alarm").values()
    for spec in template.functions():
        if not spec.schedules and not spec.queues:
            continue
        # Given a function Scheduler (or SQS) invokes
        destination = spec.properties["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        # Then a handler error that outlives Lambda's retries lands in a queue, and that queue has an alarm
        assert destination["Type"] == "SQS", spec.logical_id
        queue = destination["Destination"]["Fn::GetAtt"][0]
        assert any(a["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]} for a in alarms), (
            queue
        )


def test_alarms_can_reach_the_topic():
    # CloudWatch cannot publish with the AWS-managed SNS key: the alarms topic has a key CloudWatch may use
    topic = template.resources("AWS::SNS::Topic")["AlarmsTopic"]["Properties"]
    key_id = topic["KmsMasterKeyId"]["Ref"]
    key = template.resources("AWS::KMS::Key")[key_id]["Properties"]
    principals = [s["Principal"] for s in key["KeyPolicy"]["Statement"]]
    assert {"Service": "cloudwatch.amazonaws.com"} in principals
    alarms = template.resources("AWS::CloudWatch::Alarm").values()
    assert {str(a["Properties"]["AlarmActions"]) for a in alarms} == {str([{"Ref": "AlarmsTopic"}])}


def test_money_path_has_reserved_concurrency_and_the_public_redirect_a_cap():
    functions = template.resources("AWS::Serverless::Function")
    for logical_id in ("WebhookFunction", "RedirectFunction"):
        assert "ReservedConcurrentExecutions" in functions[logical_id]["Properties"], logical_id


def test_api_logs_access_and_bursts_at_least_its_rate():
    api = template.resources("AWS::Serverless::Api")["TuishouApi"]["Properties"]
    assert "DestinationArn" in api["AccessLogSetting"]
    for setting in api["MethodSettings"]:
        assert setting["ThrottlingBurstLimit"] >= setting["ThrottlingRateLimit"]
    assert template.load()["Globals"]["Api"]["OpenApiVersion"] == "3.0.1"


def test_every_table_is_used_and_no_stream_lacks_a_consumer():
    import json

    environment = json.dumps([spec.environment for spec in template.functions()])
    consumed = {
        json.dumps(e["Properties"].get("Stream"))
        for spec in template.functions()
        for e in spec.properties.get("Events", {}).values()
        if e["Type"] == "DynamoDB"
    }
    for logical_id, resource in template.resources("AWS::DynamoDB::Table").items():
        assert json.dumps({"Ref": logical_id}) in environment, f"{logical_id} is used by no function"
        if "StreamSpecification" in resource["Properties"]:
            assert json.dumps({"Fn::GetAtt": [logical_id, "StreamArn"]}) in consumed, f"{logical_id} stream"


def test_the_scan_parks_a_run_on_the_receive_the_queue_dead_letters_after():
    # Given the scan queue's redrive policy and the handler's idea of the last receive
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "compensation_scan_app", template.ROOT / "functions/compensation_scan/app.py"
    )
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    redrive = template.resources("AWS::SQS::Queue")["CompensationScanQueue"]["Properties"]["RedrivePolicy"]
    # Then they agree: the run is reported failed exactly when SQS gives up on its message
    assert int(redrive["maxReceiveCount"]) == app.MAX_RECEIVES


def test_the_public_redirect_is_on_the_links_http_api_throttled_and_logged_like_the_rest_api():
    # Given the REST API's stage settings and the links HTTP API
    rest = template.resources("AWS::Serverless::Api")["TuishouApi"]["Properties"]
    [rest_throttle] = rest["MethodSettings"]
    links = template.resources("AWS::Serverless::HttpApi")["LinkApi"]["Properties"]
    # Then GET /l/{code} is its route, in payload v2, with no authorizer
    [event] = template.resources("AWS::Serverless::Function")["RedirectFunction"]["Properties"]["Events"].values()
    assert event["Type"] == "HttpApi"
    assert event["Properties"] == {"ApiId": {"Ref": "LinkApi"}, "Path": "/l/{code}", "Method": "GET",
                                   "PayloadFormatVersion": "2.0"}  # fmt: skip
    assert "Auth" not in links
    # And it throttles as the REST API's stage does, and logs every request
    throttle = links["DefaultRouteSettings"]
    assert (throttle["ThrottlingRateLimit"], throttle["ThrottlingBurstLimit"]) == (
        rest_throttle["ThrottlingRateLimit"],
        rest_throttle["ThrottlingBurstLimit"],
    )
    assert "DestinationArn" in links["AccessLogSettings"]
    assert "LinkApiUrl" in template.load()["Outputs"]


def test_the_links_api_invokes_no_function_that_references_it_and_links_point_at_it():
    # Given the functions the links HTTP API invokes (referencing LinkApi from one of them is a cycle)
    import json

    specs = {spec.logical_id: spec for spec in template.functions()}
    invoked = {route.function_id for route in template.routes() if route.payload_version == template.HTTP_API_PAYLOAD}
    assert invoked == {"RedirectFunction"}
    for logical_id in invoked:
        assert "LinkApi" not in json.dumps(specs[logical_id].environment, default=str), logical_id
    # Then the function that hands out links points them at PublicBaseUrl when set, else at LinkApi
    base_url = specs["PromoterFunction"].environment["TUISHOU_PUBLIC_BASE_URL"]
    condition, configured, fallback = base_url["Fn::If"]
    assert template.load()["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PublicBaseUrl"}, ""]}]}
    assert configured == {"Ref": "PublicBaseUrl"}
    assert fallback == {"Fn::Sub": "https://${LinkApi}.execute-api.${AWS::Region}.amazonaws.com"}
