"""The ``application/vnd.amazon.eventstream`` encoding, writer side.

InvokeWithResponseStream answers with a stream of these messages
(https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html).
Each message is (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html,
the format botocore's ``botocore.eventstream`` parses):

    prelude: total length (uint32) | headers length (uint32) | CRC32 of those 8 bytes
    headers: name length (uint8) | name | value type (uint8, 7 = string) | value length (uint16) | value
    payload
    CRC32 of everything before it (uint32)

All integers big-endian. Lamb only writes string-valued headers (``:event-type``,
``:message-type``, ``:content-type``), which is all the Lambda events use.
"""

from __future__ import annotations

import json
import struct
import zlib

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
OCTET_STREAM = "application/octet-stream"
JSON = "application/json"


def _header(name: str, value: str) -> bytes:
    n = name.encode("utf-8")
    v = value.encode("utf-8")
    return struct.pack(">B", len(n)) + n + struct.pack(">BH", _STRING, len(v)) + v


def message(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    """One event-stream message with string ``headers`` and ``payload``."""
    head = b"".join(_header(k, v) for k, v in headers)
    total = _PRELUDE.size + _CRC.size + len(head) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(head))
    start = prelude + _CRC.pack(zlib.crc32(prelude)) + head
    crc = zlib.crc32(payload, zlib.crc32(start))
    return start + payload + _CRC.pack(crc)


def event(event_type: str, payload: bytes, content_type: str) -> bytes:
    """A modelled event of an event stream (``:message-type`` event)."""
    return message([(":event-type", event_type), (":content-type", content_type), (":message-type", "event")], payload)


def payload_chunk(data: bytes) -> bytes:
    """InvokeWithResponseStream's ``PayloadChunk`` (its ``Payload`` member is the event payload)."""
    return event("PayloadChunk", bytes(data), OCTET_STREAM)


def invoke_complete(error_code: str | None = None, error_details: str | None = None,
                    log_result: str | None = None) -> bytes:
    """InvokeWithResponseStream's ``InvokeComplete``: its members as a JSON payload."""
    body = {k: v for k, v in (("ErrorCode", error_code), ("ErrorDetails", error_details), ("LogResult", log_result))
            if v is not None}
    return event("InvokeComplete", json.dumps(body, separators=(",", ":")).encode(), JSON)


def json_event(event_type: str, members: dict) -> bytes:
    """A modelled event whose members travel as a JSON payload (the json protocol's events,
    e.g. CloudWatch Logs' ``sessionStart`` / ``sessionUpdate``)."""
    return event(event_type, json.dumps(members, separators=(",", ":")).encode(), JSON)


def exception(exception_type: str, members: dict) -> bytes:
    """A modelled exception ending an event stream (``:message-type`` exception)."""
    return message([(":exception-type", exception_type), (":content-type", JSON), (":message-type", "exception")],
                   json.dumps(members, separators=(",", ":")).encode())
