"""Stream event sources: shards of a Kinesis or DynamoDB stream → batches → invocations.

The behaviour is AWS Lambda's, as its Developer Guide defines it:

* polling and batching, StartingPosition, ParallelizationFactor, shard splits and
  merges (parents before children):
  https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and with-ddb.html;
* error handling (MaximumRetryAttempts, MaximumRecordAgeInSeconds,
  BisectBatchOnFunctionError; splitting does not consume the retry quota) and the
  on-failure destination record:
  https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
  services-dynamodb-errors.html;
* ReportBatchItemFailures and its checkpoint rule:
  https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html;
* TumblingWindowInSeconds: https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html.

Layout: a ``StreamPoller`` per mapping discovers shards and runs a
``ShardProcessor`` per shard whose parents are finished. A shard processor reads
records in order and deals them to ``ParallelizationFactor`` lanes by a hash of the
partition key (records of one key stay in order in one lane); each ``_Lane`` forms
batches and runs the error-handling algorithm. Progress is saved in the checkpoint
store after every finished batch. The source (Kinesis or DynamoDB Streams) is an
adapter with four calls (``ShardSource``); the function is reached through an
``invoke(payload) -> result`` callable, failure records through a
``send_failure(destination, FailureRecord)`` callable: no Lamb internals here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Optional, Protocol

from .. import limits as _limits
from .checkpoints import CheckpointStore, LaneState, Position, ShardCheckpoint

log = logging.getLogger("lamb.sources.streams")

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
RETRY_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


# ------------------------------------------------------------------ data
@dataclass(frozen=True)
class StreamRecord:
    """One record as read from a shard, already in the shape the function sees (``event``)."""

    sequence: str
    partition_key: str
    arrival: float      # epoch seconds: Kinesis ApproximateArrivalTimestamp, DynamoDB ApproximateCreationDateTime
    event: dict
    size: int           # bytes of ``event`` as JSON


@dataclass(frozen=True)
class ShardInfo:
    shard_id: str
    parents: tuple[str, ...] = ()
    ending_sequence: str | None = None   # EndingSequenceNumber of a closed shard (no record will be added)


@dataclass
class Read:
    records: list[StreamRecord]
    next_iterator: str | None     # None: the shard is closed and was read to its end


class IteratorExpired(Exception):
    """The shard iterator is no longer valid (Kinesis: 5 minutes); open a new one."""


class ShardSource(Protocol):
    """What a stream adapter (``kinesis.py``, ``dynamodb_streams.py``) provides."""

    source_arn: str
    batch_info_key: str          # "KinesisBatchInfo" | "DDBStreamBatchInfo"
    max_read: int                # records one GetRecords call may return
    poll_interval_s: float       # AWS's idle polling interval for this kind of stream

    async def list_shards(self) -> list[ShardInfo]: ...

    async def iterator(self, shard_id: str, position: Position) -> str: ...

    async def read(self, shard_id: str, iterator: str, limit: int) -> Read: ...

    def format_time(self, ts: float) -> str: ...


class InvokeResult(Protocol):
    payload: bytes
    function_error: str | None
    # optional: request_id, executed_version, status_code


Invoke = Callable[[bytes], Awaitable[Any]]
Matches = Callable[[dict], bool]


@dataclass(frozen=True)
class FailureRecord:
    """What the on-failure destination receives (``document``); S3 also gets ``payload``."""

    document: dict
    payload: str          # the whole event of the discarded records, as JSON text
    s3_key: str

    def body(self, with_payload: bool) -> bytes:
        doc = dict(self.document, payload=self.payload) if with_payload else self.document
        return json.dumps(doc, separators=(",", ":")).encode()


SendFailure = Callable[[str, FailureRecord], Awaitable[None]]
Report = Callable[[str], None]


@dataclass(frozen=True)
class StreamConfig:
    """The event source mapping's parameters that shape processing (AWS's names in comments)."""

    mapping_uuid: str                          # UUID
    function_arn: str                          # FunctionArn (what the failure record names)
    batch_size: int = 100                      # BatchSize
    batching_window_s: float = 0.0             # MaximumBatchingWindowInSeconds
    starting_position: str = "TRIM_HORIZON"    # StartingPosition: TRIM_HORIZON | LATEST | AT_TIMESTAMP
    starting_position_timestamp: float | None = None   # StartingPositionTimestamp (epoch seconds)
    bisect_on_error: bool = False              # BisectBatchOnFunctionError
    max_retry_attempts: int = -1               # MaximumRetryAttempts (-1: until the record expires)
    max_record_age_s: int = -1                 # MaximumRecordAgeInSeconds (-1: infinite)
    parallelization_factor: int = 1            # ParallelizationFactor (1-10)
    function_response_types: tuple[str, ...] = ()   # FunctionResponseTypes
    tumbling_window_s: int = 0                 # TumblingWindowInSeconds (0: none)
    on_failure: str | None = None              # DestinationConfig.OnFailure.Destination
    payload_max_bytes: int = _limits.DEFAULT.sync_payload_max_bytes
    window_state_max_bytes: int = _limits.DEFAULT.stream_window_state_max_bytes

    @property
    def report_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.function_response_types


@dataclass(frozen=True)
class Timings:
    """Every wait of a stream poller; AWS's values by default, shortened by tests.

    AWS polls a Kinesis shard once per second and a DynamoDB stream shard four
    times per second when it is idle (the source's ``poll_interval_s``), and keeps
    reading while records remain.
    """

    poll_interval_s: float | None = None      # None: the source's own rate
    discovery_interval_s: float = 10.0        # ListShards / DescribeStream for splits and merges
    retry_backoff_s: tuple[float, float] = (1.0, 60.0)   # function errors and throttles: doubling, capped
    source_backoff_s: tuple[float, float] = (1.0, 60.0)  # an unreachable or missing stream


    @classmethod
    def from_settings(cls, settings: Any) -> "Timings":
        """From Lamb's ``Settings`` (``LAMB_STREAM_*``)."""
        return cls(settings.stream_poll_interval_s, settings.stream_discovery_interval_s,
                   tuple(settings.stream_retry_backoff), tuple(settings.stream_source_backoff))


class Backoff:
    def __init__(self, base: float, cap: float):
        self.base, self.cap, self.n = base, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.base * (2 ** self.n))
        self.n = min(self.n + 1, 30)
        return delay

    def reset(self) -> None:
        self.n = 0


# ------------------------------------------------------------ pure logic
@dataclass(frozen=True)
class Outcome:
    """How one invocation went, by AWS's rules for stream batches."""

    ok: bool
    failed_at: int | None = None        # partial failure: records[failed_at:] are retried
    state: Any = None                   # tumbling window state the function returned
    function_error: bool = False


def classify(result: Any, records: list[StreamRecord], *, report_item_failures: bool, windowed: bool) -> Outcome:
    """Success, partial success or failure of a batch.

    A function error fails the whole batch. With ReportBatchItemFailures, an empty
    or null ``batchItemFailures`` (or an empty/null response) is complete success;
    an ``itemIdentifier`` that is empty, null, missing or not a sequence number of
    the batch fails the whole batch; otherwise the record with the lowest sequence
    number is the checkpoint and everything from it is retried. With a tumbling
    window the response must carry ``state``, or the invocation failed.
    """
    if getattr(result, "function_error", None):
        return Outcome(ok=False, function_error=True)
    if not (report_item_failures or windowed):
        return Outcome(ok=True)
    try:
        doc = json.loads(result.payload) if result.payload else None
    except ValueError:
        doc = None
    state = None
    if windowed:
        if not isinstance(doc, dict) or "state" not in doc:
            return Outcome(ok=False)
        state = doc["state"] if doc["state"] is not None else {}
        if not isinstance(state, dict):
            return Outcome(ok=False)
    if not report_item_failures or not isinstance(doc, dict):
        return Outcome(ok=True, state=state)
    failures = doc.get("batchItemFailures")
    if not failures:
        return Outcome(ok=True, state=state)
    if not isinstance(failures, list):
        return Outcome(ok=False)
    index = {r.sequence: i for i, r in enumerate(records)}
    failed = []
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in index:
            return Outcome(ok=False)
        failed.append(index[ident])
    return Outcome(ok=False, failed_at=min(failed), state=state)


def split_expired(records: list[StreamRecord], max_age_s: int, now: float) -> tuple[list[StreamRecord], list[StreamRecord]]:
    """(expired, fresh): records older than MaximumRecordAgeInSeconds lead a shard's order."""
    if max_age_s < 0:
        return [], records
    n = 0
    while n < len(records) and now - records[n].arrival > max_age_s:
        n += 1
    return records[:n], records[n:]


def lane_of(partition_key: str, lanes: int) -> int:
    """The lane of a partition key: one key always maps to one lane, so its records stay in order."""
    return zlib.crc32(partition_key.encode()) % lanes if lanes > 1 else 0


def window_start(arrival: float, size_s: int) -> float:
    """Tumbling windows are aligned to multiples of their length; a record belongs to the one it arrived in."""
    return math.floor(arrival / size_s) * size_s


def iso_seconds(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def s3_failure_key(mapping_uuid: str, shard_id: str, when: float) -> str:
    """``aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>``."""
    d = datetime.fromtimestamp(when, timezone.utc)
    return f"aws/lambda/{mapping_uuid}/{shard_id}/{d:%Y/%m/%d}/{d:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"


def failure_record(*, config: StreamConfig, source: ShardSource, shard_id: str, records: list[StreamRecord],
                   condition: str, invokes: int, last: Any, payload: bytes, now: float) -> FailureRecord:
    """AWS's invocation record for discarded stream records (SQS/SNS; S3 adds ``payload``)."""
    response: dict = {}
    if last is not None:
        response = {"statusCode": getattr(last, "status_code", 200),
                    "executedVersion": getattr(last, "executed_version", None) or "$LATEST"}
        if last.function_error:
            response["functionError"] = last.function_error
    doc = {
        "requestContext": {
            "requestId": getattr(last, "request_id", None) or str(uuid.uuid4()),
            "functionArn": config.function_arn,
            "condition": condition,
            "approximateInvokeCount": invokes,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": iso_millis(now),
        source.batch_info_key: {
            "shardId": shard_id,
            "startSequenceNumber": records[0].sequence,
            "endSequenceNumber": records[-1].sequence,
            "approximateArrivalOfFirstRecord": source.format_time(records[0].arrival),
            "approximateArrivalOfLastRecord": source.format_time(records[-1].arrival),
            "batchSize": len(records),
            "streamArn": source.source_arn,
        },
    }
    return FailureRecord(doc, payload.decode(), s3_failure_key(config.mapping_uuid, shard_id, now))


# ------------------------------------------------------------ processing
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
        try:
            await asyncio.wait_for(self.wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass

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
            if not read.records:
                await asyncio.sleep(self.timings.poll_interval_s or self.source.poll_interval_s)

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
            try:
                await asyncio.wait_for(self._changed.wait(), self.timings.discovery_interval_s)
            except asyncio.TimeoutError:
                pass

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
