"""Kinesis records in AWS's Lambda event shape (lamb.sources.kinesis)."""

from datetime import datetime, timezone

from lamb.sources.kinesis import KinesisSource


def test_kinesis_record_shape():
    src = KinesisSource(client=None, stream_arn="arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
                        invoke_identity_arn="arn:aws:iam::123456789012:role/lambda-role")
    arrival = datetime.fromtimestamp(1545084650.987, timezone.utc)
    rec = src.record("shardId-000000000006", {"SequenceNumber": "4959", "PartitionKey": "1",
                                              "Data": b"Hello, this is a test.", "ApproximateArrivalTimestamp": arrival})
    assert rec.event == {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "1", "sequenceNumber": "4959",
                    "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", "approximateArrivalTimestamp": 1545084650.987},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000006:4959",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
        "awsRegion": "us-east-2", "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
    }
    assert rec.sequence == "4959" and rec.partition_key == "1"
