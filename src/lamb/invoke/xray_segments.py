"""X-Ray segment documents, as the X-Ray SDKs send them to the daemon, as OpenTelemetry spans.

A function whose code uses an X-Ray SDK (aws-xray-sdk, so Powertools' Tracer) sends each
finished subsegment as one UDP datagram to ``AWS_XRAY_DAEMON_ADDRESS``: a header line
``{"format": "json", "version": 1}``, a newline, and the segment document
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html,
https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html). In Lambda the
SDK does not make its own segment: its subsegments name the function's segment (the ``Parent``
of ``_X_AMZN_TRACE_ID``, Lamb's ``Invoke`` span, ``invoke/tracing.py``) as ``parent_id``, so
they join the invocation's trace. Each document and its nested ``subsegments`` become one span:
the ids are the document's (trace id from ``trace_id``, 64-bit span id from ``id``), annotations
become ``xray.annotation.<key>`` attributes, ``http`` the HTTP semantic conventions, and
``error``/``fault`` (with ``cause``'s first exception) an ERROR status. A document still
``in_progress`` is skipped (the SDK sends it again when it ends).
"""

from __future__ import annotations

import json

from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope


HEADER = {"format": "json", "version": 1}
_SAMPLED = trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED)
_SCOPE = InstrumentationScope("lamb.xray")


def documents(datagram: bytes) -> list[dict]:
    """The segment documents of one daemon datagram; [] when it is not one."""
    head, sep, body = datagram.partition(b"\n")
    try:
        if not sep or json.loads(head) != HEADER:
            return []
        doc = json.loads(body)
    except ValueError:
        return []
    return [doc] if isinstance(doc, dict) else []


def trace_id_of(root: str) -> int | None:
    """The 128-bit trace id of an X-Ray ``Root`` (``1-5759e988-bd862e3fe1be46a994272793``)."""
    parts = root.split("-")
    if len(parts) != 3 or parts[0] != "1" or len(parts[1]) != 8 or len(parts[2]) != 24:
        return None
    try:
        return int(parts[1] + parts[2], 16) or None
    except ValueError:
        return None


def spans_of(doc: dict, resource: Resource, trace_id: int | None = None, parent: int | None = None) -> list[ReadableSpan]:
    """``doc`` and its nested subsegments as finished spans (none for a malformed or unfinished one)."""
    tid = trace_id or trace_id_of(str(doc.get("trace_id", "")))
    try:
        span_id = int(str(doc["id"]), 16)
        start, end = float(doc["start_time"]), float(doc["end_time"])
    except (KeyError, ValueError, TypeError):
        return []
    if tid is None or not span_id or doc.get("in_progress"):
        return []
    if parent is None and doc.get("parent_id"):
        try:
            parent = int(str(doc["parent_id"]), 16)
        except ValueError:
            parent = None
    ctx = trace_api.SpanContext(tid, span_id, False, _SAMPLED)
    parent_ctx = trace_api.SpanContext(tid, parent, True, _SAMPLED) if parent else None
    kind = trace_api.SpanKind.CLIENT if doc.get("namespace") in ("aws", "remote") else trace_api.SpanKind.INTERNAL
    span = ReadableSpan(str(doc.get("name", "subsegment")), ctx, parent_ctx, resource, _attributes(doc), kind=kind,
                        status=_status(doc), start_time=_ns(start), end_time=_ns(end),
                        instrumentation_scope=_SCOPE)
    out = [span]
    for child in doc.get("subsegments") or ():
        if isinstance(child, dict):
            out += spans_of(child, resource, tid, span_id)
    return out


def _ns(seconds: float) -> int:
    """X-Ray's epoch seconds (microsecond precision) in nanoseconds, without float noise."""
    return round(seconds * 1_000_000) * 1000


def _attributes(doc: dict) -> dict:
    out: dict = {}
    if doc.get("namespace"):
        out["aws.xray.namespace"] = str(doc["namespace"])
    for key, value in (doc.get("annotations") or {}).items():
        if isinstance(value, (str, bool, int, float)):
            out[f"xray.annotation.{key}"] = value
    http = doc.get("http") or {}
    request, response = http.get("request") or {}, http.get("response") or {}
    if request.get("method"):
        out["http.request.method"] = str(request["method"])
    if request.get("url"):
        out["url.full"] = str(request["url"])
    if isinstance(response.get("status"), int):
        out["http.response.status_code"] = response["status"]
    aws = doc.get("aws") or {}
    if aws.get("operation"):
        out["rpc.method"] = str(aws["operation"])
    return out


def _status(doc: dict) -> trace_api.Status:
    if not (doc.get("fault") or doc.get("error") or doc.get("throttle")):
        return trace_api.Status(trace_api.StatusCode.UNSET)
    exceptions = (doc.get("cause") or {}).get("exceptions") if isinstance(doc.get("cause"), dict) else None
    message = ""
    if exceptions and isinstance(exceptions[0], dict):
        first = exceptions[0]
        message = ": ".join(str(first[k]) for k in ("type", "message") if first.get(k))
    return trace_api.Status(trace_api.StatusCode.ERROR, message or ("fault" if doc.get("fault") else "error"))
