"""Building a stream poller from an event source mapping (AWS's parameter names).

The mapping manager keeps mappings as AWS's ``EventSourceMappingConfiguration``
fields (``UUID``, ``EventSourceArn``, ``BatchSize``, …). ``poller_for`` turns one
into a ``StreamPoller`` with the right adapter (Kinesis or DynamoDB Streams, by the
ARN's service) and a boto3 client of boto3's standard configuration. Defaults are
AWS's for stream sources
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html):
BatchSize 100, no batching window, MaximumRetryAttempts and
MaximumRecordAgeInSeconds -1 (infinite), ParallelizationFactor 1.
"""

from __future__ import annotations

from concurrent.futures import Executor
from datetime import datetime
from typing import Any, Optional

from .checkpoints import CheckpointStore
from .dynamodb_streams import DynamoDBStreamSource
from .kinesis import KinesisSource
from .stream_clients import arn_region, client
from .stream_poller import StreamPoller
from .streams import Invoke, Matches, Report, SendFailure, ShardSource, StreamConfig, Timings


def is_stream_arn(arn: str) -> bool:
    """A Kinesis stream or a DynamoDB stream (``arn:aws:dynamodb:…:table/<t>/stream/<label>``)."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and (parts[2] == "kinesis" or (parts[2] == "dynamodb" and "/stream/" in parts[5]))


def source_for(arn: str, *, invoke_identity_arn: str, source_client: Any = None,
               executor: Executor | None = None) -> ShardSource:
    """The adapter for a stream ARN; ``invoke_identity_arn`` is the function's execution role."""
    service = arn.split(":")[2]
    if service == "kinesis":
        return KinesisSource(source_client or client("kinesis", arn_region(arn)), arn,
                             invoke_identity_arn=invoke_identity_arn, executor=executor)
    if service == "dynamodb":
        return DynamoDBStreamSource(source_client or client("dynamodbstreams", arn_region(arn)), arn, executor=executor)
    raise ValueError(f"not a stream: {arn}")


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


def config_from_mapping(m: dict) -> StreamConfig:
    """A ``StreamConfig`` from an EventSourceMappingConfiguration dict (AWS's member names)."""
    on_failure = ((m.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return StreamConfig(
        mapping_uuid=m["UUID"],
        function_arn=m["FunctionArn"],
        batch_size=m.get("BatchSize") or 100,
        batching_window_s=m.get("MaximumBatchingWindowInSeconds") or 0,
        starting_position=m.get("StartingPosition") or "TRIM_HORIZON",
        starting_position_timestamp=_epoch(m.get("StartingPositionTimestamp")),
        bisect_on_error=bool(m.get("BisectBatchOnFunctionError")),
        max_retry_attempts=-1 if m.get("MaximumRetryAttempts") is None else m["MaximumRetryAttempts"],
        max_record_age_s=-1 if m.get("MaximumRecordAgeInSeconds") is None else m["MaximumRecordAgeInSeconds"],
        parallelization_factor=m.get("ParallelizationFactor") or 1,
        function_response_types=tuple(m.get("FunctionResponseTypes") or ()),
        tumbling_window_s=m.get("TumblingWindowInSeconds") or 0,
        on_failure=on_failure or None,
    )


def poller_for(mapping: dict, *, invoke: Invoke, checkpoints: CheckpointStore, send_failure: SendFailure,
               invoke_identity_arn: str, matches: Optional[Matches] = None, timings: Timings = Timings(),
               on_result: Optional[Report] = None, source_client: Any = None,
               executor: Executor | None = None) -> StreamPoller:
    """A ready ``StreamPoller`` for one mapping (call ``start()`` on the event loop)."""
    source = source_for(mapping["EventSourceArn"], invoke_identity_arn=invoke_identity_arn,
                        source_client=source_client, executor=executor)
    return StreamPoller(config=config_from_mapping(mapping), source=source, invoke=invoke, checkpoints=checkpoints,
                        send_failure=send_failure, matches=matches, timings=timings, on_result=on_result)
