"""Kinesis Data Streams as a stream event source: shards, iterators and AWS's record shape.

The event a function receives is AWS's
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-event-example):
``Records[]`` of ``{kinesis: {kinesisSchemaVersion, partitionKey, sequenceNumber,
data (base64), approximateArrivalTimestamp (epoch seconds)}, eventSource: aws:kinesis,
eventVersion, eventID "<shardId>:<sequenceNumber>", eventName aws:kinesis:record,
invokeIdentityArn (the function's execution role), awsRegion, eventSourceARN}``.

The stream is reached with a boto3 client made with boto3's standard
configuration (credentials chain, ``AWS_ENDPOINT_URL_KINESIS`` /
``AWS_ENDPOINT_URL``): ``stream_clients.client("kinesis", region)``. boto3
blocks, so every call runs on an executor thread.
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import Executor
from datetime import datetime, timezone
from typing import Any

from .. import limits as _limits
from .checkpoints import Position
from .stream_clients import arn_region, call
from .streams import IteratorExpired, Read, ShardInfo, StreamRecord, iso_millis

class KinesisSource:
    batch_info_key = "KinesisBatchInfo"
    poll_interval_s = 1.0        # "polls each shard ... at a base rate of once per second"

    def __init__(self, client: Any, stream_arn: str, *, invoke_identity_arn: str, executor: Executor | None = None,
                 limits: _limits.Limits = _limits.DEFAULT):
        self.client = client
        self.source_arn = stream_arn
        self.region = arn_region(stream_arn)
        self.invoke_identity_arn = invoke_identity_arn
        self.executor = executor
        self.max_read = limits.kinesis_get_records_max

    async def _call(self, fn, **kw):
        return await call(self.executor, fn, **kw)

    async def list_shards(self) -> list[ShardInfo]:
        shards: list[ShardInfo] = []
        kw: dict = {"StreamARN": self.source_arn}
        while True:
            resp = await self._call(self.client.list_shards, **kw)
            for s in resp.get("Shards", []):
                parents = tuple(p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p)
                ending = s.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
                shards.append(ShardInfo(s["ShardId"], parents, ending))
            token = resp.get("NextToken")
            if not token:
                return shards
            kw = {"NextToken": token}

    async def iterator(self, shard_id: str, position: Position) -> str:
        kw: dict = {"StreamARN": self.source_arn, "ShardId": shard_id, "ShardIteratorType": position.kind}
        if position.kind == "LATEST" and position.timestamp is not None:
            # LATEST as of when the mapping first ran: a restart must not skip what arrived since
            kw["ShardIteratorType"] = "AT_TIMESTAMP"
            kw["Timestamp"] = datetime.fromtimestamp(position.timestamp, timezone.utc)
        elif position.kind == "AT_TIMESTAMP":
            kw["Timestamp"] = datetime.fromtimestamp(position.timestamp or 0, timezone.utc)
        elif position.kind == "AFTER_SEQUENCE_NUMBER":
            kw["StartingSequenceNumber"] = position.sequence
        resp = await self._call(self.client.get_shard_iterator, **kw)
        return resp["ShardIterator"]

    async def read(self, shard_id: str, iterator: str, limit: int) -> Read:
        try:
            resp = await self._call(self.client.get_records, ShardIterator=iterator, Limit=min(limit, self.max_read),
                                    StreamARN=self.source_arn)
        except self.client.exceptions.ExpiredIteratorException as e:
            raise IteratorExpired(str(e)) from e
        records = [self.record(shard_id, r) for r in resp.get("Records", [])]
        return Read(records, resp.get("NextShardIterator"))

    def record(self, shard_id: str, r: dict) -> StreamRecord:
        """AWS's Lambda record for one GetRecords record."""
        arrival = r["ApproximateArrivalTimestamp"]
        ts = arrival.timestamp() if isinstance(arrival, datetime) else float(arrival)
        seq = r["SequenceNumber"]
        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": r["PartitionKey"],
                "sequenceNumber": seq,
                "data": base64.b64encode(r["Data"]).decode(),
                "approximateArrivalTimestamp": round(ts, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self.invoke_identity_arn,
            "awsRegion": self.region,
            "eventSourceARN": self.source_arn,
        }
        return StreamRecord(seq, r["PartitionKey"], ts, event, len(json.dumps(event)))

    def format_time(self, ts: float) -> str:
        return iso_millis(ts)
