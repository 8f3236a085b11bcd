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
