"""Where an Amazon MQ broker ARN leads, and with which credentials.

On AWS, Lambda reads the broker's endpoints with ``mq:DescribeBroker`` and the user name and
password from the ``BASIC_AUTH`` secret with ``secretsmanager:GetSecretValue``
(https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html, "Execution role permissions").
Lamb does the same through boto3's standard configuration (``AWS_ENDPOINT_URL_MQ``,
``AWS_ENDPOINT_URL_SECRETS_MANAGER``, the credentials chain).

A self-hosted Lamb usually reads a RabbitMQ that no DescribeBroker knows, or one whose
described endpoint is not the address Lamb can reach (moto's server describes every RabbitMQ
broker as ``amqps://mockmq:5671`` and cannot be told otherwise). ``LAMB_MQ_ENDPOINTS`` maps
them: comma-separated ``KEY=AMQP URL`` pairs, where KEY is

* the broker's ARN, id (``b-…``, the ARN's last part) or name (the part before the id):
  that URL is used and the broker is not described;
* the ``host:port`` of an endpoint DescribeBroker answered: the described broker is reached there;
* ``*``: every described broker is reached there.

The URL's scheme says TLS (``amqps``) or not (``amqp``); its path, if any, is ignored (the
virtual host is the mapping's ``VIRTUAL_HOST``, ``/`` by default).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from ..protocol.errors import invalid_parameter

# Lamb's own texts: AWS's answers for these were not found.
BROKER_NOT_FOUND = "Error occurred while DescribeBroker. Amazon MQ Error Code: {code}. Amazon MQ Error Message: {message}"
NOT_RABBITMQ = "Unsupported engine type {engine} of broker {arn}: this Lamb polls RabbitMQ brokers only."
NO_AMQP_ENDPOINT = "Broker {arn} has no AMQP endpoint."


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def parse_endpoints(text: str) -> dict[str, str]:
    """``LAMB_MQ_ENDPOINTS`` as a table; ValueError for a pair without ``=``."""
    table: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, url = pair.partition("=")
        if not sep or not key.strip() or not url.strip():
            raise ValueError(f"LAMB_MQ_ENDPOINTS: {pair!r} is not KEY=URL")
        table[key.strip()] = url.strip()
    return table


def endpoint_of(url: str) -> Endpoint:
    parts = urlsplit(url)
    tls = parts.scheme in ("amqps", "amqp+ssl")
    if parts.scheme not in ("amqp", "amqps", "amqp+ssl") or not parts.hostname:
        raise ValueError(f"not an AMQP URL: {url}")
    return Endpoint(parts.hostname, parts.port or (5671 if tls else 5672), tls)


def broker_keys(arn: str) -> list[str]:
    """The ARN, the broker id and (AWS's ARNs) its name: ``arn:aws:mq:r:a:broker:NAME:ID``."""
    resource = arn.split(":", 5)[5].split(":")[1:]
    return [arn, *reversed(resource)]


def _described_amqp(description: dict) -> list[str]:
    return [e for inst in description.get("BrokerInstances") or [] for e in inst.get("Endpoints") or []
            if urlsplit(e).scheme in ("amqp", "amqps")]


# describe(broker id) -> DescribeBroker's answer (raises botocore's ClientError)
Describe = Callable[[str], Awaitable[dict]]


async def resolve(arn: str, table: dict[str, str], describe: Describe) -> Endpoint:
    """The AMQP endpoint of broker ``arn``; AWS-shaped errors (InvalidParameterValueException)
    when it cannot be described or is not a RabbitMQ broker."""
    keys = broker_keys(arn)
    for key in keys:
        if key in table:
            return endpoint_of(table[key])
    try:
        description = await describe(keys[1])
    except Exception as e:
        err = getattr(e, "response", {}).get("Error", {}) if hasattr(e, "response") else {}
        raise invalid_parameter(BROKER_NOT_FOUND.format(code=err.get("Code", type(e).__name__),
                                                        message=err.get("Message", str(e))))
    engine = str(description.get("EngineType", "")).upper()
    if engine != "RABBITMQ":
        raise invalid_parameter(NOT_RABBITMQ.format(engine=description.get("EngineType"), arn=arn))
    described = _described_amqp(description)
    if not described:
        raise invalid_parameter(NO_AMQP_ENDPOINT.format(arn=arn))
    for url in described:
        netloc = urlsplit(url).netloc
        if netloc in table:
            return endpoint_of(table[netloc])
    if "*" in table:
        return endpoint_of(table["*"])
    return endpoint_of(described[0])


def access(cfg: dict) -> tuple[str, str]:
    """(BASIC_AUTH secret ARN, virtual host) of a mapping's ``SourceAccessConfigurations``."""
    secret, vhost = "", "/"
    for c in cfg.get("SourceAccessConfigurations") or []:
        if c.get("Type") == "BASIC_AUTH":
            secret = c.get("URI", "")
        elif c.get("Type") == "VIRTUAL_HOST":
            vhost = c.get("URI", "/")
    return secret, vhost


def credentials_of(secret_value: dict[str, Any]) -> Credentials:
    """``GetSecretValue``'s answer: a JSON ``SecretString`` with ``username`` and ``password``
    (the secret Amazon MQ's console makes). ValueError otherwise."""
    try:
        doc = json.loads(secret_value.get("SecretString") or "")
        return Credentials(str(doc["username"]), str(doc["password"]))
    except (ValueError, KeyError, TypeError):
        raise ValueError("the BASIC_AUTH secret is not a JSON document with username and password")
