"""Stream processing (lamb.sources.streams) through its real classes.

The function is a fake ``invoke`` callable and the stream an in-memory shard
source; the checkpoint store is Lamb's real one on a real SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from lamb.sources.checkpoints import CheckpointStore, Position, ShardCheckpoint
from lamb.sources.streams import (Read, ShardInfo, StreamConfig, StreamPoller, StreamRecord, Timings, classify,
                                  failure_record, iso_millis, lane_of, s3_failure_key, split_expired, window_start)
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


def records(*seqs: str) -> list[StreamRecord]:
    return [StreamRecord(s, "k", 0.0, {}, 2) for s in seqs]


def result(response=None, error=None):
    return SimpleNamespace(payload=json.dumps(response).encode() if response is not None else b"", function_error=error)


# ------------------------------------------------------------ pure rules
def test_classify_complete_success_forms():
    batch = records("1", "2")
    for response in (None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}):
        assert classify(result(response), batch, report_item_failures=True, windowed=False).ok


def test_classify_complete_failure_forms():
    batch = records("1", "2")
    for item in ({"itemIdentifier": ""}, {"itemIdentifier": None}, {"itemId": "1"}, {"itemIdentifier": "99"}):
        out = classify(result({"batchItemFailures": [item]}), batch, report_item_failures=True, windowed=False)
        assert not out.ok and out.failed_at is None


def test_classify_checkpoints_at_lowest_failed_sequence():
    batch = records("10", "20", "30", "40")
    out = classify(result({"batchItemFailures": [{"itemIdentifier": "40"}, {"itemIdentifier": "20"}]}), batch,
                   report_item_failures=True, windowed=False)
    assert not out.ok and out.failed_at == 1


def test_classify_function_error_and_ignored_response():
    batch = records("1")
    assert classify(result(None, "Unhandled"), batch, report_item_failures=True, windowed=False).function_error
    # without ReportBatchItemFailures the response is not looked at
    out = classify(result({"batchItemFailures": [{"itemIdentifier": "1"}]}), batch, report_item_failures=False,
                   windowed=False)
    assert out.ok


def test_classify_window_requires_state():
    batch = records("1")
    assert not classify(result({"x": 1}), batch, report_item_failures=False, windowed=True).ok
    out = classify(result({"state": {"n": 1}}), batch, report_item_failures=False, windowed=True)
    assert out.ok and out.state == {"n": 1}


def test_split_expired_and_lanes_and_windows():
    recs = [StreamRecord(str(i), "k", t, {}, 2) for i, t in enumerate([100.0, 150.0, 195.0])]
    expired, fresh = split_expired(recs, 60, now=200.0)
    assert [r.sequence for r in expired] == ["0"] and [r.sequence for r in fresh] == ["1", "2"]
    assert split_expired(recs, -1, now=1e9) == ([], recs)
    assert lane_of("abc", 1) == 0 and lane_of("abc", 7) == lane_of("abc", 7) < 7
    assert window_start(125.5, 60) == 120 and window_start(180, 60) == 180


def test_failure_record_shape():
    recs = [StreamRecord("111", "k", 1573690399.264, {"a": 1}, 7), StreamRecord("222", "k", 1573690400.5, {"a": 2}, 7)]
    last = SimpleNamespace(payload=b"", function_error="Unhandled", request_id="rid", executed_version="3")
    rec = failure_record(config=config(mapping_uuid="u-1"), source=FakeSource(), shard_id="shardId-000000000001",
                         records=recs, condition="RetryAttemptsExhausted", invokes=3, last=last,
                         payload=b'{"Records":[]}', now=1573690401.0)
    assert rec.document == {
        "requestContext": {"requestId": "rid", "functionArn": FN, "condition": "RetryAttemptsExhausted",
                           "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "3", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:21.000Z",
        "KinesisBatchInfo": {
            "shardId": "shardId-000000000001", "startSequenceNumber": "111", "endSequenceNumber": "222",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19.264Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:13:20.500Z",
            "batchSize": 2, "streamArn": ARN,
        },
    }
    s3 = json.loads(rec.body(with_payload=True))
    assert s3["payload"] == '{"Records":[]}' and "payload" not in json.loads(rec.body(with_payload=False))
    assert rec.s3_key.startswith("aws/lambda/u-1/shardId-000000000001/2019/11/14/2019-11-14T00.13.21-")
    assert s3_failure_key("u", "s", 0).startswith("aws/lambda/u/s/1970/01/01/1970-01-01T00.00.00-")


# ------------------------------------------------------------ processing
def test_batches_in_order_and_checkpoint(store):
    src, fn = one_shard(range(10)), FakeFunction()

    async def go():
        p = poller(src, fn, store, batch_size=3)
        p.start()
        await until(lambda: sum(map(len, fn.values())) == 10)
        await until(lambda: cp(store).sequence == "1010")
        await p.stop()
        assert p.last_processing_result == "OK"

    run(go())
    assert fn.values() == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_bisect_isolates_the_bad_record(store):
    src, dest = one_shard(range(4)), Destinations()
    fn = FakeFunction(lambda e: (None, "Unhandled") if 2 in [r["value"] for r in e["Records"]] else (None, None))

    async def go():
        p = poller(src, fn, store, dest, batch_size=4, bisect_on_error=True, max_retry_attempts=0,
                   on_failure="arn:aws:sqs:us-east-1:000000000000:dlq")
        p.start()
        await until(lambda: cp(store).sequence == "1004")
        await p.stop()

    run(go())
    assert fn.values() == [[0, 1, 2, 3], [0, 1], [2, 3], [2], [3]]
    assert len(dest.sent) == 1
    target, rec = dest.sent[0]
    assert target == "arn:aws:sqs:us-east-1:000000000000:dlq"
    info = rec.document["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1003", "1003", 1)
    assert rec.document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert rec.document["responseContext"]["functionError"] == "Unhandled"
    assert json.loads(rec.payload)["Records"] == [{"seq": "1003", "key": "k", "value": 2}]


def test_retries_then_discard(store):
    src, dest = FakeSource(), Destinations()
    src.add_shard("s0")
    src.put("s0", "k", "bad")
    src.put("s0", "k", "next")
    fn = FakeFunction(lambda e: (None, "Unhandled") if e["Records"][0]["value"] == "bad" else (None, None))

    async def go():
        p = poller(src, fn, store, dest, batch_size=1, max_retry_attempts=2, on_failure="arn:aws:sqs:us-east-1:0:q")
        p.start()
        await until(lambda: fn.values()[-1:] == [["next"]])
        await p.stop()

    run(go())
    assert fn.values() == [["bad"]] * 3 + [["next"]]
    assert dest.sent[0][1].document["requestContext"]["approximateInvokeCount"] == 3


def test_record_age_discards_without_invoking(store):
    src, dest = FakeSource(), Destinations()
    src.add_shard("s0")
    src.put("s0", "k", "old", arrival=time.time() - 3600)
    src.put("s0", "k", "new")
    fn = FakeFunction()

    async def go():
        p = poller(src, fn, store, dest, max_record_age_s=60, on_failure="arn:aws:sqs:us-east-1:0:q")
        p.start()
        await until(lambda: fn.values() == [["new"]] and dest.sent)
        await p.stop()

    run(go())
    doc = dest.sent[0][1].document
    assert doc["requestContext"]["condition"] == "RecordAgeExceeded"
    assert doc["requestContext"]["approximateInvokeCount"] == 0 and doc["KinesisBatchInfo"]["batchSize"] == 1


def test_partial_batch_failure_checkpoint_rule(store):
    src = one_shard(range(5))
    seqs = [str(1001 + i) for i in range(5)]
    checkpoints = []

    def handler(event):
        checkpoints.append(cp(store).sequence)
        if len(checkpoints) == 1:   # records 2 and 4 fail: the checkpoint is before 2, retried from 2
            return {"batchItemFailures": [{"itemIdentifier": seqs[4]}, {"itemIdentifier": seqs[2]}]}, None
        return {"batchItemFailures": []}, None

    fn = FakeFunction(handler)

    async def go():
        p = poller(src, fn, store, batch_size=5, function_response_types=("ReportBatchItemFailures",))
        p.start()
        await until(lambda: cp(store).sequence == seqs[4])
        await p.stop()

    run(go())
    assert fn.values() == [[0, 1, 2, 3, 4], [2, 3, 4]]
    assert checkpoints[1] == seqs[1]


def test_invalid_item_identifier_retries_whole_batch(store):
    src = one_shard(range(3))
    fn = FakeFunction(lambda e: ({"batchItemFailures": [{"itemIdentifier": ""}]} if not fn.events[:-1] else {}, None))

    async def go():
        p = poller(src, fn, store, batch_size=3, function_response_types=("ReportBatchItemFailures",))
        p.start()
        await until(lambda: len(fn.values()) == 2)
        await p.stop()

    run(go())
    assert fn.values() == [[0, 1, 2], [0, 1, 2]]


def test_parallelization_keeps_key_order_and_lets_other_keys_pass(store):
    src = FakeSource()
    src.add_shard("s0")
    keys = [f"key-{i}" for i in range(8)]
    lanes = {lane_of(k, 4) for k in keys}
    assert len(lanes) > 1
    for n in range(5):
        for k in keys:
            src.put("s0", k, (k, n))
    slow = keys[0]
    fn = FakeFunction()

    async def go():
        hold = asyncio.Event()
        orig = fn.__call__

        async def invoke(payload):
            if json.loads(payload)["Records"][0]["key"] == slow and not hold.is_set():
                await hold.wait()
            return await orig(payload)

        p = StreamPoller(config=config(batch_size=2, parallelization_factor=4), source=src, invoke=invoke,
                         checkpoints=store, send_failure=Destinations(), timings=FAST)
        p.start()
        other = [k for k in keys if lane_of(k, 4) != lane_of(slow, 4)]
        await until(lambda: sum(len(v) for v in fn.values()) >= 5 * len(other))
        hold.set()
        await until(lambda: sum(len(v) for v in fn.values()) == 40)
        await until(lambda: cp(store).sequence == "1040")
        await p.stop()

    run(go())
    per_key: dict[str, list[int]] = {}
    for batch in fn.values():
        for k, n in batch:
            per_key.setdefault(k, []).append(n)
    assert all(v == [0, 1, 2, 3, 4] for v in per_key.values()) and len(per_key) == 8
    first_slow = next(i for i, b in enumerate(fn.values()) if b[0][0] == slow)
    assert first_slow > 0   # other lanes went ahead while the slow key was held


def test_tumbling_window_state_and_final_invoke(store):
    src = FakeSource()
    src.add_shard("s0", closed=True)
    base = window_start(time.time(), 60) - 600
    for i in range(3):
        src.put("s0", "k", i, arrival=base + 1 + i)
    for i in range(3, 5):
        src.put("s0", "k", i, arrival=base + 61 + i)

    def handler(event):
        if event["isFinalInvokeForWindow"]:
            return {}, None
        return {"state": {"sum": event["state"].get("sum", 0) + sum(r["value"] for r in event["Records"])}}, None

    fn = FakeFunction(handler)

    async def go():
        p = poller(src, fn, store, batch_size=2, tumbling_window_s=60)
        p.start()
        await until(lambda: cp(store).finished)
        await p.stop()

    run(go())
    e = fn.events
    summary = [([r["value"] for r in x["Records"]], x["state"], x["isFinalInvokeForWindow"], x["window"]["start"])
               for x in e]
    w1 = datetime.fromtimestamp(base, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    w2 = datetime.fromtimestamp(base + 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert summary == [
        ([0, 1], {}, False, w1), ([2], {"sum": 1}, False, w1), ([], {"sum": 3}, True, w1),
        ([3, 4], {}, False, w2), ([], {"sum": 7}, True, w2),
    ]
    assert e[0]["window"]["end"] == datetime.fromtimestamp(base + 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert e[0]["shardId"] == "s0" and e[0]["eventSourceARN"] == ARN and e[0]["isWindowTerminatedEarly"] is False


def test_restart_resumes_at_checkpoint_redelivering_only_in_flight(store):
    src = one_shard(range(6))
    fn = FakeFunction()

    async def first():
        async def invoke(payload):
            if json.loads(payload)["Records"][0]["value"] == 2:
                await asyncio.Event().wait()   # the second batch is in flight when the poller stops
            return await fn(payload)

        p = StreamPoller(config=config(batch_size=2), source=src, invoke=invoke, checkpoints=store,
                         send_failure=Destinations(), timings=FAST)
        p.start()
        await until(lambda: cp(store).sequence == "1002")
        await p.stop()

    run(first())
    assert fn.values() == [[0, 1]]
    fn2 = FakeFunction()

    async def second():
        p = poller(src, fn2, store, batch_size=2)
        p.start()
        await until(lambda: cp(store).sequence == "1006")
        await p.stop()

    run(second())
    assert fn2.values() == [[2, 3], [4, 5]]


def test_restart_with_lanes_skips_what_other_lanes_finished(store):
    src = FakeSource()
    src.add_shard("s0")
    slow, fast = "a", next(k for k in "bcdefgh" if lane_of(k, 2) != lane_of("a", 2))
    src.put("s0", slow, "slow-0")
    for i in range(3):
        src.put("s0", fast, f"fast-{i}")
    fn = FakeFunction()

    async def first():
        async def invoke(payload):
            if json.loads(payload)["Records"][0]["key"] == slow:
                await asyncio.Event().wait()   # in flight forever
            return await fn(payload)

        p = StreamPoller(config=config(batch_size=1, parallelization_factor=2), source=src, invoke=invoke,
                         checkpoints=store, send_failure=Destinations(), timings=FAST)
        p.start()
        await until(lambda: cp(store).lanes.get(lane_of(fast, 2)) is not None and
                    cp(store).lanes[lane_of(fast, 2)].sequence == "1004")
        await p.stop()

    run(first())
    assert cp(store).sequence is None   # the slow lane holds the watermark
    fn2 = FakeFunction()

    async def second():
        p = poller(src, fn2, store, batch_size=1, parallelization_factor=2)
        p.start()
        await until(lambda: cp(store).sequence == "1004")
        await p.stop()

    run(second())
    assert fn2.values() == [["slow-0"]]


def test_parents_finish_before_children(store):
    src = FakeSource()
    src.add_shard("parent", closed=True)
    src.add_shard("child-a", parents=("parent",))
    src.add_shard("child-b", parents=("parent",))
    src.put("child-a", "k", "a0")
    src.put("child-b", "k", "b0")
    for i in range(3):
        src.put("parent", "k", f"p{i}")
    fn = FakeFunction()

    async def go():
        p = poller(src, fn, store, batch_size=1)
        p.start()
        await until(lambda: sum(map(len, fn.values())) == 5)
        await p.stop()

    run(go())
    flat = [v[0] for v in fn.values()]
    assert flat[:3] == ["p0", "p1", "p2"] and sorted(flat[3:]) == ["a0", "b0"]
    assert cp(store, "parent").finished


def test_filter_skips_records(store):
    src = one_shard(range(6))
    fn = FakeFunction()

    async def go():
        p = poller(src, fn, store, batch_size=10, matches=lambda r: r["value"] % 2 == 0)
        p.start()
        await until(lambda: cp(store).sequence == "1006")
        await p.stop()

    run(go())
    assert fn.values() == [[0, 2, 4]]


def test_latest_skips_existing_records_and_survives_restart_before_any(store):
    src = FakeSource()
    src.add_shard("s0")
    src.put("s0", "k", "before", arrival=time.time() - 10)
    fn = FakeFunction()

    async def first():
        p = poller(src, fn, store, starting_position="LATEST")
        p.start()
        await until(lambda: src.reads >= 2)
        await p.stop()

    run(first())
    src.put("s0", "k", "while-stopped")

    async def second():
        p = poller(src, fn, store, starting_position="LATEST")
        p.start()
        await until(lambda: fn.values() == [["while-stopped"]])
        await p.stop()

    run(second())
    assert cp(store).start.kind == "LATEST"


def test_window_terminated_early_when_state_too_big(store):
    src = FakeSource()
    src.add_shard("s0")
    base = window_start(time.time(), 3600)
    for i in range(3):
        src.put("s0", "k", i, arrival=base + 1)

    def handler(event):
        if event["isFinalInvokeForWindow"]:
            return {}, None
        return {"state": {"seen": event["state"].get("seen", []) + [r["value"] for r in event["Records"]]}}, None

    fn = FakeFunction(handler)

    async def go():
        p = StreamPoller(config=config(batch_size=2, tumbling_window_s=3600, window_state_max_bytes=15), source=src,
                         invoke=fn, checkpoints=store, send_failure=Destinations(), timings=FAST)
        p.start()
        await until(lambda: len(fn.events) == 3 and 0 in cp(store).lanes)
        await until(lambda: cp(store).lanes[0].window_state == {"seen": [2]})
        await p.stop()

    run(go())
    e = fn.events
    assert [(x["state"], x["isFinalInvokeForWindow"], x["isWindowTerminatedEarly"]) for x in e] == [
        ({}, False, False), ({"seen": [0, 1]}, True, True), ({}, False, False)]
    assert e[2]["window"] == e[0]["window"]   # the same window goes on with a fresh state


def test_unreachable_source_is_reported_and_retried(store):
    class Gone(FakeSource):
        fail = True

        async def list_shards(self):
            if self.fail:
                raise RuntimeError("ResourceNotFoundException: Stream s not found")
            return await super().list_shards()

    src, fn, results = one_shard(["x"]), FakeFunction(), []
    src.__class__ = Gone

    async def go():
        p = StreamPoller(config=config(), source=src, invoke=fn, checkpoints=store, send_failure=Destinations(),
                         timings=FAST, on_result=results.append)
        p.start()
        await until(lambda: p.last_processing_result.startswith("PROBLEM: Unable to read from the event source"))
        src.fail = False
        await until(lambda: fn.values() == [["x"]])
        await p.stop()
        assert p.last_processing_result == "OK"

    run(go())
    assert results[0].endswith("Stream s not found") and results[-1] == "OK"


def test_empty_read_does_not_end_a_closed_shard_early(store):
    class Sparse(FakeSource):
        """GetRecords may answer empty before a shard's end (AWS: sparse shards); only the end finishes it."""

        empties = 3

        async def read(self, shard_id, iterator, limit):
            if self.empties:
                self.empties -= 1
                return Read([], iterator)
            return await super().read(shard_id, iterator, limit)

    src = Sparse()
    src.add_shard("parent", closed=True)
    src.add_shard("child", parents=("parent",))
    src.put("parent", "k", "p0")
    src.put("child", "k", "c0")
    fn = FakeFunction()

    async def go():
        p = poller(src, fn, store)
        p.start()
        await until(lambda: fn.values() == [["p0"], ["c0"]])
        await p.stop()

    run(go())
    assert cp(store, "parent").finished and not cp(store, "child").finished


def test_timings_from_settings():
    from lamb.config import Settings

    s = Settings.from_env({"LAMB_STREAM_POLL_INTERVAL_S": "0.1", "LAMB_STREAM_RETRY_BACKOFF": "0.01,0.5"})
    t = Timings.from_settings(s)
    assert (t.poll_interval_s, t.discovery_interval_s, t.retry_backoff_s, t.source_backoff_s) == (
        0.1, 10.0, (0.01, 0.5), (1.0, 60.0))
    assert Timings.from_settings(Settings()).poll_interval_s is None
