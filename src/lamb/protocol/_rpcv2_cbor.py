"""Smithy RPC v2 CBOR (``smithy-rpc-v2-cbor``), read from the botocore model like the others.

https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html: a request is
``POST /service/<ServiceName>/operation/<OperationName>`` (botocore takes the service name from
the model's ``targetPrefix``) with ``smithy-protocol: rpc-v2-cbor`` and the input structure as
a CBOR map of member names (RFC 8949; no body for no input). Timestamps are tag 1 (epoch
seconds, integer or float), blobs byte strings. An answer is the output structure the same way
(``Content-Type: application/cbor``); an error is a map with ``__type`` (the error shape's
name) and ``message``, with the error shape's HTTP status. A model with the
``awsQueryCompatible`` trait (CloudWatch) also sends ``x-amzn-query-error: <query code>;<Sender|Receiver>``
so that clients raise the query protocol's error codes.

CBOR itself is encoded and decoded by cbor2.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import botocore.model
import cbor2

from ._timestamps import parse_timestamp, to_epoch
from .errors import AwsError, unknown_operation

CBOR_CONTENT_TYPE = ("Content-Type", "application/cbor")
SMITHY_PROTOCOL = ("smithy-protocol", "rpc-v2-cbor")
PATH_PREFIX = "/service/"


def _mismatch(path: str, expected: str) -> AwsError:
    return AwsError("SerializationException", f"Expected {expected} for '{path or 'input'}'", 400)


class CborWire:
    def __init__(self, service_model: botocore.model.ServiceModel) -> None:
        meta = service_model.metadata
        self.service_name = meta["targetPrefix"]
        self.ops = {name: service_model.operation_model(name) for name in service_model.operation_names}
        self.query_compatible = "awsQueryCompatible" in meta
        # error code (the query protocol's, or the shape name) <-> shape name
        self.shape_of: dict[str, str] = {}
        self.code_of: dict[str, str] = {}
        for shape in service_model.error_shapes:
            code = shape.metadata.get("error", {}).get("code", shape.name)
            self.shape_of[code] = self.shape_of[shape.name] = shape.name
            self.code_of[shape.name] = self.code_of[code] = code

    # ------------------------------------------------------------------ requests
    def route(self, method: str, path: str) -> botocore.model.OperationModel:
        parts = path.split("?", 1)[0].split("/")
        # ["", "service", <name>, "operation", <op>]
        if (method.upper() != "POST" or len(parts) != 5 or parts[1] != "service" or parts[2] != self.service_name
                or parts[3] != "operation" or parts[4] not in self.ops):
            raise unknown_operation()
        return self.ops[parts[4]]

    def decode(self, op: botocore.model.OperationModel, body: bytes) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None or not body:
            return {}
        try:
            doc = cbor2.loads(body)
        except Exception as exc:  # noqa: BLE001 - any malformed CBOR is the client's
            raise AwsError("SerializationException", f"Could not decode the CBOR request body: {exc}", 400) from None
        if not isinstance(doc, dict):
            raise _mismatch("", "a map")
        return _read(shape, doc, "")

    # ------------------------------------------------------------------ responses
    def encode(self, op: botocore.model.OperationModel, result: dict[str, Any] | None):
        shape = op.output_shape
        body = b"" if shape is None else cbor2.dumps(_write(shape, result or {}))
        return 200, [SMITHY_PROTOCOL, CBOR_CONTENT_TYPE], body

    def encode_error(self, err: AwsError, status: int):
        headers = [SMITHY_PROTOCOL, CBOR_CONTENT_TYPE]
        shape = self.shape_of.get(err.code, err.code)
        if self.query_compatible:
            kind = "Receiver" if err.type == "Service" or status >= 500 else "Sender"
            headers.append(("x-amzn-query-error", f"{self.code_of.get(err.code, err.code)};{kind}"))
        body = {"__type": shape, "message": err.message}
        for name, value in (err.fields or {}).items():
            if value is not None:
                body[name] = value
        return status, headers, cbor2.dumps(body)


def _read(shape: botocore.model.Shape, value: Any, path: str) -> Any:
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            raise _mismatch(path, "a map")
        out = {}
        for name, member in shape.members.items():
            v = value.get(name)
            if v is not None:
                out[name] = _read(member, v, f"{path}.{name}" if path else name)
        return out
    if t == "list":
        if not isinstance(value, list):
            raise _mismatch(path, "a list")
        return [_read(shape.member, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if t == "map":
        if not isinstance(value, dict):
            raise _mismatch(path, "a map")
        return {str(k): _read(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if t == "timestamp":
        if isinstance(value, _dt.datetime) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return parse_timestamp(value)
        raise _mismatch(path, "a timestamp")
    if t in ("integer", "long"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _mismatch(path, "an integer")
    if t in ("double", "float"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _mismatch(path, "a number")
    if t == "boolean":
        if isinstance(value, bool):
            return value
        raise _mismatch(path, "a boolean")
    if t == "blob":
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        raise _mismatch(path, "a byte string")
    if isinstance(value, str):
        return value
    raise _mismatch(path, "a text string")


def _write(shape: botocore.model.Shape, value: Any) -> Any:
    t = shape.type_name
    if t == "structure":
        return {name: _write(member, value[name]) for name, member in shape.members.items()
                if value.get(name) is not None}
    if t == "list":
        return [_write(shape.member, v) for v in value]
    if t == "map":
        return {k: _write(shape.value, v) for k, v in value.items() if v is not None}
    if t == "timestamp":
        return cbor2.CBORTag(1, to_epoch(value))
    if t in ("double", "float"):
        return float(value)
    if t == "blob":
        return value if isinstance(value, (bytes, bytearray)) else str(value).encode()
    return value
