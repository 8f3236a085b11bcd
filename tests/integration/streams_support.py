"""Helpers for the stream event source tests: a real Lamb function behind an ``invoke`` callable.

Run as a program (``python -m tests.integration.streams_support '<json>'``) it is a
stream poller process of its own, so a test can kill -9 it and start another on
the same checkpoint database.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import boto3

from lamb.sources import stream_factory
from lamb.sources.checkpoints import CheckpointStore
from lamb.sources.stream_poller import StreamPoller
from lamb.sources.streams import StreamConfig, Timings
from lamb.store.db import Database

from .conftest import unique

FAST = Timings(poll_interval_s=0.05, discovery_interval_s=0.2, retry_backoff_s=(0.05, 0.2),
               source_backoff_s=(0.1, 0.5))
ROLE = "arn:aws:iam::000000000000:role/lamb-test"


def kinesis_stream(moto, shards: int = 1) -> tuple[str, str]:
    """A new Kinesis stream on moto: (name, ARN)."""
    k = moto.client("kinesis")
    name = unique("stream")
    k.create_stream(StreamName=name, ShardCount=shards)
    k.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})
    return name, k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def put(moto, stream: str, *items: str, key: str = "k") -> list[str]:
    """PutRecord each item; their sequence numbers."""
    k = moto.client("kinesis")
    return [k.put_record(StreamName=stream, Data=i.encode(), PartitionKey=key)["SequenceNumber"] for i in items]


def ddb_table(moto, view: str = "NEW_AND_OLD_IMAGES") -> tuple[str, str]:
    """A new DynamoDB table with a stream on moto: (name, stream ARN)."""
    d = moto.client("dynamodb")
    name = unique("table")
    d.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    return name, d.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def lamb_invoker(client, function_name: str, log: list | None = None):
    """``invoke(payload)`` through boto3's Lambda Invoke against a real ``lamb serve``."""

    async def invoke(payload: bytes):
        resp = await asyncio.to_thread(client.invoke, FunctionName=function_name, Payload=payload)
        body = resp["Payload"].read()
        if log is not None:
            log.append((json.loads(payload), json.loads(body) if body else None, resp.get("FunctionError")))
        return SimpleNamespace(payload=body, function_error=resp.get("FunctionError"),
                               executed_version=resp.get("ExecutedVersion"), status_code=resp["StatusCode"],
                               request_id=resp["ResponseMetadata"]["RequestId"])

    return invoke


def source_for(arn: str, client=None):
    """The adapter of a stream ARN (boto3's standard configuration unless ``client`` is given)."""
    return stream_factory.source_for(arn, invoke_identity_arn=ROLE, source_client=client)


async def _run(spec: dict) -> None:
    db = Database(Path(spec["db"]))
    lam = boto3.client("lambda", endpoint_url=spec["lamb_url"], region_name="us-east-1", **spec["lamb_keys"])
    poller = StreamPoller(config=StreamConfig(**spec["config"]), source=source_for(spec["arn"]),
                          invoke=lamb_invoker(lam, spec["function"]), checkpoints=CheckpointStore(db),
                          send_failure=_no_destination, timings=FAST)
    poller.start()
    print("running", flush=True)
    await asyncio.Event().wait()


async def _no_destination(destination, record):
    raise RuntimeError("no on-failure destination in the runner")


if __name__ == "__main__":
    asyncio.run(_run(json.loads(sys.argv[1])))
