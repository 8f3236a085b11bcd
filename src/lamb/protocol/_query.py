"""AWS's ``query`` protocol (IAM, STS), read from the botocore model like the others.

https://smithy.io/2.0/aws/protocols/aws-query-protocol.html: a request is
``POST /`` with a form-encoded body (or ``GET /?...``) holding ``Action``, ``Version`` and
the input members, nested by dotted keys: a structure's member ``Name.Member``, a list's
items ``Name.member.1`` (``Name.1`` when flattened), a map's ``Name.entry.1.key`` /
``Name.entry.1.value``; the names come from each member's ``locationName``. An answer is
XML: ``<OpResponse xmlns="<xmlNamespace>"><OpResult>…</OpResult><ResponseMetadata>
<RequestId>…</RequestId></ResponseMetadata></OpResponse>`` (the result element is the
output shape's ``resultWrapper``); lists are ``<member>`` elements, maps ``<entry>`` with
``<key>``/``<value>``, timestamps ISO 8601. An error is
``<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
<RequestId>…</RequestId></ErrorResponse>`` with the error shape's HTTP status.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import botocore.model

from ._timestamps import parse_timestamp
from .errors import AwsError

XML_CONTENT_TYPE = ("Content-Type", "text/xml")


class QueryWire:
    def __init__(self, service_model: botocore.model.ServiceModel) -> None:
        meta = service_model.metadata
        self.version = meta["apiVersion"]
        self.namespace = meta.get("xmlNamespace", "")
        self.ops = {name: service_model.operation_model(name) for name in service_model.operation_names}

    # ------------------------------------------------------------------ requests
    def form(self, method: str, query: str, headers: dict[str, str] | None, body: bytes) -> dict[str, str]:
        pairs = parse_qsl(query, keep_blank_values=True)
        if method.upper() == "POST" and body:
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return dict(pairs)

    def route(self, method: str, path: str, form: dict[str, str]) -> botocore.model.OperationModel:
        action = form.get("Action")
        op = self.ops.get(action or "")
        if op is None or path.split("?", 1)[0] not in ("/", ""):
            raise AwsError("InvalidAction", f"Could not find operation {action} for version {form.get('Version', self.version)}",
                           400, type_="Sender")
        return op

    def parse(self, op: botocore.model.OperationModel, form: dict[str, str]) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        missing = [n for n in shape.required_members if not _present(form, _wire(shape.members[n], n))]
        if missing:
            texts = [f"Value null at '{n[0].lower() + n[1:]}' failed to satisfy constraint: Member must not be null"
                     for n in missing]
            raise AwsError("ValidationError", f"{len(texts)} validation error{'s' if len(texts) > 1 else ''} detected: "
                           + "; ".join(texts), 400, type_="Sender")
        return _structure(shape, form, "")

    # ------------------------------------------------------------------ responses
    def serialize(self, op: botocore.model.OperationModel, result: dict[str, Any], request_id: str | None = None):
        rid = request_id or str(uuid.uuid4())
        parts = [f'<{op.name}Response xmlns="{self.namespace}">']
        shape = op.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper") or f"{op.name}Result"
            parts.append(f"<{wrapper}>")
            _xml_members(shape, result or {}, parts)
            parts.append(f"</{wrapper}>")
        parts.append(f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{op.name}Response>")
        return 200, [XML_CONTENT_TYPE], "".join(parts).encode()

    def serialize_error(self, err: AwsError, status: int, request_id: str | None = None):
        rid = request_id or str(uuid.uuid4())
        kind = "Receiver" if err.type == "Service" or status >= 500 else "Sender"
        body = (f'<ErrorResponse xmlns="{self.namespace}"><Error><Type>{kind}</Type><Code>{escape(err.code)}</Code>'
                f"<Message>{escape(err.message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>")
        return status, [XML_CONTENT_TYPE], body.encode()


def _wire(member: botocore.model.Shape, name: str) -> str:
    return member.serialization.get("name", name)


def _present(form: dict[str, str], prefix: str) -> bool:
    if prefix in form:
        return True
    dotted = prefix + "."
    return any(k.startswith(dotted) for k in form)


def _structure(shape: botocore.model.StructureShape, form: dict[str, str], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        key = prefix + _wire(member, name)
        if _present(form, key):
            out[name] = _value(member, form, key)
    return out


def _value(shape: botocore.model.Shape, form: dict[str, str], key: str) -> Any:
    t = shape.type_name
    if t == "structure":
        return _structure(shape, form, key + ".")
    if t == "list":
        item = shape.member
        base = key + "." if shape.serialization.get("flattened") else f"{key}.{item.serialization.get('name', 'member')}."
        out, i = [], 1
        while _present(form, f"{base}{i}"):
            out.append(_value(item, form, f"{base}{i}"))
            i += 1
        return out
    if t == "map":
        base = key + "." if shape.serialization.get("flattened") else key + ".entry."
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        out, i = {}, 1
        while _present(form, f"{base}{i}"):
            out[form.get(f"{base}{i}.{kname}", "")] = _value(shape.value, form, f"{base}{i}.{vname}")
            i += 1
        return out
    raw = form.get(key, "")
    try:
        if t in ("integer", "long"):
            return int(raw)
        if t in ("float", "double"):
            return float(raw)
    except ValueError:
        raise AwsError("ValidationError", f"Invalid value for parameter {key}: {raw}", 400, type_="Sender") from None
    if t == "boolean":
        return raw.lower() == "true"
    if t == "blob":
        return base64.b64decode(raw)
    if t == "timestamp":
        try:
            return parse_timestamp(raw)
        except ValueError:
            raise AwsError("ValidationError", f"Invalid value for parameter {key}: {raw}", 400, type_="Sender") from None
    return raw


def _xml_members(shape: botocore.model.StructureShape, value: dict, parts: list[str]) -> None:
    for name, member in shape.members.items():
        v = value.get(name)
        if v is None:
            continue
        tag = _wire(member, name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            for item in v:
                _xml(member.member, tag, item, parts)
        else:
            _xml(member, tag, v, parts)


def _xml(shape: botocore.model.Shape, tag: str, v: Any, parts: list[str]) -> None:
    t = shape.type_name
    parts.append(f"<{tag}>")
    if t == "structure":
        _xml_members(shape, v, parts)
    elif t == "list":
        inner = shape.member.serialization.get("name", "member")
        for item in v:
            _xml(shape.member, inner, item, parts)
    elif t == "map":
        for k, item in v.items():
            parts.append("<entry>")
            _xml(shape.key, "key", k, parts)
            _xml(shape.value, "value", item, parts)
            parts.append("</entry>")
    elif t == "timestamp":
        parts.append(_iso(v))
    elif t == "boolean":
        parts.append("true" if v else "false")
    elif t == "blob":
        parts.append(base64.b64encode(v if isinstance(v, bytes) else str(v).encode()).decode())
    else:
        parts.append(escape(str(v)))
    parts.append(f"</{tag}>")


def _iso(v: Any) -> str:
    if isinstance(v, (int, float)):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(v))
    return str(v)
