"""The file-processing path of the seed documents, end to end (issue 13).

An upload to an S3 bucket (moto) notifies an SQS queue (moto); an event source mapping on
that queue runs a function, which reads the uploaded object back from S3 through the
``AWS_ENDPOINT_URL_S3`` Lamb passes on to functions. A filter keeps S3's own
``s3:TestEvent`` message away from the function.
"""

from __future__ import annotations

import json

from .async_support import moto, sink  # noqa: F401  (fixtures)
from .conftest import create, unique, wait_for
from .esm_support import elam, esm_server, make_queue, wait_state  # noqa: F401

READER = """import json, urllib.parse, urllib.request
import boto3
s3 = boto3.client('s3')
def handler(event, context):
    for r in event['Records']:
        for note in json.loads(r['body'])['Records']:
            bucket = note['s3']['bucket']['name']
            key = urllib.parse.unquote_plus(note['s3']['object']['key'])
            body = s3.get_object(Bucket=bucket, Key=key)['Body'].read().decode()
            doc = {'tag': bucket, 'key': key, 'content': body, 'event': note['eventName']}
            urllib.request.urlopen(urllib.request.Request(SINK, data=json.dumps(doc).encode(), method='POST'),
                                   timeout=10).read()
"""


def test_upload_to_s3_runs_a_function_that_reads_the_object(elam, moto, sink):
    bucket = unique("uploads")
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    url, arn = make_queue(moto, bucket, VisibilityTimeout=60)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    create(elam, bucket, f"SINK = {sink.url!r}\n" + READER, Timeout=30)
    only_uploads = {"body": {"Records": {"eventName": [{"prefix": "ObjectCreated:"}]}}}
    uuid = elam.create_event_source_mapping(FunctionName=bucket, EventSourceArn=arn,
                                            FilterCriteria={"Filters": [{"Pattern": json.dumps(only_uploads)}]})["UUID"]
    wait_state(elam, uuid, "Enabled")
    s3.put_object(Bucket=bucket, Key="in/report 1.txt", Body=b"quarterly numbers")
    (got,) = sink.wait("tag", bucket, 1, timeout=40)
    assert got["key"] == "in/report 1.txt" and got["content"] == "quarterly numbers"
    assert got["event"].startswith("ObjectCreated:")
    wait_for(lambda: moto.empty(url, wait=0.2), 20, 0.1, "the queue to be empty (test event filtered and deleted)")
