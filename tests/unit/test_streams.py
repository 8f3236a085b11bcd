"""The pure rules of stream processing (lamb.sources.streams): outcomes, record age, lanes, windows, failure records."""

from __future__ import annotations

import json
from types import SimpleNamespace

from lamb.sources.streams import (StreamRecord, classify, failure_record, lane_of, s3_failure_key, split_expired,
                                  window_start)

from .stream_fakes import ARN, FN, FakeSource, config


def records(*seqs: str) -> list[StreamRecord]:
    return [StreamRecord(s, "k", 0.0, {}, 2) for s in seqs]


def result(response=None, error=None):
    return SimpleNamespace(payload=json.dumps(response).encode() if response is not None else b"", function_error=error)


def test_classify_complete_success_forms():
    batch = records("1", "2")
    for response in (None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}):
        assert classify(result(response), batch, report_item_failures=True, windowed=False).ok


def test_classify_complete_failure_forms():
    batch = records("1", "2")
    for item in ({"itemIdentifier": ""}, {"itemIdentifier": None}, {"itemId": "1"}, {"itemIdentifier": "99"}):
        out = classify(result({"batchItemFailures": [item]}), batch, report_item_failures=True, windowed=False)
        assert not out.ok and out.failed_at is None


def test_classify_checkpoints_at_lowest_failed_sequence():
    batch = records("10", "20", "30", "40")
    out = classify(result({"batchItemFailures": [{"itemIdentifier": "40"}, {"itemIdentifier": "20"}]}), batch,
                   report_item_failures=True, windowed=False)
    assert not out.ok and out.failed_at == 1


def test_classify_function_error_and_ignored_response():
    batch = records("1")
    assert classify(result(None, "Unhandled"), batch, report_item_failures=True, windowed=False).function_error
    # without ReportBatchItemFailures the response is not looked at
    out = classify(result({"batchItemFailures": [{"itemIdentifier": "1"}]}), batch, report_item_failures=False,
                   windowed=False)
    assert out.ok


def test_classify_window_requires_state():
    batch = records("1")
    assert not classify(result({"x": 1}), batch, report_item_failures=False, windowed=True).ok
    out = classify(result({"state": {"n": 1}}), batch, report_item_failures=False, windowed=True)
    assert out.ok and out.state == {"n": 1}


def test_split_expired_and_lanes_and_windows():
    recs = [StreamRecord(str(i), "k", t, {}, 2) for i, t in enumerate([100.0, 150.0, 195.0])]
    expired, fresh = split_expired(recs, 60, now=200.0)
    assert [r.sequence for r in expired] == ["0"] and [r.sequence for r in fresh] == ["1", "2"]
    assert split_expired(recs, -1, now=1e9) == ([], recs)
    assert lane_of("abc", 1) == 0 and lane_of("abc", 7) == lane_of("abc", 7) < 7
    assert window_start(125.5, 60) == 120 and window_start(180, 60) == 180


def test_failure_record_shape():
    recs = [StreamRecord("111", "k", 1573690399.264, {"a": 1}, 7), StreamRecord("222", "k", 1573690400.5, {"a": 2}, 7)]
    last = SimpleNamespace(payload=b"", function_error="Unhandled", request_id="rid", executed_version="3")
    rec = failure_record(config=config(mapping_uuid="u-1"), source=FakeSource(), shard_id="shardId-000000000001",
                         records=recs, condition="RetryAttemptsExhausted", invokes=3, last=last,
                         payload=b'{"Records":[]}', now=1573690401.0)
    assert rec.document == {
        "requestContext": {"requestId": "rid", "functionArn": FN, "condition": "RetryAttemptsExhausted",
                           "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "3", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:21.000Z",
        "KinesisBatchInfo": {
            "shardId": "shardId-000000000001", "startSequenceNumber": "111", "endSequenceNumber": "222",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19.264Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:13:20.500Z",
            "batchSize": 2, "streamArn": ARN,
        },
    }
    s3 = json.loads(rec.body(with_payload=True))
    assert s3["payload"] == '{"Records":[]}' and "payload" not in json.loads(rec.body(with_payload=False))
    assert rec.s3_key.startswith("aws/lambda/u-1/shardId-000000000001/2019/11/14/2019-11-14T00.13.21-")
    assert s3_failure_key("u", "s", 0).startswith("aws/lambda/u/s/1970/01/01/1970-01-01T00.00.00-")
