"""The ``aws:rmq`` event of an Amazon MQ (RabbitMQ) mapping. Pure.

Shape from "Using Lambda with Amazon MQ" (https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html,
"Example Amazon MQ record events"): messages are listed under ``"<queue>::<virtual host>"`` in
``rmqMessagesByQueue``, each with its AMQP 0-9-1 ``basicProperties``, ``redelivered`` and the
body base64-encoded as ``data``. AWS's poller is a Java client, and its JSON shows it: a
header whose value is an AMQP long string is ``{"bytes": [...]}``, numbers and booleans stay
themselves, and ``timestamp`` is written as Gson writes a date (``"Jan 1, 1970, 12:33:41 AM"``;
Lamb writes it in UTC).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from dataclasses import dataclass, field
from typing import Any

EVENT_SOURCE = "aws:rmq"

# (AMQP basic property as AMQP client libraries name it, the member AWS's event names it)
_PROPERTIES = (
    ("content_type", "contentType"), ("content_encoding", "contentEncoding"), ("headers", "headers"),
    ("delivery_mode", "deliveryMode"), ("priority", "priority"), ("correlation_id", "correlationId"),
    ("reply_to", "replyTo"), ("expiration", "expiration"), ("message_id", "messageId"),
    ("timestamp", "timestamp"), ("message_type", "type"), ("user_id", "userId"), ("app_id", "appId"),
    ("cluster_id", "clusterId"),
)


@dataclass(frozen=True)
class Delivery:
    """One message as the broker delivered it."""

    body: bytes
    redelivered: bool = False
    properties: dict[str, Any] = field(default_factory=dict)  # AMQP names, as in ``_PROPERTIES``


def queue_key(queue: str, virtual_host: str) -> str:
    return f"{queue}::{virtual_host}"


def gson_date(value: dt.datetime) -> str:
    """``Jan 1, 1970, 12:33:41 AM``: Gson's default US date format, in UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    hour = value.hour % 12 or 12
    return f"{value:%b} {value.day}, {value.year}, {hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}"


def header_value(value: Any) -> Any:
    """An AMQP field value as AWS's event renders it."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": list(bytes(value))}
    if isinstance(value, str):  # a long string on the wire: the Java client's LongString
        return {"bytes": list(value.encode("utf-8"))}
    if isinstance(value, dict):
        return {str(k): header_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [header_value(v) for v in value]
    if isinstance(value, dt.datetime):
        return gson_date(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value  # int, float, bool, None


def _property(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "headers":
        return header_value(value)
    if name == "timestamp":
        return gson_date(value) if isinstance(value, dt.datetime) else value
    if name == "delivery_mode":
        return int(value)
    return value


def record(delivery: Delivery) -> dict:
    """One entry of a queue's list in ``rmqMessagesByQueue``."""
    props = delivery.properties
    basic = {member: _property(name, props.get(name)) for name, member in _PROPERTIES}
    basic["bodySize"] = len(delivery.body)
    return {
        "basicProperties": basic,
        "redelivered": bool(delivery.redelivered),
        "data": base64.b64encode(delivery.body).decode("ascii"),
    }


def event(source_arn: str, queue: str, virtual_host: str, records: list[dict]) -> dict:
    return {"eventSource": EVENT_SOURCE, "eventSourceArn": source_arn,
            "rmqMessagesByQueue": {queue_key(queue, virtual_host): records}}


def payload(source_arn: str, queue: str, virtual_host: str, records: list[dict]) -> bytes:
    return json.dumps(event(source_arn, queue, virtual_host, records), separators=(",", ":")).encode()


def envelope_bytes(source_arn: str, queue: str, virtual_host: str) -> int:
    """Size of the event with no records: what a batch costs before its first message."""
    return len(payload(source_arn, queue, virtual_host, []))


def record_bytes(rec: dict) -> int:
    """What one record adds to the payload (its JSON and a separating comma)."""
    return len(json.dumps(rec, separators=(",", ":"))) + 1
