"""Processing a shard (lamb.sources.shard_processor) through the real poller: batches, errors, lanes, windows, restarts."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone

from lamb.sources.stream_poller import StreamPoller
from lamb.sources.streams import lane_of, window_start

from .stream_fakes import (ARN, FAST, Destinations, FakeFunction, FakeSource, config, cp, one_shard, poller, run,
                           store, until)  # noqa: F401  (store: fixture)


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


def test_expired_iterator_reopens_after_the_last_record_read(store):
    from lamb.sources.streams import IteratorExpired

    class Expiring(FakeSource):
        expired = False

        async def read(self, shard_id, iterator, limit):
            # once a record was read, the iterator expires (once): reading must go on after that record
            if not self.expired and len(self.shards[shard_id]["records"]) >= 2:
                self.expired = True
                raise IteratorExpired("Iterator expired")
            return await super().read(shard_id, iterator, limit)

    src = Expiring()
    src.add_shard("s0")
    fn = FakeFunction()

    async def go():
        p = poller(src, fn, store, batch_size=10)
        p.start()
        for i in range(4):
            src.put("s0", "k", i)
            await until(lambda: sum(map(len, fn.values())) == i + 1)
        await p.stop()

    run(go())
    assert src.expired and [v for batch in fn.values() for v in batch] == [0, 1, 2, 3]
