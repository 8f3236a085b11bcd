"""Request side: per-operation plans that read params out of a REST-JSON request and validate them.

Everything here is derived from botocore's shapes once, at construction. A plan is
a handful of flat lists of ``(member name, where, converter)``; parsing a request
walks those lists and never touches the model.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Callable
from urllib.parse import parse_qsl

from botocore.model import Shape

from ._timestamps import parse_timestamp
from ._validate import Validators
from .errors import AwsError, invalid_request_content, serialization_error, validation_error

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


_QUERIES: dict[str, tuple[tuple[str, str], ...]] = {}
_QUERIES_MAX = 4096


def split_query(query: str) -> tuple[tuple[str, str], ...]:
    """parse_qsl, memoized: invoke requests repeat the same few query strings."""
    pairs = _QUERIES.get(query)
    if pairs is None:
        pairs = tuple(parse_qsl(query, keep_blank_values=True))
        if len(_QUERIES) >= _QUERIES_MAX:
            _QUERIES.clear()
        _QUERIES[query] = pairs
    return pairs


class _Mismatch(Exception):
    """A JSON value of the wrong type for its shape (turned into InvalidRequestContentException)."""


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _mismatch(value: Any, path: str, expected: str) -> _Mismatch:
    where = f" for '{path}'" if path else ""
    return _Mismatch(f"Unexpected {_json_kind(value)} value{where}, expected {expected}")


# ---------------------------------------------------------------------------
# JSON body converters: (value, path) -> python value, raising _Mismatch


def _conv_string(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    raise _mismatch(value, path, "a string")


def _make_conv_int(bounds: tuple[int, int], what: str) -> Callable[[Any, str], int]:
    lo, hi = bounds

    def conv(value: Any, path: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            result = value
        elif isinstance(value, float) and value.is_integer():
            result = int(value)
        else:
            raise _mismatch(value, path, what)
        if not lo <= result <= hi:
            raise _Mismatch(f"Numeric value ({value}) out of range of {what}" + (f" for '{path}'" if path else ""))
        return result

    return conv


_conv_integer = _make_conv_int(_INT32, "an integer")
_conv_long = _make_conv_int(_INT64, "a long")


def _conv_float(value: Any, path: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _mismatch(value, path, "a number")


def _conv_boolean(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _mismatch(value, path, "a boolean")


def _conv_blob(value: Any, path: str) -> bytes:
    if not isinstance(value, str):
        raise _mismatch(value, path, "a base64-encoded string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        where = f" for '{path}'" if path else ""
        raise _Mismatch(f"Invalid base64 value{where}") from None


def _conv_timestamp(value: Any, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _mismatch(value, path, "a timestamp")
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError):
        where = f" for '{path}'" if path else ""
        raise _Mismatch(f"Invalid timestamp value{where}") from None


def _conv_document(value: Any, path: str) -> Any:
    return value


class _StructConv:
    __slots__ = ("members",)

    def __init__(self) -> None:
        # json key -> (member name, converter)
        self.members: dict[str, tuple[str, Callable[[Any, str], Any]]] = {}

    def __call__(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _mismatch(value, path, "an object")
        out = {}
        members = self.members
        for key, item in value.items():
            entry = members.get(key)
            if entry is None or item is None:
                continue  # unknown members are ignored, null is absent
            name, conv = entry
            out[name] = conv(item, f"{path}.{key}" if path else key)
        return out


class _ListConv:
    __slots__ = ("member",)

    def __init__(self, member: Callable[[Any, str], Any]) -> None:
        self.member = member

    def __call__(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise _mismatch(value, path, "an array")
        conv = self.member
        return [None if item is None else conv(item, f"{path}[{i}]") for i, item in enumerate(value)]


class _MapConv:
    __slots__ = ("value",)

    def __init__(self, value: Callable[[Any, str], Any]) -> None:
        self.value = value

    def __call__(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _mismatch(value, path, "an object")
        conv = self.value
        return {k: (None if v is None else conv(v, f"{path}.{k}" if path else k)) for k, v in value.items()}


class BodyConverters:
    """Builds (and memoizes, recursion-safe) JSON body converters for shapes."""

    def __init__(self) -> None:
        self._structs: dict[str, _StructConv] = {}

    def for_shape(self, shape: Shape) -> Callable[[Any, str], Any]:
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return _conv_document
            cached = self._structs.get(shape.name)
            if cached is not None:
                return cached
            conv = _StructConv()
            self._structs[shape.name] = conv
            for name, member in shape.members.items():
                key = member.serialization.get("name", name)
                conv.members[key] = (name, self.for_shape(member))
            return conv
        if t == "list":
            return _ListConv(self.for_shape(shape.member))
        if t == "map":
            return _MapConv(self.for_shape(shape.value))
        if t == "string":
            return _conv_string
        if t == "integer":
            return _conv_integer
        if t == "long":
            return _conv_long
        if t in ("float", "double"):
            return _conv_float
        if t == "boolean":
            return _conv_boolean
        if t == "blob":
            return _conv_blob
        if t == "timestamp":
            return _conv_timestamp
        return _conv_document

    def body_struct(self, shape: Shape, names: list[str]) -> _StructConv:
        """Converter for the body members (those without a location) of an input shape."""
        conv = _StructConv()
        for name in names:
            member = shape.members[name]
            conv.members[member.serialization.get("name", name)] = (name, self.for_shape(member))
        return conv


# ---------------------------------------------------------------------------
# Converters for strings found in the URI, the query string and headers.


def _text_conv(shape: Shape, where: str, location: str) -> Callable[[str], Any] | None:
    """None means: keep the string as it is."""
    t = shape.type_name

    def fail(value: str, what: str) -> AwsError:
        return serialization_error(f"Cannot convert {location} '{where}' value '{value}' to {what}")

    if t == "string":
        if shape.serialization.get("jsonvalue") and location == "header":

            def json_header(value: str) -> Any:
                try:
                    return json.loads(base64.b64decode(value, validate=True))
                except (ValueError, binascii.Error):
                    raise fail(value, "base64-encoded JSON") from None

            return json_header
        return None
    if t in ("integer", "long"):
        bounds = _INT32 if t == "integer" else _INT64

        def to_int(value: str) -> int:
            try:
                result = int(value.strip())
            except ValueError:
                raise fail(value, t) from None
            if not bounds[0] <= result <= bounds[1]:
                raise fail(value, t)
            return result

        return to_int
    if t in ("float", "double"):

        def to_float(value: str) -> float:
            try:
                return float(value)
            except ValueError:
                raise fail(value, t) from None

        return to_float
    if t == "boolean":

        def to_bool(value: str) -> bool:
            v = value.strip().lower()
            if v == "true":
                return True
            if v == "false":
                return False
            raise fail(value, "boolean")

        return to_bool
    if t == "timestamp":

        def to_ts(value: str) -> Any:
            try:
                return parse_timestamp(value)
            except (ValueError, OverflowError):
                raise fail(value, "timestamp") from None

        return to_ts
    if t == "blob":

        def to_blob(value: str) -> bytes:
            try:
                return base64.b64decode(value, validate=True)
            except (ValueError, binascii.Error):
                raise fail(value, "blob") from None

        return to_blob
    return None


def _split_header_list(value: str) -> list[str]:
    """RFC 7230 comma-separated list, honouring double-quoted items (inverse of botocore)."""
    items: list[str] = []
    buf: list[str] = []
    quoted = False
    i = 0
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\" and i + 1 < len(value):
                buf.append(value[i + 1])
                i += 2
                continue
            if c == '"':
                quoted = False
            else:
                buf.append(c)
        elif c == '"':
            quoted = True
        elif c == ",":
            items.append("".join(buf).strip())
            buf = []
        else:
            buf.append(c)
        i += 1
    items.append("".join(buf).strip())
    return items


# ---------------------------------------------------------------------------
# Per-operation input plan

PAYLOAD_NONE, PAYLOAD_RAW_BLOB, PAYLOAD_RAW_STRING, PAYLOAD_STRUCT = range(4)


class InputPlan:
    __slots__ = (
        "uri",
        "query",
        "query_map",
        "headers",
        "header_maps",
        "payload_kind",
        "payload_member",
        "payload_conv",
        "body",
        "validate",
    )

    def __init__(self) -> None:
        self.uri: list[tuple[str, str, Callable[[str], Any] | None]] = []
        self.query: dict[str, tuple[str, Callable[[str], Any] | None, bool]] = {}
        self.query_map: tuple[str, Callable[[str], Any] | None, bool] | None = None
        self.headers: list[tuple[str, str, Callable[[str], Any] | None, bool]] = []
        self.header_maps: list[tuple[str, str]] = []
        self.payload_kind = PAYLOAD_NONE
        self.payload_member: str | None = None
        self.payload_conv: Callable[[Any, str], Any] | None = None
        self.body: _StructConv | None = None
        self.validate: Callable[[Any, str, list[str]], None] | None = None


def build_input_plan(shape: Shape | None, convs: BodyConverters, validators: Validators) -> InputPlan:
    plan = InputPlan()
    if shape is None:
        return plan
    body_names: list[str] = []
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            plan.uri.append((name, wire, _text_conv(member, wire, "URI label")))
        elif location == "querystring":
            if member.type_name == "map":
                plan.query_map = (name, _text_conv(member.value, wire, "query parameter"), member.value.type_name == "list")
            elif member.type_name == "list":
                plan.query[wire] = (name, _text_conv(member.member, wire, "query parameter"), True)
            else:
                plan.query[wire] = (name, _text_conv(member, wire, "query parameter"), False)
        elif location == "header":
            if member.type_name == "list":
                plan.headers.append((name, wire.lower(), _text_conv(member.member, wire, "header"), True))
            else:
                plan.headers.append((name, wire.lower(), _text_conv(member, wire, "header"), False))
        elif location == "headers":
            plan.header_maps.append((name, wire.lower()))
        elif location is None and name != payload:
            body_names.append(name)
    if payload is not None:
        member = shape.members[payload]
        plan.payload_member = payload
        if member.type_name == "blob":
            plan.payload_kind = PAYLOAD_RAW_BLOB
        elif member.type_name == "string":
            plan.payload_kind = PAYLOAD_RAW_STRING
        else:
            plan.payload_kind = PAYLOAD_STRUCT
            plan.payload_conv = convs.for_shape(member)
    elif body_names:
        plan.body = convs.body_struct(shape, body_names)
    plan.validate = validators.for_shape(shape)
    return plan


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise invalid_request_content(f"Invalid UTF-8 in request body: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise invalid_request_content(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise invalid_request_content(str(exc) or "malformed JSON") from None


def _is_blank(body: bytes) -> bool:
    return not body or not bytes(body).strip()


def parse_request(plan: InputPlan, labels: dict[str, str], query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, wire, conv in plan.uri:
        value = labels.get(wire)
        if value is not None:
            params[name] = value if conv is None else conv(value)
    if query and (plan.query or plan.query_map is not None):
        _parse_query(plan, query, params)
    for name, lname, conv, is_list in plan.headers:
        value = headers.get(lname)
        if value is None:
            continue
        if is_list:
            items = _split_header_list(value)
            params[name] = items if conv is None else [conv(v) for v in items]
        else:
            params[name] = value if conv is None else conv(value)
    for name, prefix in plan.header_maps:
        found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
        if found:
            params[name] = found
    kind = plan.payload_kind
    if kind == PAYLOAD_RAW_BLOB:
        params[plan.payload_member] = body  # type: ignore[index]
    elif kind == PAYLOAD_RAW_STRING:
        try:
            params[plan.payload_member] = bytes(body).decode("utf-8")  # type: ignore[index]
        except UnicodeDecodeError as exc:
            raise invalid_request_content(f"Invalid UTF-8 in request body: {exc.reason}") from None
    elif kind == PAYLOAD_STRUCT:
        if not _is_blank(body):
            doc = _load_json(body)
            if doc is not None:
                try:
                    params[plan.payload_member] = plan.payload_conv(doc, "")  # type: ignore[index,misc]
                except _Mismatch as exc:
                    raise invalid_request_content(str(exc)) from None
    elif plan.body is not None and not _is_blank(body):
        doc = _load_json(body)
        if not isinstance(doc, dict):
            raise invalid_request_content(f"Expected a JSON object as the request body, got {_json_kind(doc)}")
        try:
            params.update(plan.body(doc, ""))
        except _Mismatch as exc:
            raise invalid_request_content(str(exc)) from None
    return validated(plan, params)


def validated(plan: InputPlan, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` after the model's constraints were checked (AWS's ValidationException otherwise)."""
    if plan.validate is not None:
        errors: list[str] = []
        plan.validate(params, "", errors)
        if errors:
            raise validation_error(errors)
    return params


def _parse_query(plan: InputPlan, query: str, params: dict[str, Any]) -> None:
    claimed: set[str] = set()
    extra: list[tuple[str, str]] = []
    for key, value in split_query(query):
        entry = plan.query.get(key)
        if entry is None:
            extra.append((key, value))
            continue
        name, conv, is_list = entry
        if is_list:
            params.setdefault(name, []).append(value if conv is None else conv(value))
        elif key not in claimed:
            claimed.add(key)
            params[name] = value if conv is None else conv(value)
    if plan.query_map is not None and extra:
        name, conv, is_list = plan.query_map
        out: dict[str, Any] = {}
        for key, value in extra:
            v = value if conv is None else conv(value)
            if is_list:
                out.setdefault(key, []).append(v)
            else:
                out.setdefault(key, v)
        params[name] = out
