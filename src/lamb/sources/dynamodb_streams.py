"""DynamoDB Streams as a stream event source: shards, iterators and AWS's record shape.

The event a function receives is AWS's
(https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html):
``Records[]`` of ``{eventID, eventName INSERT|MODIFY|REMOVE, eventVersion,
eventSource aws:dynamodb, awsRegion, dynamodb: {ApproximateCreationDateTime (epoch
seconds), Keys, NewImage, OldImage, SequenceNumber, SizeBytes, StreamViewType},
eventSourceARN}`` (``userIdentity`` too for TTL deletions). Which images a record
has is the stream's StreamViewType (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE,
NEW_AND_OLD_IMAGES); Lamb passes on exactly what the stream returned, with
binary attribute values base64-encoded as in DynamoDB's JSON.

Reached with boto3's ``dynamodbstreams`` client and its standard configuration
(``AWS_ENDPOINT_URL_DYNAMODB_STREAMS`` / ``AWS_ENDPOINT_URL``):
``stream_clients.client("dynamodbstreams", region)``.
"""

from __future__ import annotations

import base64
import json
import math
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from .. import limits as _limits
from .checkpoints import Position
from .stream_clients import arn_region, call
from .streams import IteratorExpired, Read, ShardInfo, StreamRecord, iso_seconds


def _plain(value: Any) -> Any:
    """boto3's decoded shapes back to the JSON the stream sent: bytes as base64, times as epoch seconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        ts = value.timestamp()
        return int(ts) if ts == int(ts) else ts
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class DynamoDBStreamSource:
    batch_info_key = "DDBStreamBatchInfo"
    poll_interval_s = 0.25       # "polls shards ... at a base rate of 4 times per second"

    def __init__(self, client: Any, stream_arn: str, *, executor: Executor | None = None,
                 limits: _limits.Limits = _limits.DEFAULT):
        self.client = client
        self.source_arn = stream_arn
        self.region = arn_region(stream_arn)
        self.executor = executor
        self.max_read = limits.dynamodb_streams_get_records_max
        self._not_before: dict[str, float] = {}   # shard -> creation time records must reach (resumed LATEST)

    async def _call(self, fn, **kw):
        return await call(self.executor, fn, **kw)

    async def list_shards(self) -> list[ShardInfo]:
        shards: list[ShardInfo] = []
        kw: dict = {"StreamArn": self.source_arn}
        while True:
            desc = (await self._call(self.client.describe_stream, **kw))["StreamDescription"]
            for s in desc.get("Shards", []):
                parents = (s["ParentShardId"],) if s.get("ParentShardId") else ()
                ending = s.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
                shards.append(ShardInfo(s["ShardId"], parents, ending))
            last = desc.get("LastEvaluatedShardId")
            if not last:
                return shards
            kw = {"StreamArn": self.source_arn, "ExclusiveStartShardId": last}

    async def iterator(self, shard_id: str, position: Position) -> str:
        kind = position.kind
        kw: dict = {"StreamArn": self.source_arn, "ShardId": shard_id}
        if kind in ("LATEST", "AT_TIMESTAMP") and position.timestamp is not None:
            # DynamoDB Streams has no AT_TIMESTAMP iterator: read from the oldest record and skip
            # records created before the time (creation times are whole seconds)
            kind = "TRIM_HORIZON"
            self._not_before[shard_id] = math.floor(position.timestamp)
        elif kind == "AFTER_SEQUENCE_NUMBER":
            kw["SequenceNumber"] = position.sequence
        resp = await self._call(self.client.get_shard_iterator, ShardIteratorType=kind, **kw)
        return resp["ShardIterator"]

    async def read(self, shard_id: str, iterator: str, limit: int) -> Read:
        try:
            resp = await self._call(self.client.get_records, ShardIterator=iterator, Limit=min(limit, self.max_read))
        except self.client.exceptions.ExpiredIteratorException as e:
            raise IteratorExpired(str(e)) from e
        records = [self.record(r) for r in resp.get("Records", [])]
        floor = self._not_before.get(shard_id)
        if floor is not None:
            kept = [r for r in records if r.arrival >= floor]
            if kept:
                self._not_before.pop(shard_id, None)   # creation times only grow along a shard
            records = kept
        return Read(records, resp.get("NextShardIterator"))

    def record(self, r: dict) -> StreamRecord:
        """AWS's Lambda record for one GetRecords record."""
        ddb = _plain(r.get("dynamodb", {}))
        event: dict = {
            "eventID": r.get("eventID"),
            "eventName": r.get("eventName"),
            "eventVersion": r.get("eventVersion"),
            "eventSource": "aws:dynamodb",
            "awsRegion": r.get("awsRegion") or self.region,
            "dynamodb": ddb,
            "eventSourceARN": self.source_arn,
        }
        if r.get("userIdentity"):
            event["userIdentity"] = r["userIdentity"]
        arrival = float(ddb.get("ApproximateCreationDateTime") or 0)
        key = json.dumps(ddb.get("Keys", {}), sort_keys=True)
        return StreamRecord(ddb["SequenceNumber"], key, arrival, event, len(json.dumps(event)))

    def format_time(self, ts: float) -> str:
        return iso_seconds(ts)
