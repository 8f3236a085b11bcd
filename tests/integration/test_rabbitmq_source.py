"""Amazon MQ for RabbitMQ event source mappings end to end (issue 13), against a real broker.

Debian's ``rabbitmq-server`` runs as a separate process (``rabbitmq_support.RabbitMQServer``,
stopped after the module). moto's server plays Amazon MQ (CreateBroker / DescribeBroker) and
Secrets Manager (the BASIC_AUTH secret); Lamb reaches both through boto3's standard
``AWS_ENDPOINT_URL_MQ`` / ``AWS_ENDPOINT_URL_SECRETS_MANAGER``. moto describes every RabbitMQ
broker as ``amqps://mockmq:5671``, so ``LAMB_MQ_ENDPOINTS`` maps that endpoint to the test's
broker: the documented way a self-hosted Lamb is told where a broker really is.
"""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from .async_support import moto, serving, sink  # noqa: F401  (fixtures)
from .conftest import DUMMY_CREDS, create, unique, wait_for
from .esm_support import FAST_ESM_ENV, batch_fn, wait_state
from .rabbitmq_support import RabbitMQServer, declare, depth, publish

REGION = "us-east-1"


@pytest.fixture(scope="module")
def rabbit(tmp_path_factory):
    server = RabbitMQServer(tmp_path_factory.mktemp("rabbitmq"))
    try:
        server.add_vhost("lamb-vh")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def mq_server(moto, rabbit, tmp_path_factory):
    env = {
        "AWS_ENDPOINT_URL_MQ": moto.url,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        "LAMB_MQ_ENDPOINTS": f"mockmq:5671={rabbit.url}",
        **FAST_ESM_ENV,
    }
    yield from serving(env, tmp_path_factory, "mq-server")


@pytest.fixture(scope="module")
def mlam(mq_server):
    return mq_server.client()


@pytest.fixture(scope="module")
def broker(moto):
    """A RabbitMQ broker in moto's Amazon MQ: its ARN."""
    return moto.client("mq").create_broker(
        BrokerName="lamb-broker", EngineType="RABBITMQ", EngineVersion="3.10.20", HostInstanceType="mq.t3.micro",
        DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=True, AutoMinorVersionUpgrade=True,
        Users=[{"Username": "lamb", "Password": "lamb-secret-pw"}],
    )["BrokerArn"]


def secret(moto, rabbit, password: str | None = None) -> str:
    doc = {"username": rabbit.user, "password": password or rabbit.password}
    return moto.client("secretsmanager").create_secret(Name=unique("mq-secret"), SecretString=json.dumps(doc))["ARN"]


def messages(sink, tag: str, key: str) -> list[dict]:
    return [m for post in sink.of("tag", tag) for m in post["event"]["rmqMessagesByQueue"].get(key, [])]


def data(msg: dict) -> str:
    return base64.b64decode(msg["data"]).decode()


def access(secret_arn: str, vhost: str | None = None) -> list[dict]:
    out = [{"Type": "BASIC_AUTH", "URI": secret_arn}]
    if vhost:
        out.append({"Type": "VIRTUAL_HOST", "URI": vhost})
    return out


def drained(rabbit, queue: str, vhost: str = "/") -> bool:
    return depth(rabbit, queue, vhost) == (0, 0)


def test_messages_reach_the_function_in_the_aws_rmq_shape_and_are_acknowledged(mlam, moto, rabbit, broker, sink):
    tag = unique("rmq")
    declare(rabbit, tag)
    create(mlam, tag, batch_fn(sink, tag))
    cfg = mlam.create_event_source_mapping(FunctionName=tag, EventSourceArn=broker, Queues=[tag],
                                           SourceAccessConfigurations=access(secret(moto, rabbit)))
    assert cfg["State"] == "Creating" and cfg["BatchSize"] == 100 and cfg["Queues"] == [tag]
    assert cfg["StateTransitionReason"] == "USER_INITIATED" and cfg["LastProcessingResult"] == "No records processed"
    assert "MaximumBatchingWindowInSeconds" not in cfg
    wait_state(mlam, cfg["UUID"], "Enabled")
    publish(rabbit, tag, [json.dumps({"n": 1}).encode()], content_type="application/json",
            headers={"header1": "value1", "numberInHeader": 10}, priority=3, correlation_id="c-1")
    publish(rabbit, tag, [b"plain text"])
    wait_for(lambda: len(messages(sink, tag, f"{tag}::/")) >= 2, 30, 0.1, "2 messages")
    event = sink.of("tag", tag)[0]["event"]
    assert event["eventSource"] == "aws:rmq" and event["eventSourceArn"] == broker
    first, second = messages(sink, tag, f"{tag}::/")[:2]
    assert data(first) == '{"n": 1}' and data(second) == "plain text"
    assert first["redelivered"] is False
    props = first["basicProperties"]
    assert props["contentType"] == "application/json" and props["priority"] == 3 and props["correlationId"] == "c-1"
    assert props["headers"] == {"header1": {"bytes": list(b"value1")}, "numberInHeader": 10}
    assert props["bodySize"] == len('{"n": 1}') and props["replyTo"] is None
    wait_for(lambda: drained(rabbit, tag), 20, 0.1, "the queue to be drained (acknowledged)")
    wait_for(lambda: mlam.get_event_source_mapping(UUID=cfg["UUID"])["LastProcessingResult"] == "OK", 10, 0.1, "OK")


def test_a_failed_batch_is_requeued_and_retried_whole_until_it_succeeds(mlam, moto, rabbit, broker, sink):
    tag = unique("rmqfail")
    declare(rabbit, tag)
    # fails while the broker delivers the batch for the first time
    create(mlam, tag, batch_fn(sink, tag, "if not all(m['redelivered'] for ms in event['rmqMessagesByQueue'].values() "
                                         "for m in ms):\n    raise Exception('boom')"))
    publish(rabbit, tag, [b"a", b"b", b"c"])
    uuid = mlam.create_event_source_mapping(FunctionName=tag, EventSourceArn=broker, Queues=[tag], BatchSize=3,
                                            SourceAccessConfigurations=access(secret(moto, rabbit)))["UUID"]
    wait_for(lambda: any(m["redelivered"] for m in messages(sink, tag, f"{tag}::/")), 30, 0.1, "a redelivery")
    wait_for(lambda: drained(rabbit, tag), 20, 0.1, "the queue to be drained")
    posts = [p["event"]["rmqMessagesByQueue"][f"{tag}::/"] for p in sink.of("tag", tag)]
    assert [data(m) for m in posts[0]] == ["a", "b", "c"] and not any(m["redelivered"] for m in posts[0])
    assert [data(m) for m in posts[-1]] == ["a", "b", "c"] and all(m["redelivered"] for m in posts[-1])
    wait_for(lambda: mlam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK", 10, 0.1, "OK")


def test_virtual_host_batch_size_and_window_make_one_batch(mlam, moto, rabbit, broker, sink):
    tag = unique("rmqvh")
    declare(rabbit, tag, vhost="lamb-vh")
    publish(rabbit, tag, [f"m{i}".encode() for i in range(7)], vhost="lamb-vh")
    create(mlam, tag, batch_fn(sink, tag))
    mlam.create_event_source_mapping(FunctionName=tag, EventSourceArn=broker, Queues=[tag], BatchSize=5,
                                     MaximumBatchingWindowInSeconds=1,
                                     SourceAccessConfigurations=access(secret(moto, rabbit), "lamb-vh"))
    wait_for(lambda: len(messages(sink, tag, f"{tag}::lamb-vh")) >= 7, 30, 0.1, "7 messages")
    posts = [p["event"]["rmqMessagesByQueue"][f"{tag}::lamb-vh"] for p in sink.of("tag", tag)]
    assert [data(m) for m in posts[0]] == ["m0", "m1", "m2", "m3", "m4"]
    assert [data(m) for post in posts for m in post] == [f"m{i}" for i in range(7)]
    wait_for(lambda: drained(rabbit, tag, "lamb-vh"), 20, 0.1, "the queue to be drained")


def test_messages_that_match_no_filter_are_acknowledged_without_an_invocation(mlam, moto, rabbit, broker, sink):
    tag = unique("rmqfilter")
    declare(rabbit, tag)
    create(mlam, tag, batch_fn(sink, tag))
    uuid = mlam.create_event_source_mapping(
        FunctionName=tag, EventSourceArn=broker, Queues=[tag], BatchSize=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]},
        SourceAccessConfigurations=access(secret(moto, rabbit)))["UUID"]
    wait_state(mlam, uuid, "Enabled")
    publish(rabbit, tag, [json.dumps({"kind": k, "i": i}).encode() for i, k in enumerate(["drop", "keep", "drop", "keep"])])
    publish(rabbit, tag, [b"not json"])
    wait_for(lambda: drained(rabbit, tag), 30, 0.1, "the queue to be drained")
    got = [json.loads(data(m)) for m in messages(sink, tag, f"{tag}::/")]
    assert got == [{"kind": "keep", "i": 1}, {"kind": "keep", "i": 3}]


def test_a_quorum_queues_delivery_limit_dead_letters_a_poison_message(mlam, moto, rabbit, broker, sink):
    tag = unique("rmqdlq")
    declare(rabbit, tag + "-dlq")
    declare(rabbit, tag, arguments={"x-queue-type": "quorum", "x-delivery-limit": 2, "x-dead-letter-exchange": "",
                                    "x-dead-letter-routing-key": tag + "-dlq"})
    create(mlam, tag, batch_fn(sink, tag, "raise Exception('poison')"))
    uuid = mlam.create_event_source_mapping(FunctionName=tag, EventSourceArn=broker, Queues=[tag], BatchSize=1,
                                            SourceAccessConfigurations=access(secret(moto, rabbit)))["UUID"]
    publish(rabbit, tag, [b"poison"])
    wait_for(lambda: depth(rabbit, tag + "-dlq")[0] == 1, 60, 0.2, "the message in the dead-letter queue")
    assert len(messages(sink, tag, f"{tag}::/")) >= 2
    assert mlam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "PROBLEM: Function call failed"


def test_credentials_the_broker_refuses_are_reported(mlam, moto, rabbit, broker, sink):
    tag = unique("rmqauth")
    declare(rabbit, tag)
    create(mlam, tag, batch_fn(sink, tag))
    uuid = mlam.create_event_source_mapping(FunctionName=tag, EventSourceArn=broker, Queues=[tag],
                                            SourceAccessConfigurations=access(secret(moto, rabbit, "wrong")))["UUID"]
    wait_for(lambda: "EVENT_SOURCE_AUTHN_ERROR" in mlam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"],
             30, 0.1, "an authentication problem")
    mlam.delete_event_source_mapping(UUID=uuid)


def test_a_missing_queue_is_reported_and_picked_up_once_it_exists(mlam, moto, rabbit, broker, sink):
    tag = unique("rmqlate")
    create(mlam, tag, batch_fn(sink, tag))
    uuid = mlam.create_event_source_mapping(FunctionName=tag, EventSourceArn=broker, Queues=[tag],
                                            SourceAccessConfigurations=access(secret(moto, rabbit)))["UUID"]
    wait_for(lambda: "ESM_CONFIG_NOT_VALID" in mlam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"],
             30, 0.1, "a missing-queue problem")
    declare(rabbit, tag)
    publish(rabbit, tag, [b"late"])
    wait_for(lambda: len(messages(sink, tag, f"{tag}::/")) == 1, 30, 0.1, "the message")


def test_create_time_rules(mlam, moto, rabbit, broker, sink):
    tag = unique("rmqrules")
    create(mlam, tag, batch_fn(sink, tag))
    sec = secret(moto, rabbit)

    def refused(**kw) -> str:
        with pytest.raises(ClientError) as e:
            mlam.create_event_source_mapping(FunctionName=tag, **kw)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException", e.value.response
        return e.value.response["Error"]["Message"]

    assert "BASIC_AUTH" in refused(EventSourceArn=broker, Queues=["q"],
                                   SourceAccessConfigurations=[{"Type": "VIRTUAL_HOST", "URI": "/"}])
    assert "Queues" in refused(EventSourceArn=broker, SourceAccessConfigurations=access(sec))
    assert refused(EventSourceArn=broker, Queues=["q"], StartingPosition="LATEST",
                   SourceAccessConfigurations=access(sec)) == \
        "Unsupported 'startingPosition' parameter for given event source mapping type."
    missing = broker.rsplit(":", 1)[0] + ":b-00000000-0000-0000-0000-000000000000"
    assert "DescribeBroker" in refused(EventSourceArn=missing, Queues=["q"], SourceAccessConfigurations=access(sec))
    with pytest.raises(ClientError) as e:  # the model's range: 1-10,000
        mlam.create_event_source_mapping(FunctionName=tag, EventSourceArn=broker, Queues=["q"], BatchSize=10001,
                                         SourceAccessConfigurations=access(sec))
    assert e.value.response["Error"]["Code"] == "ValidationException"
