"""The poller of one stream event source mapping: shard discovery, lineage, one processor per shard.

Shards listed when a mapping first runs start at its StartingPosition; shards that
appear later (the children of a split or a merge) start at TRIM_HORIZON once their
parents are finished, so a key's records are processed in order across resharding
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Optional

from .. import aio
from .checkpoints import CheckpointStore, Position, ShardCheckpoint
from .shard_processor import ShardProcessor
from .streams import Backoff, Invoke, Matches, Report, SendFailure, ShardInfo, ShardSource, StreamConfig, Timings

log = logging.getLogger("lamb.sources.streams")


class StreamPoller:
    """The poller of one stream event source mapping.

    ``start()`` on a running event loop, ``await stop()`` to end it (in-flight
    batches are abandoned; their records are delivered again after the next start,
    as after a crash). Progress lives in ``checkpoints``, so a new poller for the
    same mapping UUID continues where the last one stopped.
    """

    def __init__(self, *, config: StreamConfig, source: ShardSource, invoke: Invoke, checkpoints: CheckpointStore,
                 send_failure: SendFailure, matches: Optional[Matches] = None, timings: Timings = Timings(),
                 on_result: Optional[Report] = None):
        self.config, self.source, self.invoke = config, source, invoke
        self.checkpoints, self.send_failure, self.matches = checkpoints, send_failure, matches
        self.timings, self.on_result = timings, on_result
        self.last_processing_result = "No records processed"
        self._task: asyncio.Task | None = None
        self._running: dict[str, tuple[ShardProcessor, asyncio.Task]] = {}
        self._not_before: dict[str, float] = {}
        self._changed = asyncio.Event()

    def report(self, result: str) -> None:
        if result != self.last_processing_result:
            self.last_processing_result = result
            if self.on_result is not None:
                self.on_result(result)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self.run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        tasks = [t for _, t in self._running.values()]
        if task is not None:
            tasks.append(task)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()

    def cancel(self) -> None:
        """End at once without waiting (Lamb shutting down, the mapping's lease lost); like ``stop``,
        batches in flight are delivered again by the next poller of the mapping."""
        task, self._task = self._task, None
        for _, t in self._running.values():
            t.cancel()
        if task is not None:
            task.cancel()
        self._running.clear()

    @property
    def shards(self) -> list[str]:
        """Shards being processed now (for status and tests)."""
        return sorted(self._running)

    def _initial_position(self) -> Position:
        cfg = self.config
        if cfg.starting_position == "AT_TIMESTAMP":
            return Position("AT_TIMESTAMP", timestamp=cfg.starting_position_timestamp)
        if cfg.starting_position == "LATEST":
            return Position("LATEST", timestamp=time.time())
        return Position("TRIM_HORIZON")

    async def run(self) -> None:
        backoff = Backoff(*self.timings.source_backoff_s)
        while True:
            try:
                shards = await self.source.list_shards()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.report(f"PROBLEM: Unable to read from the event source: {e}")
                await asyncio.sleep(backoff.next())
                continue
            backoff.reset()
            await self._schedule(shards)
            self._changed.clear()
            await aio.wait_event(self._changed, self.timings.discovery_interval_s)

    async def _schedule(self, shards: list[ShardInfo]) -> None:
        """Start every shard whose parents are finished; parents before children (splits, merges)."""
        known = await asyncio.to_thread(self.checkpoints.load, self.config.mapping_uuid)
        first_run = not known
        new: dict[str, ShardCheckpoint] = {}
        for s in shards:
            if s.shard_id not in known:
                # shards present when the mapping first runs start at StartingPosition; later ones
                # (children of a split or merge) from their beginning
                new[s.shard_id] = ShardCheckpoint(self._initial_position() if first_run else Position("TRIM_HORIZON"),
                                                  lanes_n=max(1, self.config.parallelization_factor))
        if new:
            await asyncio.to_thread(self.checkpoints.save, self.config.mapping_uuid, new)
            known.update(new)
        listed = {s.shard_id for s in shards}
        now = time.monotonic()
        for s in shards:
            cp = known[s.shard_id]
            if s.shard_id in self._running:
                self._running[s.shard_id][0].ending_sequence = s.ending_sequence
                continue
            if cp.finished or self._not_before.get(s.shard_id, 0) > now:
                continue
            if any(p in listed and not known[p].finished for p in s.parents):
                continue   # a parent (still listed) is not finished: its records come first
            proc = ShardProcessor(shard=s, checkpoint=cp, source=self.source, config=self.config,
                                  timings=self.timings, invoke=self.invoke, matches=self.matches,
                                  send_failure=self.send_failure, store=self.checkpoints, report=self.report)
            task = asyncio.ensure_future(proc.run())
            self._running[s.shard_id] = (proc, task)
            task.add_done_callback(lambda t, sid=s.shard_id: self._ended(sid, t))

    def _ended(self, shard_id: str, task: asyncio.Task) -> None:
        self._running.pop(shard_id, None)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("mapping %s: shard %s failed: %r", self.config.mapping_uuid, shard_id, exc)
            self._not_before[shard_id] = time.monotonic() + self.timings.source_backoff_s[0]
        self._changed.set()   # a finished parent lets its children start
