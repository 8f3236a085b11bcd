"""lamb.sources.params: source kinds, defaults and AWS's per-source rules."""

from __future__ import annotations

import pytest

from lamb.limits import DEFAULT
from lamb.protocol.errors import AwsError
from lamb.sources import params as p

Q = "arn:aws:sqs:us-east-1:123456789012:q"
FIFO = Q + ".fifo"
KIN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
DDB = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"


def check(arn: str, **params) -> None:
    src = p.source_of(arn)
    merged = {**p.defaults(src.kind), **params}
    p.check(src, {"EventSourceArn": arn, **params}, merged, DEFAULT)


def message(arn: str, **params) -> str:
    with pytest.raises(AwsError) as e:
        check(arn, **params)
    return e.value.message


def test_source_kinds():
    assert p.source_of(Q).kind == p.SQS and p.source_of(FIFO).kind == p.SQS_FIFO
    assert p.source_of(KIN).kind == p.KINESIS and p.source_of(KIN).name == "s"
    assert p.source_of(DDB).kind == p.DYNAMODB
    with pytest.raises(AwsError) as e:
        p.source_of(None)
    assert e.value.message == "Unrecognized event source."
    with pytest.raises(AwsError):
        p.source_of("arn:aws:sns:us-east-1:123456789012:topic")


def test_defaults():
    assert p.defaults(p.SQS) == {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": [],
                                 "StateTransitionReason": "USER_INITIATED"}
    d = p.defaults(p.KINESIS)
    assert d["BatchSize"] == 100 and d["MaximumRetryAttempts"] == -1 and d["LastProcessingResult"] == "No records processed"
    assert d["StateTransitionReason"] == "User action" and d["DestinationConfig"] == {"OnFailure": {}}


def test_sqs_rules():
    check(Q, BatchSize=10)
    check(Q, BatchSize=10000, MaximumBatchingWindowInSeconds=1)
    assert message(Q, BatchSize=11) == \
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    assert message(FIFO, BatchSize=11) == "Maximum batch size must be between 1 and 10 inclusive"
    assert message(FIFO, MaximumBatchingWindowInSeconds=1) == "Batching window is not supported for FIFO queues"
    assert message(Q, MaximumRetryAttempts=1) == \
        "Unsupported 'maximumRetryAttempts' parameter for given event source mapping type."
    assert message(Q, DestinationConfig={"OnFailure": {"Destination": Q}}) == \
        "Unsupported DestinationConfig parameter for given event source mapping type."
    check(Q, ScalingConfig={"MaximumConcurrency": 2}, FunctionResponseTypes=["ReportBatchItemFailures"])


def test_stream_rules():
    check(KIN, StartingPosition="LATEST", ParallelizationFactor=2, BisectBatchOnFunctionError=True)
    assert message(KIN).startswith("1 validation error detected: Value null at 'startingPosition'")
    assert message(DDB, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1.0) == \
        f"Unsupported starting position for arn type: {DDB}"
    assert message(KIN, StartingPosition="LATEST", DestinationConfig={"OnSuccess": {"Destination": Q}}) == \
        "Unsupported DestinationConfig parameter for given event source mapping type."
    assert message(KIN, StartingPosition="LATEST", ScalingConfig={"MaximumConcurrency": 2}) == \
        "Unsupported 'scalingConfig' parameter for given event source mapping type."
    check(KIN, StartingPosition="LATEST", MaximumRecordAgeInSeconds=60)
    with pytest.raises(AwsError):
        check(KIN, StartingPosition="LATEST", MaximumRecordAgeInSeconds=30)


MQ = "arn:aws:mq:us-east-1:123456789012:broker:ExampleMQBroker:b-24cacbb4-b295-49b7-8543-7ce7ce9dfb98"
MQ_MOTO = "arn:aws:mq:us-east-1:123456789012:broker:0a1b2c3d4e5f"
AUTH = [{"Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s"}]


def test_amazon_mq_brokers_are_rabbitmq_sources_named_by_their_id():
    assert (p.source_of(MQ).kind, p.source_of(MQ).name) == (p.RABBITMQ, "b-24cacbb4-b295-49b7-8543-7ce7ce9dfb98")
    assert p.source_of(MQ_MOTO).name == "0a1b2c3d4e5f"
    assert p.defaults(p.RABBITMQ) == {"BatchSize": 100, "LastProcessingResult": "No records processed",
                                      "StateTransitionReason": "USER_INITIATED"}


def test_amazon_mq_rules():
    check(MQ, Queues=["q"], SourceAccessConfigurations=AUTH + [{"Type": "VIRTUAL_HOST", "URI": "/"}],
          BatchSize=10_000, MaximumBatchingWindowInSeconds=0)
    assert message(MQ, SourceAccessConfigurations=AUTH) == p.GUESSED["mq_queues"]
    assert message(MQ, Queues=["q"]) == p.GUESSED["mq_basic_auth"]
    assert message(MQ, Queues=["q"], SourceAccessConfigurations=AUTH * 2) == p.GUESSED["mq_basic_auth"]
    vhosts = [{"Type": "VIRTUAL_HOST", "URI": "/"}] * 2
    assert message(MQ, Queues=["q"], SourceAccessConfigurations=AUTH + vhosts) == p.GUESSED["mq_virtual_host"]
    assert message(MQ, Queues=["q"], SourceAccessConfigurations=AUTH + [{"Type": "SASL_SCRAM_512_AUTH", "URI": "x"}]) \
        == p.GUESSED["mq_access_type"].format(type="SASL_SCRAM_512_AUTH")
    assert message(MQ, Queues=["q"], SourceAccessConfigurations=AUTH, StartingPosition="LATEST") == \
        "Unsupported 'startingPosition' parameter for given event source mapping type."
    assert message(Q, Queues=["q"]) == "Unsupported 'queues' parameter for given event source mapping type."


def test_metrics_config_takes_the_event_count_group_where_aws_has_mapping_metrics():
    check(Q, MetricsConfig={"Metrics": ["EventCount"]})
    check(KIN, StartingPosition="LATEST", MetricsConfig={"Metrics": ["EventCount"]})
    assert message(Q, MetricsConfig={"Metrics": ["KafkaMetrics"]}) == \
        p.GUESSED["metrics_group"].format(metric="KafkaMetrics")
    assert message(MQ, Queues=["q"], SourceAccessConfigurations=AUTH, MetricsConfig={"Metrics": ["EventCount"]}) == \
        "Unsupported 'metricsConfig' parameter for given event source mapping type."
