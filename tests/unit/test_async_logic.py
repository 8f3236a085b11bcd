"""Pure logic of asynchronous invocation: retry schedule, record formats, lineage, group commit."""

from __future__ import annotations

import asyncio
import json
import re
import threading

import pytest

from lamb.events import policy, record
from lamb.services import lineage
from lamb.events.journal import Journal
from lamb.events.policy import Policy
from lamb.events.record import Outcome
from lamb.limits import DEFAULT as LIMITS

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


# ------------------------------------------------------------------ policy
def test_policy_defaults_are_aws():
    p = Policy.of(None, LIMITS)
    assert p == Policy(max_retries=2, max_age_s=21600)
    assert Policy.of({"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}, LIMITS) == Policy(0, 60)
    assert Policy.of({"MaximumEventAgeInSeconds": 60}, LIMITS, age_scale=0.5).max_age_s == 30


def test_function_error_schedule():
    delays = (60.0, 120.0)  # AWS: one minute, then two
    assert policy.function_error_delay(1, delays) == 60
    assert policy.function_error_delay(2, delays) == 120
    assert policy.function_error_delay(5, delays) == 120
    assert policy.function_error_delay(1, ()) == 0
    p = Policy(max_retries=2)
    assert [policy.after_function_error(n, p) for n in (1, 2, 3)] == [True, True, False]
    assert not policy.after_function_error(1, Policy(max_retries=0))


def test_throttle_backoff_doubles_from_one_second_to_five_minutes():
    assert [policy.backoff(n, 1, 300) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert policy.backoff(1000, 1, 300) == 300


def test_next_due_never_passes_expiry():
    assert policy.next_due(100, 60, 1000) == 160
    assert policy.next_due(100, 60, 130) == 130


# ------------------------------------------------------------------ record
def test_success_record_matches_aws_example():
    body = record.invocation_record(
        request_id="c2a6f2ae-7dbb-4d22-8782-d0485c9877e2", function_arn=ARN + ":$LATEST", condition="Success",
        invoke_count=1, request_payload=b'{"Success": true}', outcome=Outcome(200, b'"results"', "$LATEST"),
        timestamp=1574636905.651,
    )
    assert json.loads(body) == {
        "version": "1.0",
        "timestamp": "2019-11-24T23:08:25.651Z",
        "requestContext": {"requestId": "c2a6f2ae-7dbb-4d22-8782-d0485c9877e2", "functionArn": ARN + ":$LATEST",
                           "condition": "Success", "approximateInvokeCount": 1},
        "requestPayload": {"Success": True},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": "results",
    }
    assert list(json.loads(body)) == ["version", "timestamp", "requestContext", "requestPayload",
                                      "responseContext", "responsePayload"]


def test_failure_record_and_raw_payload_bytes_kept():
    payload = b'{"b": 1.50, "a": "\\u00e9"}'  # spliced as sent, not re-encoded
    body = record.invocation_record(
        request_id="r", function_arn=ARN + ":live", condition="RetriesExhausted", invoke_count=3,
        request_payload=payload,
        outcome=Outcome(200, b'{"errorMessage": "boom", "errorType": "Exception"}', "2", "Unhandled"),
    )
    assert payload in body
    doc = json.loads(body)
    assert doc["responseContext"] == {"statusCode": 200, "executedVersion": "2", "functionError": "Unhandled"}
    assert doc["responsePayload"] == {"errorMessage": "boom", "errorType": "Exception"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["timestamp"])


def test_record_without_attempt_and_with_non_json_response():
    doc = json.loads(record.invocation_record(request_id="r", function_arn=ARN, condition="EventAgeExceeded",
                                              invoke_count=0, request_payload=b"{}", outcome=None))
    assert "responseContext" not in doc and "responsePayload" not in doc
    doc = json.loads(record.invocation_record(request_id="r", function_arn=ARN, condition="Success", invoke_count=1,
                                              request_payload=b"{}", outcome=Outcome(200, b"not json", "$LATEST")))
    assert doc["responsePayload"] == "not json"
    throttled = Outcome.api_error(429, "TooManyRequestsException", "Rate Exceeded.")
    doc = json.loads(record.invocation_record(request_id="r", function_arn=ARN, condition="EventAgeExceeded",
                                              invoke_count=0, request_payload=b"{}", outcome=throttled))
    assert doc["responseContext"] == {"statusCode": 429}
    assert doc["responsePayload"] == {"errorMessage": "Rate Exceeded.", "errorType": "TooManyRequestsException"}


def test_dead_letter_attributes():
    err = Outcome(200, json.dumps({"errorMessage": "é" * 600, "errorType": "E"}).encode(), "$LATEST", "Unhandled")
    attrs = record.dlq_attributes("rid-1", err)
    assert attrs["RequestID"] == {"DataType": "String", "StringValue": "rid-1"}
    assert attrs["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    msg = attrs["ErrorMessage"]["StringValue"]
    assert len(msg.encode()) <= 1024 and msg == "é" * 512  # the first 1 KB, whole characters
    assert record.dlq_attributes("r", Outcome(200, b"plain text", "$LATEST", "Unhandled"))["ErrorMessage"] == {
        "DataType": "String", "StringValue": "plain text"}


@pytest.mark.parametrize("arn,on_failure,kind", [
    ("arn:aws:sqs:us-east-1:123456789012:q", False, "sqs"),
    ("arn:aws:sqs:us-east-1:123456789012:q.fifo", True, None),
    ("arn:aws:sns:us-east-1:123456789012:t", False, "sns"),
    ("arn:aws:events:us-east-1:123456789012:event-bus/default", False, "events"),
    ("arn:aws:s3:::my-bucket", True, "s3"),
    ("arn:aws:s3:::my-bucket", False, None),
    ("arn:aws:lambda:us-east-1:123456789012:function:f:live", False, "lambda"),
    ("arn:aws:dynamodb:us-east-1:123456789012:table/t", True, None),
])
def test_destination_kinds(arn, on_failure, kind):
    assert record.destination_kind(arn, on_failure=on_failure) == kind


def test_s3_key_format():
    key = record.s3_key("my-fn", 1574636905.651)
    assert re.fullmatch(r"aws/lambda/async/my-fn/2019/11/24/2019-11-24T23\.08\.25-[0-9a-f-]{36}", key)


# ----------------------------------------------------------------- lineage
def test_lineage_counts_invocations_per_function():
    header, count = lineage.hop(None, ARN)
    assert count == 0 and re.search(r";Lineage=1:[0-9a-f]{8}:0$", header)
    root = lineage.parse(header)["Root"]
    for expected in range(1, 17):
        header, count = lineage.hop(header, ARN)
        assert count == expected
    assert lineage.parse(header)["Root"] == root
    other, n = lineage.hop(header, ARN + "2")
    assert n == 0 and len(lineage.entries(lineage.parse(other)["Lineage"])) == 2
    back, n = lineage.hop(other, ARN)
    assert n == 17


def test_lineage_reads_sdk_headers_and_both_entry_forms():
    h = lineage.function_hash(ARN)
    assert lineage.hop(f"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Lineage={h}:4|68fd508a:5", ARN)[1] == 5
    assert lineage.hop(f"Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=1:{h}:2", ARN)[1] == 3
    assert lineage.hop("garbage;Lineage=x:y:z", ARN)[1] == 0
    kept = lineage.with_root("Sampled=1")
    assert lineage.parse(kept)["Root"].startswith("1-") and lineage.parse(kept)["Sampled"] == "1"
    assert lineage.with_root("Root=1-a-b;Parent=c") == "Root=1-a-b;Parent=c"


# ----------------------------------------------------------------- journal
def test_group_commit_batches_and_reports_per_unit(tmp_path):
    journal = Journal(tmp_path / "j.db", "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT);")
    loop = asyncio.new_event_loop()
    try:
        journal.start(loop)
        results: list = []
        done = threading.Event()

        def cb(i):
            def f(result, exc):
                results.append((i, exc is None))
                if len(results) == 201:
                    done.set()
            return f

        for i in range(200):
            journal.submit([("INSERT INTO t (id, v) VALUES (?, ?)", (i, str(i)))], cb(i))
        journal.submit([("INSERT INTO t (id, v) VALUES (?, ?)", (5, "dup"))], cb("dup"))  # fails alone
        while not done.is_set():
            loop.run_until_complete(asyncio.sleep(0.01))
        assert sorted((r for r in results if r[0] != "dup")) == [(i, True) for i in range(200)]
        assert ("dup", False) in results
        assert journal.batches < 200  # grouped
        reads = []
        journal.submit([lambda conn: conn.execute("SELECT COUNT(*) FROM t").fetchone()[0]],
                       lambda r, e: reads.append(r))
        while not reads:
            loop.run_until_complete(asyncio.sleep(0.01))
        assert reads == [200]
    finally:
        journal.close()
        loop.close()
