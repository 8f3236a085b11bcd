"""From an event source mapping (AWS's names) to a stream poller (lamb.sources.stream_factory)."""

from datetime import datetime, timezone

import pytest

from lamb.sources.dynamodb_streams import DynamoDBStreamSource
from lamb.sources.kinesis import KinesisSource
from lamb.sources.stream_factory import config_from_mapping, is_stream_arn, source_for

KINESIS = "arn:aws:kinesis:eu-west-1:123456789012:stream/s"
DDB = "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"


def test_defaults_are_aws_stream_defaults():
    c = config_from_mapping({"UUID": "u", "FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:f",
                             "EventSourceArn": KINESIS, "StartingPosition": "LATEST"})
    assert (c.batch_size, c.batching_window_s, c.max_retry_attempts, c.max_record_age_s, c.parallelization_factor,
            c.bisect_on_error, c.tumbling_window_s, c.on_failure, c.starting_position) == (
        100, 0, -1, -1, 1, False, 0, None, "LATEST")


def test_every_stream_parameter_is_carried():
    c = config_from_mapping({
        "UUID": "u", "FunctionArn": "f", "EventSourceArn": KINESIS, "BatchSize": 7,
        "MaximumBatchingWindowInSeconds": 2, "StartingPosition": "AT_TIMESTAMP",
        "StartingPositionTimestamp": datetime(2024, 1, 1, tzinfo=timezone.utc), "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 0, "MaximumRecordAgeInSeconds": 60, "ParallelizationFactor": 4,
        "FunctionResponseTypes": ["ReportBatchItemFailures"], "TumblingWindowInSeconds": 30,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:eu-west-1:123456789012:q"}},
    })
    assert (c.batch_size, c.batching_window_s, c.starting_position_timestamp, c.bisect_on_error,
            c.max_retry_attempts, c.max_record_age_s, c.parallelization_factor, c.report_item_failures,
            c.tumbling_window_s, c.on_failure) == (
        7, 2, 1704067200.0, True, 0, 60, 4, True, 30, "arn:aws:sqs:eu-west-1:123456789012:q")


def test_source_by_arn():
    assert is_stream_arn(KINESIS) and is_stream_arn(DDB)
    assert not is_stream_arn("arn:aws:sqs:eu-west-1:123456789012:q")
    assert not is_stream_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/t")
    k = source_for(KINESIS, invoke_identity_arn="role", source_client=object())
    d = source_for(DDB, invoke_identity_arn="role", source_client=object())
    assert isinstance(k, KinesisSource) and k.region == "eu-west-1" and k.invoke_identity_arn == "role"
    assert isinstance(d, DynamoDBStreamSource) and d.source_arn == DDB
    with pytest.raises(ValueError):
        source_for("arn:aws:sqs:eu-west-1:123456789012:q", invoke_identity_arn="role")
