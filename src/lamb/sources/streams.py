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

This module holds the vocabulary (records, shards, the ``ShardSource`` adapter
protocol, a mapping's ``StreamConfig``, ``Timings``) and the pure rules (outcome of
an invocation, record age, lanes, windows, the failure record).
``shard_processor.py`` runs one shard with them and ``stream_poller.py`` runs a
mapping's shards. The source (Kinesis or DynamoDB Streams) is an adapter with four
calls; the function is reached through an ``invoke(payload) -> result`` callable,
failure records through a ``send_failure(destination, FailureRecord)`` callable:
no Lamb internals here.
"""

from __future__ import annotations

import json
import math
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Protocol

from .. import limits as _limits
from .checkpoints import Position

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
    discovery_interval_s: float = 60.0        # ListShards / DescribeStream; a finished shard also triggers one
    retry_backoff_s: tuple[float, float] = (1.0, 60.0)   # function errors and throttles: doubling, capped
    source_backoff_s: tuple[float, float] = (1.0, 60.0)  # an unreachable or missing stream
    # Lamb's own option: consecutive empty reads double the idle interval up to this (None: AWS's
    # fixed rate). Trades latency of the first record after a quiet spell for idle CPU.
    idle_poll_max_s: float | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> "Timings":
        """From Lamb's ``Settings`` (``LAMB_STREAM_*``)."""
        return cls(settings.stream_poll_interval_s, settings.stream_discovery_interval_s,
                   tuple(settings.stream_retry_backoff), tuple(settings.stream_source_backoff),
                   settings.stream_idle_poll_max_s)

    def idle_delay(self, source_interval: float, empty_reads: int) -> float:
        """The wait after ``empty_reads`` (>= 1) empty reads in a row."""
        base = self.poll_interval_s or source_interval
        if not self.idle_poll_max_s or self.idle_poll_max_s <= base:
            return base
        return min(self.idle_poll_max_s, base * 2 ** min(empty_reads - 1, 30))


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
