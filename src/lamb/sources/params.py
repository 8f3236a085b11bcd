"""Which parameters each event source accepts, their defaults and AWS's rules for them. Pure.

Per-source tables of the Developer Guide: services-sqs-parameters.html,
services-kinesis-parameters.html, services-ddb-params.html; the API reference of
CreateEventSourceMapping. Messages recorded from AWS (LocalStack's AWS-validated
snapshots ``test_lambda_api.snapshot.json`` and ``test_lambda_integration_sqs.snapshot.json``,
and errors users quoted from AWS in public issues):

* ``Unrecognized event source.`` (no EventSourceArn);
* ``Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10``;
* ``Unsupported DestinationConfig parameter for given event source mapping type.``;
* ``Unsupported '<member>' parameter for given event source mapping type.`` (pulumi-aws#1418);
* ``Batching window is not supported for FIFO queues`` (aws-lambda-dotnet#1758);
* ``1 validation error detected: Value null at 'startingPosition' ...`` and
  ``Unsupported starting position for arn type: <arn>``;
* ``Maximum batch size must be between 1 and 10 inclusive`` (pulumi-aws-serverless#20,
  from when every SQS mapping had AWS's FIFO limit of 10).

Where no AWS wording was found Lamb's text says so in ``GUESSED``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..limits import Limits
from ..protocol.errors import AwsError, invalid_parameter, validation_error

SQS, SQS_FIFO, KINESIS, DYNAMODB = "sqs", "sqs-fifo", "kinesis", "dynamodb"
RABBITMQ = "rabbitmq"  # an Amazon MQ broker (RabbitMQ engine): services-mq-params.html
STREAMS = (KINESIS, DYNAMODB)

USER_INITIATED = "USER_INITIATED"  # SQS mappings' StateTransitionReason
USER_ACTION = "User action"  # stream mappings'
NO_RECORDS = "No records processed"

# Messages whose exact AWS wording was not found; Lamb's own text.
GUESSED = {
    "record_age": "MaximumRecordAgeInSeconds must be -1 or between {min} and {max}.",
    "unsupported_source": "Unsupported source arn : {arn}",
    "metrics_group": "Unsupported metric {metric} for given event source mapping type.",
    "mq_queues": "Queues is required for Amazon MQ event sources.",
    "mq_basic_auth": "SourceAccessConfigurations must contain exactly one BASIC_AUTH entry for Amazon MQ event sources.",
    "mq_virtual_host": "SourceAccessConfigurations may contain at most one VIRTUAL_HOST entry.",
    "mq_access_type": "Unsupported SourceAccessConfiguration type {type} for Amazon MQ event sources.",
}

# Members every mapping takes (besides the source-specific ones below).
_COMMON = {"FunctionName", "EventSourceArn", "Enabled", "BatchSize", "FilterCriteria", "Tags", "KMSKeyArn",
           "MetricsConfig", "UUID"}
_ACCEPTED = {
    SQS: _COMMON | {"FunctionResponseTypes", "MaximumBatchingWindowInSeconds", "ScalingConfig",
                    "ProvisionedPollerConfig"},
    KINESIS: _COMMON | {"FunctionResponseTypes", "MaximumBatchingWindowInSeconds", "ParallelizationFactor",
                        "StartingPosition", "StartingPositionTimestamp", "DestinationConfig",
                        "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
                        "TumblingWindowInSeconds"},
}
_ACCEPTED[SQS_FIFO] = _ACCEPTED[SQS]
# Event source mapping metrics exist for SQS, Kinesis, DynamoDB and Kafka only (monitoring-metrics-types.html).
_ACCEPTED[RABBITMQ] = (_COMMON - {"MetricsConfig"}) | {"MaximumBatchingWindowInSeconds", "Queues",
                                                      "SourceAccessConfigurations"}
_ACCEPTED[DYNAMODB] = _ACCEPTED[KINESIS]


@dataclass(frozen=True)
class Source:
    """The kind of an event source ARN and what it names."""

    kind: str  # SQS, SQS_FIFO, KINESIS, DYNAMODB, RABBITMQ
    arn: str
    region: str
    account: str
    name: str  # queue name, stream name, table/stream path, or broker id


def source_of(arn: str | None) -> Source:
    """Classify ``EventSourceArn``; InvalidParameterValueException for what Lamb cannot map."""
    if not arn:
        raise invalid_parameter("Unrecognized event source.")
    parts = arn.split(":", 5)
    if len(parts) != 6:
        raise invalid_parameter(GUESSED["unsupported_source"].format(arn=arn))
    _, _, service, region, account, resource = parts
    if service == "sqs":
        return Source(SQS_FIFO if resource.endswith(".fifo") else SQS, arn, region, account, resource)
    if service == "kinesis" and resource.startswith("stream/"):
        return Source(KINESIS, arn, region, account, resource.split("/", 2)[1])
    if service == "dynamodb" and "/stream/" in resource:
        return Source(DYNAMODB, arn, region, account, resource)
    if service == "mq" and resource.startswith("broker:") and len(resource.split(":")) in (2, 3):
        # AWS: broker:<name>:<id>; moto's server: broker:<id>. The id is the last part.
        return Source(RABBITMQ, arn, region, account, resource.rsplit(":", 1)[1])
    raise invalid_parameter(GUESSED["unsupported_source"].format(arn=arn))


def _camel(member: str) -> str:
    return member[:1].lower() + member[1:]


def defaults(kind: str) -> dict:
    """What a new mapping of this kind reports before the request's values are applied."""
    if kind == RABBITMQ:  # the batching window (500 ms) applies without being reported
        return {"BatchSize": 100, "LastProcessingResult": NO_RECORDS, "StateTransitionReason": USER_INITIATED}
    if kind in (SQS, SQS_FIFO):
        return {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": [],
                "StateTransitionReason": USER_INITIATED}
    return {
        "BatchSize": 100, "BisectBatchOnFunctionError": False, "DestinationConfig": {"OnFailure": {}},
        "MaximumBatchingWindowInSeconds": 0, "MaximumRecordAgeInSeconds": -1, "MaximumRetryAttempts": -1,
        "ParallelizationFactor": 1, "TumblingWindowInSeconds": 0, "FunctionResponseTypes": [],
        "LastProcessingResult": NO_RECORDS, "StateTransitionReason": USER_ACTION,
    }


def check(source: Source, params: dict, merged: dict, limits: Limits) -> None:
    """Raise AWS's error when ``params`` (the request) or ``merged`` (the resulting
    configuration) break the rules of ``source``'s kind."""
    kind = source.kind
    given = {k for k, v in params.items() if v is not None}
    dest = params.get("DestinationConfig")
    if dest is not None:
        if kind not in STREAMS or (dest.get("OnSuccess") or {}).get("Destination"):
            raise invalid_parameter("Unsupported DestinationConfig parameter for given event source mapping type.")
    for member in sorted(given - _ACCEPTED[kind] - {"DestinationConfig"}):
        raise invalid_parameter(f"Unsupported '{_camel(member)}' parameter for given event source mapping type.")
    for metric in (params.get("MetricsConfig") or {}).get("Metrics") or []:
        if metric != "EventCount":  # ErrorCount and KafkaMetrics are Kafka's groups
            raise invalid_parameter(GUESSED["metrics_group"].format(metric=metric))
    batch = merged["BatchSize"]
    window = merged.get("MaximumBatchingWindowInSeconds") or 0
    if kind == SQS_FIFO:
        if batch > limits.sqs_fifo_batch_max:
            raise invalid_parameter(f"Maximum batch size must be between 1 and {limits.sqs_fifo_batch_max} inclusive")
        if window:
            raise invalid_parameter("Batching window is not supported for FIFO queues")
    elif kind == SQS and batch > limits.sqs_fifo_batch_max and window == 0:
        raise invalid_parameter(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
        )
    if kind in STREAMS:
        _check_stream(source, merged, limits)
    if kind == RABBITMQ:
        _check_mq(merged)


def _check_mq(merged: dict) -> None:
    """services-mq-params.html: one queue; BASIC_AUTH (a Secrets Manager secret) and,
    for RabbitMQ, an optional VIRTUAL_HOST. BatchSize's 1-10,000 is the model's range."""
    if not merged.get("Queues"):
        raise invalid_parameter(GUESSED["mq_queues"])
    types = [c.get("Type") for c in merged.get("SourceAccessConfigurations") or []]
    for t in types:
        if t not in ("BASIC_AUTH", "VIRTUAL_HOST"):
            raise invalid_parameter(GUESSED["mq_access_type"].format(type=t))
    if types.count("BASIC_AUTH") != 1:
        raise invalid_parameter(GUESSED["mq_basic_auth"])
    if types.count("VIRTUAL_HOST") > 1:
        raise invalid_parameter(GUESSED["mq_virtual_host"])


def _check_stream(source: Source, merged: dict, limits: Limits) -> None:
    position = merged.get("StartingPosition")
    if not position:
        raise AwsError(
            "InvalidParameterValueException",
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
            "Member must not be null.", 400,
        )
    if source.kind == DYNAMODB and position == "AT_TIMESTAMP":
        raise invalid_parameter(f"Unsupported starting position for arn type: {source.arn}")
    if position == "AT_TIMESTAMP" and merged.get("StartingPositionTimestamp") is None:
        raise validation_error(
            ["Value null at 'startingPositionTimestamp' failed to satisfy constraint: Member must not be null"]
        )
    age = merged.get("MaximumRecordAgeInSeconds", -1)
    if age != -1 and not (limits.stream_record_age_min_s <= age <= limits.stream_record_age_max_s):
        raise invalid_parameter(GUESSED["record_age"].format(
            min=limits.stream_record_age_min_s, max=limits.stream_record_age_max_s))


