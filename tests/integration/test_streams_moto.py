"""Kinesis and DynamoDB Streams pollers against moto's server, invoking a real Lamb function.

moto runs as a separate process (``MotoServer``); streams are read with real
boto3 clients; every batch is a boto3 ``Invoke`` of a Python function on a real
``lamb serve``; failure records reach moto's SQS and S3 through boto3's standard
configuration (``AWS_ENDPOINT_URL``). What moto 5.2 cannot show (records of child
shards after a split, AWS's real sequence numbers) is covered by
tests/unit/test_streams.py with an in-memory shard source.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lamb.events.destinations import Deliverer
from lamb.sources.checkpoints import CheckpointStore
from lamb.sources.failure_destinations import FailureSender
from lamb.sources.stream_poller import StreamPoller
from lamb.sources.streams import StreamConfig
from lamb.store.db import Database

from .async_support import REGION, moto, sink  # noqa: F401  (fixtures)
from .conftest import DUMMY_CREDS, create, unique, wait_for
from .streams_support import FAST, ddb_table, kinesis_stream, lamb_invoker, put, source_for

FUNCTION = """
import base64, json, os, urllib.request
SINK = os.environ.get("SINK")
def item(r):
    if "kinesis" in r:
        return base64.b64decode(r["kinesis"]["data"]).decode()
    image = r["dynamodb"].get("NewImage") or {}
    return image.get("v", {}).get("S") or r["eventName"]
def handler(event, context):
    items = [item(r) for r in event["Records"]]
    if SINK:
        req = urllib.request.Request(SINK, data=json.dumps({"tag": "batch", "items": items}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
    if any(i.startswith("poison") for i in items):
        raise Exception("poison record")
    return {"items": items}
"""


@pytest.fixture(scope="module")
def function(lam):
    name = unique("stream")
    create(lam, name, FUNCTION, Timeout=30)
    return name


@pytest.fixture
def aws_env(moto, monkeypatch):
    """boto3's standard variables in this process, so failure records reach moto as they would reach AWS."""
    for k, v in moto.env().items():
        monkeypatch.setenv(k, v)
    return moto


@pytest.fixture
def checkpoints(tmp_path):
    db = Database(tmp_path / "lamb.db")
    yield CheckpointStore(db)
    db.close()






def config(**kw) -> StreamConfig:
    kw.setdefault("mapping_uuid", unique("esm"))
    kw.setdefault("function_arn", "arn:aws:lambda:us-east-1:000000000000:function:f")
    return StreamConfig(**kw)


class Running:
    """A poller on this test's event loop, running in a thread so the test can wait on conditions."""

    def __init__(self, poller: StreamPoller):
        self.poller = poller
        self.loop = asyncio.new_event_loop()
        import threading

        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self):
        self.poller.start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.poller.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def start(moto, arn, lam, function, checkpoints, log, **kw) -> Running:
    client = moto.client("kinesis" if ":kinesis:" in arn else "dynamodbstreams")
    matches, cfg = kw.pop("matches", None), kw.pop("cfg", None)
    poller = StreamPoller(config=cfg or config(**kw), source=source_for(arn, client),
                          invoke=lamb_invoker(lam, function, log), checkpoints=checkpoints,
                          send_failure=FailureSender(Deliverer(REGION)), matches=matches, timings=FAST)
    return Running(poller)


def seen(log) -> list[str]:
    return [i for _, resp, err in log if not err for i in resp["items"]]


# ------------------------------------------------------------------ Kinesis
def test_kinesis_order_batches_and_record_shape(moto, lam, function, checkpoints):
    stream, arn = kinesis_stream(moto)
    seqs = put(moto, stream, *[f"m{i}" for i in range(7)], key="pk-1")
    log: list = []
    run = start(moto, arn, lam, function, checkpoints, log, batch_size=3)
    try:
        wait_for(lambda: len(seen(log)) == 7, 30, 0.05, "7 records")
    finally:
        run.stop()
    assert seen(log) == [f"m{i}" for i in range(7)]
    assert [len(e["Records"]) for e, _, _ in log] == [3, 3, 1]
    first = log[0][0]["Records"][0]
    arrival = first["kinesis"].pop("approximateArrivalTimestamp")
    assert isinstance(arrival, float) and abs(arrival - time.time()) < 300
    assert first == {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "pk-1", "sequenceNumber": seqs[0], "data": "bTA="},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-000000000000:{seqs[0]}",
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::000000000000:role/lamb-test",
        "awsRegion": "us-east-1", "eventSourceARN": arn,
    }


def test_kinesis_bisect_retries_and_sqs_on_failure_destination(aws_env, lam, function, checkpoints):
    moto = aws_env
    stream, arn = kinesis_stream(moto)
    seqs = put(moto, stream, "m0", "m1", "poison-2", "m3")
    url, queue_arn = moto.queue(unique("dlq"))
    log: list = []
    mapping = unique("esm")
    run = start(moto, arn, lam, function, checkpoints, log, batch_size=4, bisect_on_error=True,
                max_retry_attempts=1, on_failure=queue_arn, mapping_uuid=mapping)
    try:
        msgs = moto.receive(url, 1, timeout=30)
        wait_for(lambda: "m3" in seen(log), 30, 0.05, "the record after the bad one")
        shard = "shardId-000000000000"
        wait_for(lambda: shard in checkpoints.load(mapping) and checkpoints.load(mapping)[shard].sequence == seqs[3],
                 30, 0.05, "the checkpoint after the last record")
    finally:
        run.stop()
    # the batch halves until the bad record is alone; it is retried once, then discarded
    assert [[i for i in (r.get("kinesis", {}).get("data") for r in e["Records"])] for e, _, _ in log] == [
        ["bTA=", "bTE=", "cG9pc29uLTI=", "bTM="], ["bTA=", "bTE="], ["cG9pc29uLTI=", "bTM="], ["cG9pc29uLTI="],
        ["cG9pc29uLTI="], ["bTM="]]
    doc = json.loads(msgs[0]["Body"])
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert doc["requestContext"]["functionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:f"
    assert doc["requestContext"]["approximateInvokeCount"] == 4
    assert doc["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert doc["version"] == "1.0"
    info = doc["KinesisBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"],
            info["streamArn"]) == ("shardId-000000000000", seqs[2], seqs[2], 1, arn)
    assert info["approximateArrivalOfFirstRecord"].endswith("Z") and "payload" not in doc


def test_kinesis_filter_and_at_timestamp(moto, lam, function, checkpoints):
    stream, arn = kinesis_stream(moto)
    put(moto, stream, "old-keep", "old-drop")
    time.sleep(0.05)   # AT_TIMESTAMP needs a time strictly between the two puts
    t = time.time()
    time.sleep(0.05)
    put(moto, stream, "new-keep", "new-drop", "new-keep-2")
    log: list = []
    import base64

    def matches(record):
        return "keep" in base64.b64decode(record["kinesis"]["data"]).decode()

    run = start(moto, arn, lam, function, checkpoints, log, starting_position="AT_TIMESTAMP",
                starting_position_timestamp=t, matches=matches)
    try:
        wait_for(lambda: len(seen(log)) >= 2, 30, 0.05, "matching records")
    finally:
        run.stop()
    assert seen(log) == ["new-keep", "new-keep-2"]


def test_kinesis_split_and_merge_parents_before_children(moto, lam, function, checkpoints):
    stream, arn = kinesis_stream(moto)
    put(moto, stream, "p0", "p1", "p2")
    k = moto.client("kinesis")
    k.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 127))
    k.merge_shards(StreamName=stream, ShardToMerge="shardId-000000000001", AdjacentShardToMerge="shardId-000000000002")
    log: list = []
    mapping = unique("esm")
    run = start(moto, arn, lam, function, checkpoints, log, mapping_uuid=mapping, batch_size=1)
    parents = {"shardId-000000000001": ["shardId-000000000000"], "shardId-000000000002": ["shardId-000000000000"],
               "shardId-000000000003": ["shardId-000000000001", "shardId-000000000002"]}
    violations = []

    def check():
        cps = checkpoints.load(mapping)
        for shard in run.poller.shards:
            if any(not cps[p].finished for p in parents.get(shard, [])):
                violations.append(shard)
        return cps.get("shardId-000000000003") is not None and "shardId-000000000003" in run.poller.shards

    try:
        wait_for(check, 30, 0.01, "the merged shard to be processed")
    finally:
        run.stop()
    cps = checkpoints.load(mapping)
    assert not violations
    assert all(cps[s].finished for s in ("shardId-000000000000", "shardId-000000000001", "shardId-000000000002"))
    assert seen(log) == ["p0", "p1", "p2"]
    assert cps["shardId-000000000003"].start.kind == "TRIM_HORIZON"


def test_kinesis_checkpoint_survives_kill_9(moto, lamb_server, lam, sink, tmp_path):
    name = unique("stream")
    create(lam, name, FUNCTION, Timeout=30, Environment={"Variables": {"SINK": sink.url}})
    stream, arn = kinesis_stream(moto)
    db = tmp_path / "lamb.db"
    spec = {"db": str(db), "arn": arn, "function": name, "lamb_url": lamb_server.url, "lamb_keys": lamb_server.credentials(),
            "config": {"mapping_uuid": "esm-kill", "function_arn": lamb_server.arn(name), "batch_size": 2}}
    env = {**os.environ, **moto.env(), **{"AWS_ACCESS_KEY_ID": DUMMY_CREDS["aws_access_key_id"]}}
    root = Path(__file__).resolve().parents[2]

    def runner() -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-m", "tests.integration.streams_support", json.dumps(spec)], cwd=root,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        assert p.stdout.readline().strip() == b"running"
        return p

    def items() -> list[str]:
        return [i for b in sink.of("tag", "batch") for i in b["items"]]

    seqs = put(moto, stream, *[f"a{i}" for i in range(5)])
    first = runner()
    reader = Database(db)
    try:
        store = CheckpointStore(reader)
        wait_for(lambda: store.load("esm-kill").get("shardId-000000000000") is not None
                 and store.load("esm-kill")["shardId-000000000000"].sequence == seqs[-1], 30, 0.05, "checkpoint")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        reader.close()
    put(moto, stream, *[f"b{i}" for i in range(3)])
    second = runner()
    try:
        wait_for(lambda: len(items()) >= 8, 30, 0.05, "records after the restart")
        time.sleep(0.3)   # nothing more may come
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)
    assert items() == [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(3)]


WINDOW_FUNCTION = """
import base64
def handler(event, context):
    state = dict(event.get("state") or {})
    for r in event["Records"]:
        state[r["kinesis"]["partitionKey"]] = state.get(r["kinesis"]["partitionKey"], 0) + 1
    return {"state": state, "final": event["isFinalInvokeForWindow"]}
"""


def test_kinesis_parallelization_and_tumbling_window(moto, lam, function, checkpoints):
    stream, arn = kinesis_stream(moto)
    for n in range(4):
        for key in ("a", "b", "c"):
            put(moto, stream, f"{key}{n}", key=key)
    log: list = []
    run = start(moto, arn, lam, function, checkpoints, log, batch_size=2, parallelization_factor=3)
    try:
        wait_for(lambda: len(seen(log)) == 12, 30, 0.05, "12 records")
    finally:
        run.stop()
    for key in "abc":   # per partition key, order is kept across the lanes
        assert [i for i in seen(log) if i[0] == key] == [f"{key}{n}" for n in range(4)]

    name = unique("window")
    create(lam, name, WINDOW_FUNCTION, Timeout=30)
    stream, arn = kinesis_stream(moto)
    for key in ("x", "y", "x"):
        put(moto, stream, key, key=key)
    log = []
    run = start(moto, arn, lam, name, checkpoints, log, tumbling_window_s=1)
    finals = lambda: [e for e, _, _ in log if e["isFinalInvokeForWindow"]]  # noqa: E731
    try:   # 1-second windows: the three records may straddle two windows, each closed by a final invocation
        wait_for(lambda: sum(sum(e["state"].values()) for e in finals()) == 3, 30, 0.05, "the final invocations")
    finally:
        run.stop()
    totals: dict = {}
    for final in finals():
        assert final["Records"] == [] and final["shardId"] == "shardId-000000000000" and final["eventSourceARN"] == arn
        for k, v in final["state"].items():
            totals[k] = totals.get(k, 0) + v
        batches = [e for e, _, _ in log if e["window"] == final["window"] and not e["isFinalInvokeForWindow"]]
        assert batches and batches[0]["state"] == {}   # each window starts with an empty state
    assert totals == {"x": 2, "y": 1}


# ------------------------------------------------------------ DynamoDB Streams


def test_dynamodb_insert_modify_remove_shapes(moto, lam, function, checkpoints):
    d = moto.client("dynamodb")
    shapes = {}
    for view in ("NEW_AND_OLD_IMAGES", "KEYS_ONLY"):
        table, arn = ddb_table(moto, view)
        d.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "one"}, "b": {"B": b"\x00\x01"}})
        d.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "two"}})
        d.delete_item(TableName=table, Key={"id": {"S": "a"}})
        log: list = []
        run = start(moto, arn, lam, function, checkpoints, log)
        try:
            wait_for(lambda: sum(len(e["Records"]) for e, _, _ in log) == 3, 30, 0.05, "3 stream records")
        finally:
            run.stop()
        shapes[view] = [r for e, _, _ in log for r in e["Records"]]
        for r in shapes[view]:
            assert r["eventSource"] == "aws:dynamodb" and r["eventSourceARN"] == arn and r["awsRegion"] == "us-east-1"
            assert set(r) == {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
                              "eventSourceARN"}
            assert isinstance(r["dynamodb"]["ApproximateCreationDateTime"], (int, float))
            assert r["dynamodb"]["StreamViewType"] == view and r["dynamodb"]["Keys"] == {"id": {"S": "a"}}
            assert isinstance(r["dynamodb"]["SizeBytes"], int) and r["dynamodb"]["SequenceNumber"].isdigit()
    full = shapes["NEW_AND_OLD_IMAGES"]
    assert [r["eventName"] for r in full] == ["INSERT", "MODIFY", "REMOVE"]
    assert full[0]["dynamodb"]["NewImage"] == {"id": {"S": "a"}, "v": {"S": "one"}, "b": {"B": "AAE="}}
    assert "OldImage" not in full[0]["dynamodb"]
    assert full[1]["dynamodb"]["OldImage"]["v"] == {"S": "one"} and full[1]["dynamodb"]["NewImage"]["v"] == {"S": "two"}
    assert full[2]["dynamodb"]["OldImage"]["v"] == {"S": "two"} and "NewImage" not in full[2]["dynamodb"]
    keys = shapes["KEYS_ONLY"]
    assert [r["eventName"] for r in keys] == ["INSERT", "MODIFY", "REMOVE"]
    assert all("NewImage" not in r["dynamodb"] and "OldImage" not in r["dynamodb"] for r in keys)


def test_dynamodb_failure_to_s3_with_payload_and_restart(aws_env, lam, function, checkpoints):
    moto = aws_env
    d = moto.client("dynamodb")
    s3 = moto.client("s3")
    bucket = unique("failures")
    s3.create_bucket(Bucket=bucket)
    table, arn = ddb_table(moto, "NEW_IMAGE")
    for v in ("ok-1", "poison-2", "ok-3"):
        d.put_item(TableName=table, Item={"id": {"S": v}, "v": {"S": v}})
    mapping = unique("esm")
    cfg = config(mapping_uuid=mapping, batch_size=1, max_retry_attempts=0, on_failure=f"arn:aws:s3:::{bucket}")
    log: list = []
    run = start(moto, arn, lam, function, checkpoints, log, cfg=cfg)
    try:
        wait_for(lambda: "ok-3" in seen(log), 30, 0.05, "the record after the bad one")
        objects = wait_for(lambda: s3.list_objects_v2(Bucket=bucket).get("Contents"), 30, 0.05, "the failure record")
    finally:
        run.stop()
    shard = checkpoints.load(mapping)
    (shard_id,) = shard
    key = objects[0]["Key"]
    assert key.startswith(f"aws/lambda/{mapping}/{shard_id}/")
    doc = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    info = doc["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == arn and info["approximateArrivalOfFirstRecord"].endswith("Z")
    payload = json.loads(doc["payload"])
    assert [r["dynamodb"]["NewImage"]["v"]["S"] for r in payload["Records"]] == ["poison-2"]
    assert info["startSequenceNumber"] == payload["Records"][0]["dynamodb"]["SequenceNumber"]

    # a new poller on the same checkpoints sees only what came after
    d.put_item(TableName=table, Item={"id": {"S": "ok-4"}, "v": {"S": "ok-4"}})
    log2: list = []
    run = start(moto, arn, lam, function, checkpoints, log2, cfg=cfg)
    try:
        wait_for(lambda: seen(log2), 30, 0.05, "the new record")
        time.sleep(0.3)
    finally:
        run.stop()
    assert seen(log2) == ["ok-4"]
