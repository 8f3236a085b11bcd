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


def test_iterator_positions():
    """LATEST taken at time t is resumed as AT_TIMESTAMP t, so a restart skips nothing that arrived since."""
    import asyncio

    from lamb.sources.checkpoints import Position

    class Client:
        def __init__(self):
            self.calls = []

        def get_shard_iterator(self, **kw):
            self.calls.append(kw)
            return {"ShardIterator": "it"}

    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    client = Client()
    src = KinesisSource(client, arn, invoke_identity_arn="role")

    async def go():
        for pos in (Position("LATEST", timestamp=100.5), Position("LATEST"), Position("TRIM_HORIZON"),
                    Position("AT_TIMESTAMP", timestamp=7.0), Position("AFTER_SEQUENCE_NUMBER", "42")):
            await src.iterator("shardId-000000000000", pos)

    asyncio.run(go())
    base = {"StreamARN": arn, "ShardId": "shardId-000000000000"}
    assert client.calls == [
        dict(base, ShardIteratorType="AT_TIMESTAMP", Timestamp=datetime.fromtimestamp(100.5, timezone.utc)),
        dict(base, ShardIteratorType="LATEST"),
        dict(base, ShardIteratorType="TRIM_HORIZON"),
        dict(base, ShardIteratorType="AT_TIMESTAMP", Timestamp=datetime.fromtimestamp(7.0, timezone.utc)),
        dict(base, ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber="42"),
    ]
