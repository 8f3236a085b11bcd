"""DynamoDB Streams records in AWS's Lambda event shape (lamb.sources.dynamodb_streams)."""

import base64
from datetime import datetime, timezone

from lamb.sources.dynamodb_streams import DynamoDBStreamSource


def test_dynamodb_record_shape():
    arn = "arn:aws:dynamodb:us-west-2:123456789012:table/t/stream/2024-01-01T00:00:00.000"
    src = DynamoDBStreamSource(client=None, stream_arn=arn)
    created = datetime.fromtimestamp(1479499740, timezone.utc)
    rec = src.record({"eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                      "awsRegion": "us-west-2",
                      "dynamodb": {"ApproximateCreationDateTime": created, "Keys": {"Id": {"N": "101"}},
                                   "NewImage": {"Id": {"N": "101"}, "Bin": {"B": b"\x00\x01"}},
                                   "OldImage": {"Id": {"N": "101"}}, "SequenceNumber": "222", "SizeBytes": 59,
                                   "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    assert rec.event == {
        "eventID": "1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-west-2",
        "dynamodb": {"ApproximateCreationDateTime": 1479499740, "Keys": {"Id": {"N": "101"}},
                     "NewImage": {"Id": {"N": "101"}, "Bin": {"B": base64.b64encode(b"\x00\x01").decode()}},
                     "OldImage": {"Id": {"N": "101"}}, "SequenceNumber": "222", "SizeBytes": 59,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "eventSourceARN": arn,
    }
    assert rec.arrival == 1479499740 and rec.sequence == "222"


def test_resumed_latest_reads_from_the_oldest_record_and_skips_earlier_ones():
    """DynamoDB Streams has no AT_TIMESTAMP: a LATEST taken at time t resumes at TRIM_HORIZON minus records before t."""
    import asyncio

    class Client:
        class exceptions:
            class ExpiredIteratorException(Exception):
                pass

        def __init__(self):
            self.calls = []

        def get_shard_iterator(self, **kw):
            self.calls.append(kw)
            return {"ShardIterator": "it"}

        def get_records(self, **kw):
            def rec(seq, ts):
                return {"eventID": seq, "eventName": "INSERT", "eventVersion": "1.1", "awsRegion": "us-east-1",
                        "dynamodb": {"ApproximateCreationDateTime": datetime.fromtimestamp(ts, timezone.utc),
                                     "Keys": {"id": {"S": seq}}, "SequenceNumber": seq, "SizeBytes": 10,
                                     "StreamViewType": "KEYS_ONLY"}}
            return {"Records": [rec("1", 99.0), rec("2", 100.0), rec("3", 101.0)], "NextShardIterator": "next"}

    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/label"
    client = Client()
    src = DynamoDBStreamSource(client, arn)

    async def go():
        from lamb.sources.checkpoints import Position

        it = await src.iterator("shard-1", Position("LATEST", timestamp=100.7))
        return await src.read("shard-1", it, 100)

    read = asyncio.run(go())
    assert client.calls == [{"StreamArn": arn, "ShardId": "shard-1", "ShardIteratorType": "TRIM_HORIZON"}]
    assert [r.sequence for r in read.records] == ["2", "3"] and read.next_iterator == "next"
