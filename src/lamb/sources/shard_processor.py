"""Processing one shard of a stream: read in order, deal to lanes, batch, invoke, checkpoint.

A ``ShardProcessor`` reads its shard in order and deals records to
``ParallelizationFactor`` lanes by a hash of the partition key, so records of one
key stay in order (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
"Polling and batching streams"). Each ``_Lane`` forms batches and runs AWS's
error handling (bisect, retries, record age, partial batch responses, tumbling
windows); see ``streams.py`` for the rules. Progress (a low watermark plus each
lane's last finished record and window state) is saved in the checkpoint store
after every finished batch.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

from .. import aio
from .checkpoints import CheckpointStore, LaneState, Position, ShardCheckpoint
from .streams import (RECORD_AGE_EXCEEDED, RETRY_EXHAUSTED, Backoff, Invoke, IteratorExpired, Matches, Report,
                      SendFailure, ShardInfo, ShardSource, StreamConfig, StreamRecord, Timings, classify,
                      failure_record, iso_seconds, lane_of, split_expired, window_start)

log = logging.getLogger("lamb.sources.streams")


@dataclass
class _Attempt:
    records: list[StreamRecord]
    retries: int = 0
    invokes: int = 0


class _Lane:
    """One of a shard's ParallelizationFactor lanes: batches of its records, in order, one at a time."""

    def __init__(self, shard: "ShardProcessor", index: int, state: LaneState):
        self.shard = shard
        self.cfg = shard.config
        self.index = index
        self.sequence = state.sequence
        self.window_start = state.window_start
        self.window_state = state.window_state
        self.queue: deque[tuple[StreamRecord, float]] = deque()   # (record, time queued)
        self.wake = asyncio.Event()

    def put(self, record: StreamRecord) -> None:
        self.queue.append((record, time.monotonic()))
        self.wake.set()

    def state(self) -> LaneState:
        return LaneState(self.sequence, self.window_start, self.window_state)

    async def _wait(self, timeout: float | None) -> None:
        self.wake.clear()
        await aio.wait_event(self.wake, timeout)

    # -- batches
    def _window_closable(self) -> bool:
        """An open window closes when a later record shows up, its end has passed with nothing queued, or the shard ended."""
        if self.window_start is None:
            return False
        if self.queue:
            return window_start(self.queue[0][0].arrival, self.cfg.tumbling_window_s) != self.window_start
        return self.shard.ending or time.time() >= self.window_start + self.cfg.tumbling_window_s

    def _take(self) -> list[StreamRecord]:
        cfg = self.cfg
        batch: list[StreamRecord] = []
        size = 0
        win = window_start(self.queue[0][0].arrival, cfg.tumbling_window_s) if cfg.tumbling_window_s else None
        while self.queue and len(batch) < cfg.batch_size:
            rec = self.queue[0][0]
            if win is not None and window_start(rec.arrival, cfg.tumbling_window_s) != win:
                break
            if batch and size + rec.size + 1 > cfg.payload_max_bytes - 1024:
                break
            batch.append(rec)
            size += rec.size + 1
            self.queue.popleft()
        return batch

    async def run(self) -> None:
        cfg = self.cfg
        while True:
            if cfg.tumbling_window_s and self._window_closable():
                await self._close_window(early=False)
                continue
            if self.queue:
                if (cfg.batching_window_s > 0 and len(self.queue) < cfg.batch_size and not self.shard.ending):
                    left = self.queue[0][1] + cfg.batching_window_s - time.monotonic()
                    if left > 0:
                        await self._wait(left)
                        continue
                await self._process(self._take())
                continue
            if self.shard.ending and self.window_start is None:
                return
            timeout = None
            if self.window_start is not None:
                timeout = max(0.0, self.window_start + cfg.tumbling_window_s - time.time())
            await self._wait(timeout)

    def _event(self, records: list[StreamRecord], *, final: bool = False, early: bool = False) -> bytes:
        doc: dict = {"Records": [r.event for r in records]}
        if self.cfg.tumbling_window_s:
            start = self.window_start if self.window_start is not None else window_start(
                records[0].arrival, self.cfg.tumbling_window_s)
            doc.update({
                "window": {"start": iso_seconds(start), "end": iso_seconds(start + self.cfg.tumbling_window_s)},
                "state": self.window_state if self.window_state is not None else {},
                "shardId": self.shard.shard_id,
                "eventSourceARN": self.shard.source.source_arn,
                "isFinalInvokeForWindow": final,
                "isWindowTerminatedEarly": early,
            })
        return json.dumps(doc, separators=(",", ":")).encode()

    async def _process(self, records: list[StreamRecord]) -> None:
        """Invoke until every record succeeded or was discarded, by AWS's error-handling rules."""
        cfg, shard = self.cfg, self.shard
        if cfg.tumbling_window_s and self.window_start is None:
            self.window_start = window_start(records[0].arrival, cfg.tumbling_window_s)
            self.window_state = {}
        work = deque([_Attempt(records)])
        backoff = Backoff(*shard.timings.retry_backoff_s)
        last: Any = None
        while work:
            item = work[0]
            expired, fresh = split_expired(item.records, cfg.max_record_age_s, time.time())
            if expired:
                await self._discard(expired, RECORD_AGE_EXCEEDED, item.invokes, last)
                item.records = fresh
                if not fresh:
                    work.popleft()
                    continue
            payload = self._event(item.records)
            try:
                result = await shard.invoke(payload)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # throttled or unreachable: retried until the records expire
                shard.report(f"PROBLEM: Function call failed: {e}")
                await asyncio.sleep(backoff.next())
                continue
            item.invokes += 1
            last = result
            outcome = classify(result, item.records, report_item_failures=cfg.report_item_failures,
                               windowed=bool(cfg.tumbling_window_s))
            if outcome.ok:
                shard.report("OK")
                await self._finish(item.records, outcome.state)
                work.popleft()
                backoff.reset()
                continue
            shard.report("PROBLEM: Function call failed")
            if outcome.failed_at is not None:
                done, item.records = item.records[:outcome.failed_at], item.records[outcome.failed_at:]
                if done:
                    await self._finish(done, outcome.state)
            elif cfg.bisect_on_error and len(item.records) > 1:
                half = len(item.records) // 2
                work.popleft()
                work.appendleft(_Attempt(item.records[half:], item.retries, item.invokes))
                work.appendleft(_Attempt(item.records[:half], item.retries, item.invokes))
                continue
            if 0 <= cfg.max_retry_attempts <= item.retries:
                await self._discard(item.records, RETRY_EXHAUSTED, item.invokes, last)
                work.popleft()
                continue
            item.retries += 1
            await asyncio.sleep(backoff.next())

    async def _finish(self, records: list[StreamRecord], state: Any) -> None:
        self.sequence = records[-1].sequence
        if self.cfg.tumbling_window_s and state is not None:
            self.window_state = state
        await self.shard.finished_records(records)
        if self.cfg.tumbling_window_s and len(json.dumps(self.window_state)) > self.cfg.window_state_max_bytes:
            await self._close_window(early=True)

    async def _discard(self, records: list[StreamRecord], condition: str, invokes: int, last: Any) -> None:
        await self.shard.discard(records, condition, invokes, last, self._event(records))
        self.sequence = records[-1].sequence
        await self.shard.finished_records(records)

    async def _close_window(self, *, early: bool) -> None:
        """The final invocation of a window (state, no records); retried until it succeeds."""
        backoff = Backoff(*self.shard.timings.retry_backoff_s)
        payload = self._event([], final=True, early=early)
        while True:
            try:
                result = await self.shard.invoke(payload)
                if not getattr(result, "function_error", None):
                    break
                self.shard.report("PROBLEM: Function call failed")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.shard.report(f"PROBLEM: Function call failed: {e}")
            await asyncio.sleep(backoff.next())
        # a window terminated early continues with a fresh state; a closed one is gone
        self.window_state = {} if early else None
        if not early:
            self.window_start = None
        await self.shard.save()


class ShardProcessor:
    """Reads one shard in order and feeds its lanes; returns once a closed shard is finished."""

    def __init__(self, *, shard: ShardInfo, checkpoint: ShardCheckpoint, source: ShardSource, config: StreamConfig,
                 timings: Timings, invoke: Invoke, matches: Optional[Matches], send_failure: SendFailure,
                 store: CheckpointStore, report: Report):
        self.shard_id = shard.shard_id
        self.ending_sequence = shard.ending_sequence
        self.checkpoint = checkpoint
        self.source, self.config, self.timings = source, config, timings
        self.invoke, self.matches, self.send_failure = invoke, matches, send_failure
        self.store, self.report = store, report
        n = max(1, config.parallelization_factor)
        keep = checkpoint.lanes if checkpoint.lanes_n == n else {}
        self.lanes = [_Lane(self, i, keep.get(i, LaneState())) for i in range(n)]
        self.watermark = checkpoint.sequence
        self._pending: deque[tuple[int, str]] = deque()   # sequence numbers read, in order, not yet below the watermark
        self._done: set[int] = set()
        self._buffered = 0
        self._space = asyncio.Event()
        self._save_lock = asyncio.Lock()
        self.ending = False

    # -- progress
    def _mark(self, records: list[StreamRecord]) -> bool:
        for r in records:
            self._done.add(int(r.sequence))
        moved = False
        while self._pending and self._pending[0][0] in self._done:
            seq, text = self._pending.popleft()
            self._done.discard(seq)
            self.watermark = text
            moved = True
        return moved

    async def finished_records(self, records: list[StreamRecord]) -> None:
        self._mark(records)
        self._buffered -= len(records)
        self._space.set()
        await self.save()

    async def save(self, finished: bool = False) -> None:
        async with self._save_lock:
            cp = ShardCheckpoint(self.checkpoint.start, self.watermark, len(self.lanes),
                                 {lane.index: lane.state() for lane in self.lanes}, finished)
            await asyncio.to_thread(self.store.save, self.config.mapping_uuid, {self.shard_id: cp})
            self.checkpoint = cp

    async def discard(self, records: list[StreamRecord], condition: str, invokes: int, last: Any, payload: bytes) -> None:
        """Send the failure record to the on-failure destination (retried until delivered), if there is one."""
        if not self.config.on_failure:
            log.warning("mapping %s: %d record(s) of %s discarded (%s), no on-failure destination",
                        self.config.mapping_uuid, len(records), self.shard_id, condition)
            return
        rec = failure_record(config=self.config, source=self.source, shard_id=self.shard_id, records=records,
                             condition=condition, invokes=invokes, last=last, payload=payload, now=time.time())
        backoff = Backoff(*self.timings.retry_backoff_s)
        while True:
            try:
                await self.send_failure(self.config.on_failure, rec)
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("mapping %s: on-failure destination %s: %s", self.config.mapping_uuid,
                            self.config.on_failure, e)
                await asyncio.sleep(backoff.next())

    # -- reading
    def _accept(self, rec: StreamRecord) -> None:
        seq = int(rec.sequence)
        self._pending.append((seq, rec.sequence))
        lane = self.lanes[lane_of(rec.partition_key, len(self.lanes))]
        if lane.sequence is not None and seq <= int(lane.sequence):
            self._done.add(seq)          # this lane finished it before a restart
            return
        if self.matches is not None:
            try:
                keep = self.matches(rec.event)
            except Exception:
                log.exception("mapping %s: filter failed on a record; skipping it", self.config.mapping_uuid)
                keep = False
            if not keep:                  # records that do not match are skipped
                self._done.add(seq)
                return
        self._buffered += 1
        lane.put(rec)

    def _position(self, last_read: str | None) -> Position:
        seq = last_read or self.watermark
        return Position("AFTER_SEQUENCE_NUMBER", seq) if seq else self.checkpoint.start

    def _past_end(self, last_read: str | None) -> bool:
        """Read up to a closed shard's EndingSequenceNumber.

        AWS ends a closed shard with a null NextShardIterator; this also ends it for
        servers that keep returning iterators (moto), never before its last record.
        """
        if self.ending_sequence is None:
            return False
        position = last_read or self.watermark or "0"
        return int(position) >= int(self.ending_sequence)

    async def _read_all(self) -> None:
        cap = max(self.config.batch_size * len(self.lanes) * 2, self.config.batch_size + 1)
        limit = min(self.source.max_read, max(self.config.batch_size, 100))
        backoff = Backoff(*self.timings.source_backoff_s)
        last_read: str | None = None
        iterator: str | None = None
        empty_reads = 0
        while True:
            while self._buffered >= cap:
                self._space.clear()
                await self._space.wait()
            try:
                if iterator is None:
                    iterator = await self.source.iterator(self.shard_id, self._position(last_read))
                read = await self.source.read(self.shard_id, iterator, limit)
            except IteratorExpired:
                iterator = None
                continue
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.report(f"PROBLEM: Unable to read from the event source: {e}")
                iterator = None
                await asyncio.sleep(backoff.next())
                continue
            backoff.reset()
            before = self.watermark
            for rec in read.records:
                self._accept(rec)
                last_read = rec.sequence
            if self._mark([]) or self.watermark != before:
                await self.save()
            if read.next_iterator is None or self._past_end(last_read):
                return
            iterator = read.next_iterator
            empty_reads = 0 if read.records else empty_reads + 1
            if empty_reads:
                await asyncio.sleep(self.timings.idle_delay(self.source.poll_interval_s, empty_reads))

    async def run(self) -> None:
        tasks = [asyncio.ensure_future(lane.run()) for lane in self.lanes]
        try:
            await self._read_all()
            self.ending = True
            for lane in self.lanes:
                lane.wake.set()
            await asyncio.gather(*tasks)
            await self.save(finished=True)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
