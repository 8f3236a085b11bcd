"""Kinesis and DynamoDB Streams as source kinds of the mapping manager.

``stream_kind`` gives the manager what it needs of a stream source (``SourceKind``):

* ``check`` — AWS's create-time check: the stream must exist
  (``InvalidParameterValueException: Stream not found: <arn>``, as AWS answers
  CreateEventSourceMapping for a missing Kinesis or DynamoDB stream);
* ``poller`` — a ``StreamPoller`` (``stream_factory.poller_for``) for the mapping, its
  FilterCriteria compiled with ``filtering`` over AWS's record views (Kinesis ``data``
  decoded; DynamoDB records as they are,
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html), invoking
  the mapping's ``FunctionArn`` through the ``invoke`` callable it is given;
* ``forget`` — a deleted mapping's checkpoints are removed.

Nothing here knows Lamb's app object: the invoke door, the function's role, the
failure sender, the checkpoint store and the timings are handed in.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any, Awaitable, Callable

from ..protocol.errors import invalid_parameter
from ..services.role_clients import refused
from .checkpoints import CheckpointStore
from .esm_metrics import counting_invoke, counting_matches, counting_send_failure
from .kinesis_consumers import consumer_exists, is_consumer, stream_of
from .filtering import compile_criteria, dynamodb_view, kinesis_view
from .stream_clients import arn_region, call, client
from .stream_factory import poller_for
from .streams import SendFailure, Timings

# invoke(function ARN as the mapping names it (qualifier included), payload) -> InvocationResult
SourceInvoke = Callable[[str, bytes], Awaitable[Any]]
ClientFor = Callable[[str], Any]  # stream ARN -> boto3 client (kinesis / dynamodbstreams)


def role_refused(stream_arn: str) -> str:
    """AWS's CreateEventSourceMapping text when the function's role may not read the stream."""
    actions = ("GetRecords, GetShardIterator, DescribeStream, ListShards, and ListStreams" if stream_arn.split(":")[2] ==
               "kinesis" else "GetRecords, GetShardIterator, DescribeStream, and ListStreams")
    return f"Cannot access stream {stream_arn}. Please ensure the role can perform the {actions} Actions on your stream in IAM."


def default_client(arn: str) -> Any:
    """boto3's standard configuration (``AWS_ENDPOINT_URL_KINESIS`` / ``…_DYNAMODB_STREAMS``)."""
    service = "kinesis" if arn.split(":")[2] == "kinesis" else "dynamodbstreams"
    return client(service, arn_region(arn))


async def stream_exists(source: Any, arn: str, executor: Executor | None) -> bool:
    """DescribeStreamSummary (Kinesis) / DescribeStream (DynamoDB Streams) of ``arn``."""
    try:
        if arn.split(":")[2] == "kinesis":
            await call(executor, source.describe_stream_summary, StreamARN=arn)
        else:
            await call(executor, source.describe_stream, StreamArn=arn, Limit=1)
    except source.exceptions.ResourceNotFoundException:
        return False
    return True


def matcher(cfg: dict, max_filters: int) -> Callable[[dict], bool] | None:
    """The mapping's FilterCriteria as a ``matches(event record)`` callable (None: no filters)."""
    criteria = compile_criteria(cfg.get("FilterCriteria"), max_filters)
    if not criteria:
        return None
    view = kinesis_view if cfg["EventSourceArn"].split(":")[2] == "kinesis" else dynamodb_view
    return lambda record: criteria.matches(view(record))


def stream_kind(invoke: SourceInvoke, *, checkpoints: CheckpointStore, send_failure: SendFailure,
                role_of: Callable[[dict], str], timings: Timings, max_filters: int,
                client_for: ClientFor = default_client, executor: Executor | None = None,
                count_for: Callable[[dict], Any] | None = None, poller_client: Callable[[dict], Any] | None = None):
    """The ``SourceKind`` of Kinesis and DynamoDB stream mappings. ``poller_client(cfg)`` is the
    client a mapping's poller reads with (its function's role); ``client_for(arn)`` otherwise."""
    from .manager import SourceKind

    async def check(arn: str, function_timeout_s: int, cfg: dict | None = None) -> None:
        """The stream (and consumer) exist, as the function's role sees them where Lamb acts as it."""
        source = client_for(arn)
        if cfg is not None and poller_client is not None:
            source = poller_client({**cfg, "EventSourceArn": stream_of(arn)})
        try:
            if is_consumer(arn) and not await consumer_exists(source, arn, executor):
                raise invalid_parameter(f"Stream consumer not found: {arn}")  # Lamb's text (kinesis_consumers)
            if not await stream_exists(source, stream_of(arn), executor):
                raise invalid_parameter(f"Stream not found: {stream_of(arn)}")
        except Exception as e:
            if getattr(source, "as_role", False) and refused(e):
                raise invalid_parameter(role_refused(stream_of(arn)))
            raise

    def poller(cfg: dict, report: Callable[[str], None]):
        function = cfg["FunctionArn"]
        cfg = {**cfg, "EventSourceArn": stream_of(cfg["EventSourceArn"])}  # a consumer reads its stream

        async def invoke_function(payload: bytes) -> Any:
            return await invoke(function, payload)

        matches, send, run = matcher(cfg, max_filters), send_failure, invoke_function
        count = count_for(cfg) if count_for else None
        if count is not None:  # MetricsConfig EventCount (esm_metrics)
            matches, run = counting_matches(count, matches), counting_invoke(count, run)
            send = counting_send_failure(count, send)
        return poller_for(cfg, invoke=run, checkpoints=checkpoints, send_failure=send,
                          invoke_identity_arn=role_of(cfg), matches=matches, timings=timings,
                          on_result=report, source_client=poller_client(cfg) if poller_client else client_for(cfg["EventSourceArn"]),
                          executor=executor)

    return SourceKind(check, poller, forget=checkpoints.delete)
