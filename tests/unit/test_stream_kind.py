"""lamb.sources.stream_kind: the stream source kind the mapping manager runs.

The stream service is a stand-in boto3 client (AWS is outside Lamb); the checkpoint
store is Lamb's real one on a real SQLite file.
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from lamb.protocol.errors import AwsError
from lamb.sources.checkpoints import CheckpointStore, Position, ShardCheckpoint
from lamb.sources.stream_kind import matcher, stream_kind
from lamb.sources.stream_poller import StreamPoller
from lamb.sources.streams import Timings
from lamb.store.db import Database

KINESIS = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
DDB = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
FN = "arn:aws:lambda:us-east-1:000000000000:function:f:live"


class NotFound(Exception):
    pass


class StreamClient:
    """What the kind asks of boto3's kinesis / dynamodbstreams clients."""

    exceptions = type("Exceptions", (), {"ResourceNotFoundException": NotFound})

    def __init__(self, existing: set[str]):
        self.existing = existing

    def describe_stream_summary(self, StreamARN):
        if StreamARN not in self.existing:
            raise NotFound(StreamARN)
        return {}

    def describe_stream(self, StreamArn, Limit):
        if StreamArn not in self.existing:
            raise NotFound(StreamArn)
        return {"StreamDescription": {"Shards": []}}


def kind(tmp_path, invoked: list):
    store = CheckpointStore(Database(tmp_path / "lamb.db"))

    async def invoke(function, payload):
        invoked.append((function, payload))

    async def send_failure(destination, record):
        return None

    k = stream_kind(invoke, checkpoints=store, send_failure=send_failure, role_of=lambda cfg: "arn:aws:iam::0:role/r",
                    timings=Timings(), max_filters=5, client_for=lambda arn: StreamClient({KINESIS, DDB}))
    return k, store


def test_check_refuses_a_missing_stream_with_aws_message(tmp_path):
    k, _ = kind(tmp_path, [])
    asyncio.run(k.check(KINESIS, 3))
    asyncio.run(k.check(DDB, 3))
    for missing in (KINESIS + "x", DDB.replace("table/t/", "table/u/")):
        with pytest.raises(AwsError) as e:
            asyncio.run(k.check(missing, 3))
        assert e.value.code == "InvalidParameterValueException" and e.value.message == f"Stream not found: {missing}"


def test_poller_invokes_the_mapping_function_arn_and_forget_drops_checkpoints(tmp_path):
    invoked: list = []
    k, store = kind(tmp_path, invoked)
    poller = k.poller({"UUID": "u", "EventSourceArn": KINESIS, "FunctionArn": FN, "StartingPosition": "LATEST"},
                      lambda result: None)
    assert isinstance(poller, StreamPoller) and poller.config.function_arn == FN
    assert poller.config.starting_position == "LATEST" and poller.source.invoke_identity_arn == "arn:aws:iam::0:role/r"
    asyncio.run(poller.invoke(b"{}"))
    assert invoked == [(FN, b"{}")]
    store.save("u", {"shardId-0": ShardCheckpoint(Position("TRIM_HORIZON"))})
    assert store.load("u")
    k.forget("u")
    assert store.load("u") == {}


def kinesis_record(data) -> dict:
    return {"kinesis": {"partitionKey": "k", "data": base64.b64encode(data).decode()}, "eventSource": "aws:kinesis"}


def test_filters_see_aws_record_views():
    cfg = {"EventSourceArn": KINESIS, "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"data": {"n": [1]}})}]}}
    matches = matcher(cfg, 5)
    assert matches(kinesis_record(b'{"n": 1}')) and not matches(kinesis_record(b'{"n": 2}'))
    assert not matches(kinesis_record(b"\xff"))
    assert matcher({"EventSourceArn": KINESIS}, 5) is None
    ddb = matcher({"EventSourceArn": DDB, "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]}}, 5)
    assert ddb({"eventName": "REMOVE", "dynamodb": {}}) and not ddb({"eventName": "INSERT", "dynamodb": {}})
