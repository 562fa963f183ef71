"""Names vulture (``make lint``) cannot see being used: called by a framework, read by serialisation, or
part of a protocol. Not a test module (pytest collects only test_*.py). Route handlers, pydantic
validators, pytest fixtures, hypothesis rules and Powertools exception handlers are recognised by their
decorators (``ignore_decorators`` in pyproject.toml) and need no entry here. Anything else vulture reports
is dead code: delete it, or add it below under the heading that says who calls it."""

# mypy: ignore-errors

# ---------------------------------------------------------------- pydantic: fields are read by serialisation
model_config
balance_minor
channel_task_offer
conversion_rate
conversion_rate_bps
current_commission_minor
current_reward
effective_channels
estimated_commission_minor
failure_reason
gmt_payment
gmt_refund
image_url
issued_at
last_received_at
per_day
promoter_name
received
remaining_promotions
remaining_transactions
reward
source
suggested_commission_minor
suggested_reward
task_category
top_channels
top_promoters
window_end
bound_at  # models.devices.WechatBinding

# ---------------------------------------------------------------- Powertools: methods it calls on our subclasses
_.decoded_body  # APIGatewayProxyEvent.decoded_body, overridden by StrictBodyEvent
_._to_proxy_event  # ApiGatewayResolver._to_proxy_event, overridden by TuishouResolver

# ---------------------------------------------------------------- dataclass counters reported as a whole (asdict)
_.lost_race
_.already_met
lost_race
already_met

# ---------------------------------------------------------------- Lambda context: the attributes handlers may read
aws_request_id
function_version
log_group_name
log_stream_name
memory_limit_in_mb
_.invoked_function_arn

# ---------------------------------------------------------------- http.server: the request handler protocol
protocol_version
do_GET
do_POST
do_PUT
do_DELETE
do_PATCH
_.log_message
_.daemon_threads
fmt
_.redirect_request  # urllib.request.HTTPRedirectHandler

# ---------------------------------------------------------------- tools/soak.py: operations dispatched by name
_.listing
_.stripe_payment
_.alipay_payment

# ---------------------------------------------------------------- botocore event hooks: keyword arguments by name
http_response

# ---------------------------------------------------------------- the local stack's public state (make local, soak)
_.failed_deliveries

# ---------------------------------------------------------------- settings fields read by name (_Concern.required)
_.stripe_secret_parameter
_.alipay_app_id_parameter
_.alipay_public_key_parameter
_.alipay_app_private_key_parameter  # PayoutProviderSettings
_.stripe_secret_key_parameter
_.visitor_key_parameter
_.push_queue_url
_.sms_queue_url
_.wechat_queue_url
_.apns_application_arn  # PushSettings.application_arn(platform)
_.fcm_application_arn
_.app_id_parameter  # WechatSettings
_.app_secret_parameter

# ---------------------------------------------------------------- dal records written whole (asdict), read by no code
refund_minor  # payments.RefundStep: the step's own amount, for audits of the stored refund items
applied_at  # payments.RefundStep
settled_at  # payments.SaleSettlement
money_by  # payments.SaleSettlement: who moved the sale's money, for operators reading the record
errmsg  # wechat.WechatResult: WeChat's own words, for the delivery's recorded reason

# ---------------------------------------------------------------- pytest and hypothesis
pytest_collection_modifyitems  # pytest hook
pytest_configure_node  # pytest-xdist hook
pytest_runtest_makereport  # pytest hook (tests/e2e: the outcome for the screenshots on failure)
_.teardown  # RuleBasedStateMachine.teardown
rounds  # parametrize: the same test run several times
dont_write_bytecode  # sys: read by the import system (tests/conftest.py)

# ---------------------------------------------------------------- Lambda's runtime: SnapStart hooks and their registry
prime
restore
get_before_snapshot
get_after_restore
DEFERRED_IMPORTS  # read by name by tuishou.snapstart.prime (a module's imports deferred to a request path)

# ---------------------------------------------------------------- ledger states
pending_minor  # BalanceRecord / Balance: read by name (``in_state``), returned by the account routes
available_minor
in_payout_minor
paid_minor
released_minor  # holds.ReleaseRun: returned whole (vars) by the release job
raced
