"""Kinesis stream consumers (enhanced fan-out) as a mapping's EventSourceArn.

AWS (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, "Using enhanced fan-out"):
a mapping whose EventSourceArn is a consumer registered with RegisterStreamConsumer
(``arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<created>``) reads the
stream through SubscribeToShard, an HTTP/2 event stream that pushes records with the
consumer's own 2 MB/s per shard.

Lamb checks the consumer with DescribeStreamConsumer at create time and then reads the
consumer's stream with the standard iterators (GetShardIterator/GetRecords): the records, their
order, batching and error handling are the same, the dedicated throughput and push latency are
not. SubscribeToShard is not used because no server here answers it: moto 5.2.6 implements
Register/Describe/List/DeregisterStreamConsumer but not SubscribeToShard, and botocore's HTTP
client speaks HTTP/1.1 only. Records name the stream in ``eventSourceARN``.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from .stream_clients import call

MARK = "/consumer/"


def is_consumer(arn: str) -> bool:
    return arn.split(":")[2:3] == ["kinesis"] and MARK in arn


def stream_of(arn: str) -> str:
    """The ARN of the stream a consumer ARN belongs to (any other ARN as it is)."""
    return arn.split(MARK, 1)[0] if is_consumer(arn) else arn


async def consumer_exists(client: Any, arn: str, executor: Executor | None) -> bool:
    try:
        await call(executor, client.describe_stream_consumer, ConsumerARN=arn)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True
