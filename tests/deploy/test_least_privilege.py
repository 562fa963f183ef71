"""Least privilege, measured: every AWS call a function made while the API and job tests ran is allowed by
that function's role in the translated template, and no function holds a write, delete or Scan on a table
that it never used. Runs last (conftest orders it); the unused-grant check needs the whole suite's calls."""

from __future__ import annotations

import pytest

from tests.helpers import iam
from tests.helpers.artifact import require
from tools import template

LOCAL_PARAMETERS = (("SmsDelivery", "sns"),)


def test_every_recorded_call_is_allowed_by_the_functions_policy(
    aws_calls: iam.CallRecorder, request: pytest.FixtureRequest
):
    # Given every call the functions made during this session, and the template as CloudFormation gets it
    require(template.TRANSLATED_PATH)
    if not aws_calls.calls and not request.config.stash.get(FULL_RUN, False):
        pytest.skip("no function ran in this selection of tests")
    assert aws_calls.calls, "no AWS call was recorded: is the recorder wired to the function host?"
    # Then each is allowed by the calling function's own role, under the parameters the local stack runs
    # with (SMS on: tools/local_stack.py)
    denied = sorted(
        (c.function, c.action, c.resource)
        for c in aws_calls.calls
        if not iam.allowed(c.function, c.action, c.resource, LOCAL_PARAMETERS)
    )
    assert not denied, "calls the template does not allow:\n" + "\n".join(map(str, denied))


def test_no_function_holds_a_table_write_it_never_makes(aws_calls: iam.CallRecorder, request: pytest.FixtureRequest):
    if not request.config.stash.get(FULL_RUN, False):
        pytest.skip("needs the calls of the whole suite (run without selecting tests)")
    require(template.TRANSLATED_PATH)
    # Given the write, delete and Scan actions each function was seen to use, per table
    used = {(c.function, c.action, c.resource) for c in aws_calls.calls}
    # Then the role grants no other such action on any table
    excess = sorted(
        (function, action, table)
        for function in iam.policies()
        for table in iam.table_logical_ids()
        for action in iam.GUARDED_TABLE_ACTIONS
        if iam.allowed(function, action, iam.table_arn(table)) and (function, action, iam.table_arn(table)) not in used
    )
    assert not excess, "grants never used (remove them from template.yaml):\n" + "\n".join(map(str, excess))


FULL_RUN = pytest.StashKey[bool]()


def test_policy_evaluation_denies_what_no_statement_grants():
    # Given the translated template
    require(template.TRANSLATED_PATH)
    ledger = iam.table_arn("LedgerTable")
    # Then a read-only function cannot write the ledger, and the public redirect cannot touch it at all
    assert not iam.allowed("MeFunction", "dynamodb:PutItem", ledger)
    assert not iam.allowed("RedirectFunction", "dynamodb:GetItem", ledger)
    # And settlement can do what it must
    assert iam.allowed("WebhookFunction", "dynamodb:PutItem", ledger)
    # But it sends no message itself: its notices are delivered from the inbox items
    assert not iam.allowed("WebhookFunction", "sns:Publish", f"arn:aws:sns:{iam.REGION}:{iam.ACCOUNT}:AnyTopic")


def test_sms_is_granted_only_to_the_sms_delivery_function_where_enabled_and_only_to_phone_numbers():
    require(template.TRANSLATED_PATH)
    phone, other_topic = "phone:+8613800000000", f"arn:aws:sns:{iam.REGION}:{iam.ACCOUNT}:SomeoneElsesTopic"
    sms_on = (("SmsDelivery", "sns"),)
    # With SMS delivery off (the default), no function may publish to a phone number
    assert not any(iam.allowed(f, "sns:Publish", phone) for f in iam.policies())
    # With it on, the SMS delivery function may, but never to another topic
    assert iam.allowed("SmsDeliveryFunction", "sns:Publish", phone, sms_on)
    assert not iam.allowed("SmsDeliveryFunction", "sns:Publish", other_topic, sms_on)
    # And no other function may: not the ones that notify, not anonymous traffic's, not the other channels'
    texting = {f for f in iam.policies() if iam.allowed(f, "sns:Publish", phone, sms_on)}
    assert texting == {"SmsDeliveryFunction"}


def test_only_stream_consumers_read_streams_and_send_to_the_stream_failure_queue():
    # Given the translated template (SAM's DynamoDB events attach the stream-reading managed policy and an
    # SQS statement for the on-failure destination)
    require(template.TRANSLATED_PATH)
    failure_queue = f"arn:aws:sqs:{iam.REGION}:{iam.ACCOUNT}:StreamFailureQueue"
    tracking_stream = f"{iam.table_arn('TrackingTable')}/stream/2026-01-01T00:00:00.000"
    # Then the consumer may read its stream and report a failed batch, as Lambda does with its role
    assert iam.allowed("TrackingStreamFunction", "dynamodb:GetRecords", tracking_stream)
    assert iam.allowed("TrackingStreamFunction", "sqs:SendMessage", failure_queue)
    # And a function with no stream event may do neither
    assert not iam.allowed("RedirectFunction", "dynamodb:GetRecords", tracking_stream)
    assert not iam.allowed("RedirectFunction", "sqs:SendMessage", failure_queue)
