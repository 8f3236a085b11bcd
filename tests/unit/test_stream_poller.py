"""Shard discovery and lineage, starting positions and an unreachable source (lamb.sources.stream_poller)."""

from __future__ import annotations

import time

from lamb.sources.stream_poller import StreamPoller
from lamb.sources.streams import Read, Timings

from .stream_fakes import (FAST, Destinations, FakeFunction, FakeSource, config, cp, one_shard, poller, run,
                           store, until)  # noqa: F401  (store: fixture)


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
        0.1, 60.0, (0.01, 0.5), (1.0, 60.0))
    assert Timings.from_settings(Settings()).poll_interval_s is None


def test_idle_backoff_is_off_by_default_and_doubles_to_its_cap():
    assert [Timings().idle_delay(1.0, n) for n in (1, 2, 5)] == [1.0, 1.0, 1.0]
    t = Timings(idle_poll_max_s=5.0)
    assert [t.idle_delay(1.0, n) for n in (1, 2, 3, 4, 50)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert Timings(poll_interval_s=0.25, idle_poll_max_s=0.1).idle_delay(1.0, 9) == 0.25
