"""lamb.sources.mq_broker: broker ARN -> AMQP endpoint (DescribeBroker, LAMB_MQ_ENDPOINTS), secrets."""

from __future__ import annotations

import asyncio
import json

import pytest

from lamb.protocol.errors import AwsError
from lamb.sources import mq_broker as b

ARN = "arn:aws:mq:us-east-1:123456789012:broker:Pizza:b-1234"
RABBIT = {"EngineType": "RabbitMQ", "BrokerInstances": [{"Endpoints": ["amqps://b-1234.mq.us-east-1.amazonaws.com:5671"]}]}


def resolve(table: dict, answer=RABBIT, arn: str = ARN) -> b.Endpoint:
    asked = []

    async def describe(broker_id: str) -> dict:
        asked.append(broker_id)
        if isinstance(answer, Exception):
            raise answer
        return answer

    out = asyncio.run(b.resolve(arn, table, describe))
    resolve.asked = asked
    return out


def test_the_described_endpoint_is_used_by_default():
    assert resolve({}) == b.Endpoint("b-1234.mq.us-east-1.amazonaws.com", 5671, True)
    assert resolve.asked == ["b-1234"]


def test_the_table_maps_an_arn_id_or_name_without_describing():
    for key in (ARN, "b-1234", "Pizza"):
        assert resolve({key: "amqp://127.0.0.1:5672"}) == b.Endpoint("127.0.0.1", 5672, False)
        assert resolve.asked == []


def test_the_table_maps_a_described_endpoint_or_every_described_broker():
    assert resolve({"b-1234.mq.us-east-1.amazonaws.com:5671": "amqp://10.0.0.1"}) == b.Endpoint("10.0.0.1", 5672, False)
    assert resolve({"*": "amqps://rabbit.internal"}) == b.Endpoint("rabbit.internal", 5671, True)
    assert resolve.asked == ["b-1234"]


def test_a_broker_that_cannot_be_described_or_is_not_rabbitmq_is_refused():
    class NotFound(Exception):
        response = {"Error": {"Code": "NotFoundException", "Message": "Can't find requested broker [b-1234]."}}

    with pytest.raises(AwsError) as e:
        resolve({}, NotFound())
    assert e.value.code == "InvalidParameterValueException" and "NotFoundException" in e.value.message
    with pytest.raises(AwsError) as e:
        resolve({}, {"EngineType": "ActiveMQ", "BrokerInstances": [{"Endpoints": ["ssl://x:61617"]}]})
    assert "ActiveMQ" in e.value.message


def test_the_endpoint_table_and_urls():
    assert b.parse_endpoints(" b-1=amqp://h:1 , *=amqps://g ") == {"b-1": "amqp://h:1", "*": "amqps://g"}
    with pytest.raises(ValueError):
        b.parse_endpoints("b-1")
    with pytest.raises(ValueError):
        b.endpoint_of("http://h")
    assert b.broker_keys("arn:aws:mq:r:1:broker:0a1b") == ["arn:aws:mq:r:1:broker:0a1b", "0a1b"]


def test_access_and_credentials():
    cfg = {"SourceAccessConfigurations": [{"Type": "VIRTUAL_HOST", "URI": "v"}, {"Type": "BASIC_AUTH", "URI": "s"}]}
    assert b.access(cfg) == ("s", "v") and b.access({"SourceAccessConfigurations": []}) == ("", "/")
    assert b.credentials_of({"SecretString": json.dumps({"username": "u", "password": "p"})}) == b.Credentials("u", "p")
    with pytest.raises(ValueError):
        b.credentials_of({"SecretString": "plain"})
