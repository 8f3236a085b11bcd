"""Traces of invocations of functions with ``TracingConfig.Mode=Active``, exported over OTLP.

AWS draws an invocation as X-Ray shows it
(https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html): the function's segment with
the subsegments ``Initialization`` (a cold start), ``Invocation`` (the runtime's part) and
``Overhead`` (the extensions' time after the response). Lamb makes the same structure as
OpenTelemetry spans with the OpenTelemetry SDK: a root span named after the function (kind
SERVER, attributes of the FaaS semantic conventions, ``faas.coldstart``) with the children
``Init``, ``Invoke`` and ``Overhead``, and sends them with the OTLP/HTTP exporter to the
collector that the standard settings name (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, else
``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``; the exporter reads them itself, and
``OTEL_BSP_*`` tune its batching). Without either setting nothing is traced.

Trace context follows X-Ray's header
(https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
``Root=1-<8 hex epoch>-<24 hex>`` is the 128-bit trace id (the hex digits joined), ``Parent`` a
64-bit span id. An invocation keeps its header's Root; its root span is the child of the
header's Parent when the caller sampled (``Sampled=1``); the header the runtime gets
(``Lambda-Runtime-Trace-Id``, so ``_X_AMZN_TRACE_ID``) names the Invoke span as Parent with
``Sampled=1``, so spans made by the function's own code join the trace under Invoke.
Every invocation of an Active function is traced (X-Ray's sampling rules are not applied).
"""

from __future__ import annotations

import time

from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

_SAMPLED = trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED)


def trace_id_of(root: str) -> int | None:
    """The 128-bit trace id of an X-Ray ``Root`` (``1-5759e988-bd862e3fe1be46a994272793``)."""
    parts = root.split("-")
    if len(parts) != 3 or parts[0] != "1" or len(parts[1]) != 8 or len(parts[2]) != 24:
        return None
    try:
        return int(parts[1] + parts[2], 16) or None
    except ValueError:
        return None


def header_fields(header: str | None) -> list[list[str]]:
    out = []
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            out.append([key, value])
    return out


class _Ids(RandomIdGenerator):
    """Random ids, except the trace id of the next root span, which the X-Ray header gives."""

    def __init__(self) -> None:
        self.next_trace_id: int | None = None

    def generate_trace_id(self) -> int:
        tid, self.next_trace_id = self.next_trace_id, None
        return tid or super().generate_trace_id()


class Traced:
    """One traced invocation's open spans."""

    __slots__ = ("root", "invoke")

    def __init__(self, root: trace_api.Span, invoke: trace_api.Span) -> None:
        self.root = root
        self.invoke = invoke


def _ns(wall_s: float) -> int:
    return int(wall_s * 1e9)


class InvocationTracer:
    def __init__(self, region: str, exporter=None) -> None:
        self._ids = _Ids()
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": "lamb", "cloud.provider": "aws",
                                      "cloud.platform": "aws_lambda", "cloud.region": region}),
            sampler=ALWAYS_ON, id_generator=self._ids, shutdown_on_exit=True)
        exporter = exporter or OTLPSpanExporter()
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("lamb.invoke")

    def start(self, header: str | None, function_name: str, version: str, function_arn: str, request_id: str,
              init: tuple[float, float] | None) -> tuple[Traced, str]:
        """Open the invocation's spans (``init``: the cold start's wall-clock start and end, ended
        at once as ``Init``); returns them and the header the runtime gets."""
        fields = header_fields(header)
        values = dict(fields)
        trace_id = trace_id_of(values.get("Root", ""))
        context = None
        parent = values.get("Parent", "")
        if trace_id is not None and values.get("Sampled") == "1" and len(parent) == 16:
            try:
                span_context = trace_api.SpanContext(trace_id, int(parent, 16), is_remote=True, trace_flags=_SAMPLED)
                context = trace_api.set_span_in_context(trace_api.NonRecordingSpan(span_context))
            except ValueError:
                context = None
        if context is None:
            self._ids.next_trace_id = trace_id
        now = time.time()
        attributes = {"faas.name": function_name, "faas.version": version, "faas.invocation_id": request_id,
                      "faas.coldstart": init is not None, "cloud.resource_id": function_arn, "faas.trigger": "other"}
        root = self.tracer.start_span(function_name, context, kind=trace_api.SpanKind.SERVER, attributes=attributes,
                                      start_time=_ns(init[0] if init else now))
        self._ids.next_trace_id = None
        inside = trace_api.set_span_in_context(root)
        if init is not None:
            self.tracer.start_span("Init", inside, start_time=_ns(init[0])).end(end_time=_ns(init[1]))
        invoke = self.tracer.start_span("Invoke", inside, start_time=_ns(now),
                                        attributes={"faas.invocation_id": request_id})
        ctx = invoke.get_span_context()
        root_field = f"1-{ctx.trace_id >> 96:08x}-{ctx.trace_id & ((1 << 96) - 1):024x}"
        rest = [f"{key}={value}" for key, value in fields if key not in ("Root", "Parent", "Sampled")]
        out = [f"Root={root_field}", f"Parent={ctx.span_id:016x}", "Sampled=1", *rest]
        return Traced(root, invoke), ";".join(out)

    def finish(self, traced: Traced, error_type: str | None, runtime_end: float | None) -> None:
        """Close the spans: Invoke at the runtime's end (``runtime_end``, wall clock, when extensions
        went on after it: then ``Overhead`` covers their time), the root now."""
        now = time.time()
        if error_type:
            status = trace_api.Status(trace_api.StatusCode.ERROR, error_type)
            traced.root.set_status(status)
            traced.invoke.set_status(status)
            traced.root.set_attribute("error.type", error_type)
        if runtime_end is not None:
            traced.invoke.end(end_time=_ns(runtime_end))
            overhead = self.tracer.start_span("Overhead", trace_api.set_span_in_context(traced.root),
                                              start_time=_ns(runtime_end))
            overhead.end(end_time=_ns(now))
        else:
            traced.invoke.end(end_time=_ns(now))
        traced.root.end(end_time=_ns(now))

    def shutdown(self) -> None:
        self.provider.shutdown()
