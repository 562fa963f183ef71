"""Template invariants: what every function, schedule and table must carry."""

from tools import template

SCHEDULED_IDS = {"RankingRecalculationFunction", "DeadlineReminderFunction", "MerchantInsightsFunction",
                 "CompensationScanFunction"}


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


def test_the_scan_parks_a_run_on_the_receive_the_queue_dead_letters_after():
    # Given the scan queue's redrive policy and the handler's idea of the last receive
    import importlib.util

    spec = importlib.util.spec_from_file_location("compensation_scan_app",
                                                  template.ROOT / "functions/compensation_scan/app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    redrive = template.resources("AWS::SQS::Queue")["CompensationScanQueue"]["Properties"]["RedrivePolicy"]
    # Then they agree: the run is reported failed exactly when SQS gives up on its message
    assert int(redrive["maxReceiveCount"]) == app.MAX_RECEIVES
