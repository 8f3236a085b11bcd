"""Response side: per-operation plans that turn a result dict into a REST-JSON response.

The inverse of botocore's ``RestJSONParser``: status code from the ``statusCode``
member, header members to headers, a blob/string payload as the raw body, and
otherwise a JSON body of the members without a location.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

from botocore.model import Shape

from ._timestamps import formatter

_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode

JSON_CONTENT_TYPE = ("Content-Type", "application/json")
EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


def _b64(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


class _StructSer:
    __slots__ = ("members",)

    def __init__(self) -> None:
        # member name -> (json key, converter or None for "as is")
        self.members: dict[str, tuple[str, Callable[[Any], Any] | None]] = {}

    def __call__(self, value: Any) -> dict[str, Any]:
        out = {}
        members = self.members
        for name, item in value.items():
            if item is None:
                continue
            entry = members.get(name)
            if entry is None:
                continue  # unknown keys are ignored
            key, conv = entry
            out[key] = item if conv is None else conv(item)
        return out


class _Serializers:
    def __init__(self) -> None:
        self._structs: dict[str, _StructSer] = {}

    def for_shape(self, shape: Shape) -> Callable[[Any], Any] | None:
        """None means the value goes to JSON as it is."""
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return None
            cached = self._structs.get(shape.name)
            if cached is not None:
                return cached
            ser = _StructSer()
            self._structs[shape.name] = ser
            for name, member in shape.members.items():
                ser.members[name] = (member.serialization.get("name", name), self.for_shape(member))
            return ser
        if t == "list":
            inner = self.for_shape(shape.member)
            if inner is None:
                return None
            return lambda value: [None if v is None else inner(v) for v in value]
        if t == "map":
            inner = self.for_shape(shape.value)
            if inner is None:
                return None
            return lambda value: {k: inner(v) for k, v in value.items() if v is not None}
        if t == "blob":
            return _b64
        if t == "timestamp":
            return formatter(shape.serialization.get("timestampFormat"), "unixtimestamp")
        return None

    def body_struct(self, shape: Shape, names: list[str]) -> _StructSer:
        ser = _StructSer()
        for name in names:
            member = shape.members[name]
            ser.members[name] = (member.serialization.get("name", name), self.for_shape(member))
        return ser


def header_text(shape: Shape) -> Callable[[Any], str]:
    """How a header member's value is written (inverse of botocore's RestJSONParser)."""
    t = shape.type_name
    if t == "string" and shape.serialization.get("jsonvalue"):
        return lambda value: _b64(json.dumps(value, separators=(",", ":")))
    if t == "boolean":
        return lambda value: "true" if value else "false"
    if t == "timestamp":
        fmt = formatter(shape.serialization.get("timestampFormat"), "rfc822")
        return lambda value: str(fmt(value))
    if t == "list":
        item = header_text(shape.member)

        def join(value: Any) -> str:
            parts = []
            for v in value:
                if v is None:
                    continue
                s = item(v)
                if shape.member.type_name == "string" and ('"' in s or "," in s):
                    s = '"' + s.replace('"', '\\"') + '"'
                parts.append(s)
            return ",".join(parts)

        return join
    if t == "blob":
        return _b64
    return lambda value: value if type(value) is str else str(value)


PAYLOAD_NONE, PAYLOAD_RAW, PAYLOAD_STRUCT, PAYLOAD_EVENTSTREAM = range(4)


class OutputPlan:
    __slots__ = (
        "default_status",
        "status_member",
        "headers",
        "header_maps",
        "payload_kind",
        "payload_member",
        "payload_ser",
        "body",
        "content_type_member",
    )

    def __init__(self, default_status: int) -> None:
        self.default_status = default_status
        self.status_member: str | None = None
        self.headers: list[tuple[str, str, Callable[[Any], str]]] = []
        self.header_maps: list[tuple[str, str]] = []
        self.payload_kind = PAYLOAD_NONE
        self.payload_member: str | None = None
        self.payload_ser: Callable[[Any], Any] | None = None
        self.body: _StructSer | None = None
        self.content_type_member = False


def build_output_plan(shape: Shape | None, default_status: int, sers: _Serializers) -> OutputPlan:
    plan = OutputPlan(default_status)
    if shape is None:
        return plan
    payload = shape.serialization.get("payload")
    if payload is None:
        # The json protocol names no payload: an event stream member is the whole body
        # (CloudWatch Logs' StartLiveTail ``responseStream``).
        payload = next((n for n, m in shape.members.items() if m.serialization.get("eventstream")), None)
    body_names = []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "statusCode":
            plan.status_member = name
        elif location == "header":
            plan.headers.append((name, wire, header_text(member)))
            if wire.lower() == "content-type":
                plan.content_type_member = True
        elif location == "headers":
            plan.header_maps.append((name, wire))
        elif location is None and name != payload:
            body_names.append(name)
    if payload is not None:
        member = shape.members[payload]
        plan.payload_member = payload
        if member.serialization.get("eventstream"):
            plan.payload_kind = PAYLOAD_EVENTSTREAM
        elif member.type_name in ("blob", "string"):
            plan.payload_kind = PAYLOAD_RAW
        else:
            plan.payload_kind = PAYLOAD_STRUCT
            plan.payload_ser = sers.for_shape(member)
    elif body_names:
        plan.body = sers.body_struct(shape, body_names)
    return plan


def serialize_result(plan: OutputPlan, result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    status = None
    if plan.status_member is not None:
        status = result.get(plan.status_member)
    if status is None:
        status = plan.default_status
    headers: list[tuple[str, str]] = []
    for name, wire, text in plan.headers:
        value = result.get(name)
        if value is not None:
            headers.append((wire, text(value)))
    for name, prefix in plan.header_maps:
        value = result.get(name)
        if value:
            for k, v in value.items():
                headers.append((prefix + k, str(v)))
    kind = plan.payload_kind
    if kind == PAYLOAD_RAW or kind == PAYLOAD_EVENTSTREAM:
        body = result.get(plan.payload_member)  # type: ignore[arg-type]
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        elif kind == PAYLOAD_EVENTSTREAM and not isinstance(body, (bytes, bytearray, memoryview)):
            pass  # an async iterator of encoded messages: the server sends it as a chunked body
        if not plan.content_type_member or not any(h[0].lower() == "content-type" for h in headers):
            if kind == PAYLOAD_EVENTSTREAM:
                headers.append(("Content-Type", EVENTSTREAM_CONTENT_TYPE))
            elif body:
                headers.append(JSON_CONTENT_TYPE)
        return status, headers, body
    if kind == PAYLOAD_STRUCT:
        value = result.get(plan.payload_member)  # type: ignore[arg-type]
        if value is None:
            return status, headers, b""
        body = _dumps(value if plan.payload_ser is None else plan.payload_ser(value)).encode("utf-8")
    elif plan.body is not None:
        body = _dumps(plan.body(result)).encode("utf-8")
    else:
        return status, headers, b""
    if status == 204 or status == 304:
        return status, headers, b""
    headers.append(JSON_CONTENT_TYPE)
    return status, headers, body
