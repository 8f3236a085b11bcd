"""Fakes for the stream processing tests: an in-memory shard source, a scriptable function, a destination.

Only the surroundings are fakes; the stream processing under test is Lamb's real
code, and the checkpoint store is Lamb's real one on a real SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

import pytest

from lamb.sources.checkpoints import CheckpointStore, Position, ShardCheckpoint
from lamb.sources.stream_poller import StreamPoller
from lamb.sources.streams import Read, ShardInfo, StreamConfig, StreamRecord, Timings, iso_millis
from lamb.store.db import Database

FAST = Timings(poll_interval_s=0.005, discovery_interval_s=0.05, retry_backoff_s=(0.001, 0.005),
               source_backoff_s=(0.005, 0.02))
ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
FN = "arn:aws:lambda:us-east-1:000000000000:function:f"


# ------------------------------------------------------------------ fakes
class FakeSource:
    """Shards in memory; iterators are "<shard>|<index>"."""

    source_arn = ARN
    batch_info_key = "KinesisBatchInfo"
    max_read = 1000
    poll_interval_s = 1.0

    def __init__(self):
        self.shards: dict[str, dict] = {}
        self.seq = 0
        self.reads = 0

    def add_shard(self, shard_id: str, parents: tuple = (), closed: bool = False) -> None:
        self.shards[shard_id] = {"parents": parents, "closed": closed, "records": []}

    def put(self, shard_id: str, key: str, value, arrival: float | None = None) -> str:
        self.seq += 1
        seq = str(1000 + self.seq)
        event = {"seq": seq, "key": key, "value": value}
        self.shards[shard_id]["records"].append(
            StreamRecord(seq, key, time.time() if arrival is None else arrival, event, len(json.dumps(event))))
        return seq

    async def list_shards(self):
        # a closed shard's EndingSequenceNumber lies beyond its last record, as on AWS
        return [ShardInfo(k, v["parents"], "999999" if v["closed"] else None) for k, v in self.shards.items()]

    async def iterator(self, shard_id, position: Position) -> str:
        recs = self.shards[shard_id]["records"]
        if position.kind == "TRIM_HORIZON":
            i = 0
        elif position.kind in ("LATEST", "AT_TIMESTAMP") and position.timestamp is not None:
            i = next((n for n, r in enumerate(recs) if r.arrival >= position.timestamp), len(recs))
        elif position.kind == "LATEST":
            i = len(recs)
        else:
            i = next(n + 1 for n, r in enumerate(recs) if r.sequence == position.sequence)
        return f"{shard_id}|{i}"

    async def read(self, shard_id, iterator, limit) -> Read:
        self.reads += 1
        i = int(iterator.split("|")[1])
        shard = self.shards[shard_id]
        got = shard["records"][i:i + limit]
        end = i + len(got)
        nxt = None if shard["closed"] and end >= len(shard["records"]) else f"{shard_id}|{end}"
        return Read(list(got), nxt)

    def format_time(self, ts):
        return iso_millis(ts)


def one_shard(values) -> FakeSource:
    """A source with one open shard "s0" holding ``values`` under key "k" (sequence numbers 1001, 1002, …)."""
    src = FakeSource()
    src.add_shard("s0")
    for v in values:
        src.put("s0", "k", v)
    return src


class FakeFunction:
    """``invoke`` callable: ``handler(event) -> (response dict | None, function_error | None)``."""

    def __init__(self, handler=None):
        self.handler = handler or (lambda event: (None, None))
        self.events: list[dict] = []

    def values(self) -> list[list]:
        return [[r["value"] for r in e["Records"]] for e in self.events]

    async def __call__(self, payload: bytes):
        event = json.loads(payload)
        self.events.append(event)
        response, error = self.handler(event)
        return SimpleNamespace(payload=json.dumps(response).encode() if response is not None else b"null",
                               function_error=error, request_id=f"req-{len(self.events)}", executed_version="$LATEST")


class Destinations:
    def __init__(self):
        self.sent = []

    async def __call__(self, destination, record):
        self.sent.append((destination, record))


@pytest.fixture
def store(tmp_path):
    db = Database(tmp_path / "lamb.db")
    yield CheckpointStore(db)
    db.close()


def config(**kw) -> StreamConfig:
    kw.setdefault("mapping_uuid", "m-1")
    kw.setdefault("function_arn", FN)
    return StreamConfig(**kw)


def poller(source, fn, store, dest=None, matches=None, **kw) -> StreamPoller:
    return StreamPoller(config=config(**kw), source=source, invoke=fn, checkpoints=store,
                        send_failure=dest or Destinations(), matches=matches, timings=FAST)


async def until(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.002)


def run(coro):
    return asyncio.run(coro)


def cp(store, shard: str = "s0") -> ShardCheckpoint:
    """The shard's checkpoint (an empty one before the poller wrote it)."""
    return store.load("m-1").get(shard) or ShardCheckpoint(Position("TRIM_HORIZON"))
