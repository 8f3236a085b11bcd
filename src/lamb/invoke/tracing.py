"""Traces of invocations of functions with ``TracingConfig.Mode=Active``, exported over OTLP.

AWS draws an invocation as X-Ray shows it
(https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html): the function's segment with
the subsegments ``Initialization`` (a cold start), ``Invocation`` (the runtime's part) and
``Overhead`` (the extensions' time after the response). Lamb makes the same structure as
OpenTelemetry spans: a root span named after the function (kind SERVER, attributes of the FaaS
semantic conventions, ``faas.coldstart``) with the children ``Init``, ``Invoke`` and
``Overhead``, sent by the OpenTelemetry SDK's batch processor and OTLP/HTTP exporter to the
collector that the standard settings name (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, else
``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``; ``OTEL_BSP_*`` tune the batching). Without
either setting nothing is traced (``invoker._tracer``).

The invoke path only draws ids and keeps the times: the spans are whole when the invocation
ends (their times are known then), so they are built as the SDK's finished spans
(``ReadableSpan``) and handed to the batch processor, whose thread encodes and sends them.
The SDK's live-span API (``start_span``) costs about ten times as much per invocation.

Trace context follows X-Ray's header
(https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
``Root=1-<8 hex epoch>-<24 hex>`` is the 128-bit trace id (the hex digits joined), ``Parent`` a
64-bit span id. An invocation keeps its header's Root; its root span is the child of the
header's Parent when the caller sampled (``Sampled=1``); the header the runtime gets
(``Lambda-Runtime-Trace-Id``, so ``_X_AMZN_TRACE_ID``) names the Invoke span as Parent with
``Sampled=1``, so spans made by the function's own code join the trace under Invoke.
Which invocations are traced is AWS's rule for Active functions
(https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html): a caller's decision in the
header is kept (``Sampled=1`` traced, ``Sampled=0`` not); without one (``Sampled=?``, or no
header) Lambda samples "1 request per second and 5 percent of additional requests", per
function (``Sampler``; ``LAMB_TRACE_SAMPLING=RESERVOIR,RATE`` changes it, e.g. ``0,1`` traces
everything). An invocation not traced costs nothing here and its runtime sees ``Sampled=0``.
Segments the function's own code sends to the X-Ray daemon's port join the trace too
(``xray_daemon``, ``xray_segments``).
"""

from __future__ import annotations

import random
import time

from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from .trace_header import decided, unsampled
from .xray_daemon import XRayDaemon
from .xray_segments import spans_of, trace_id_of

_SAMPLED = trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED)
_UNSET = trace_api.Status(trace_api.StatusCode.UNSET)
_SERVER = trace_api.SpanKind.SERVER
_INTERNAL = trace_api.SpanKind.INTERNAL
_LOW96 = (1 << 96) - 1


def header_fields(header: str | None) -> list[list[str]]:
    out = []
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            out.append([key, value])
    return out


class Traced:
    """One traced invocation: its ids and times until it ends."""

    __slots__ = ("trace_id", "parent", "root_id", "invoke_id", "start", "init", "attributes")

    def __init__(self, trace_id: int, parent: int | None, root_id: int, invoke_id: int, start: float,
                 init: tuple[float, float] | None, attributes: dict) -> None:
        self.trace_id = trace_id
        self.parent = parent
        self.root_id = root_id
        self.invoke_id = invoke_id
        self.start = start
        self.init = init
        self.attributes = attributes


def _ns(wall_s: float) -> int:
    return int(wall_s * 1e9)


def _span_id() -> int:
    return random.getrandbits(64) or 1


class Sampler:
    """X-Ray's default rule for invocations nobody decided about: the first ``reservoir`` of each
    second per key (a function), then a ``rate`` fraction of the others."""

    def __init__(self, reservoir: int = 1, rate: float = 0.05, clock=time.monotonic, draw=random.random) -> None:
        self.reservoir = reservoir
        self.rate = rate
        self.clock = clock
        self.draw = draw
        self._taken: dict[str, list[int]] = {}  # key -> [second, taken from the reservoir in it]

    @classmethod
    def parse(cls, text: str | None) -> "Sampler":
        """``"RESERVOIR,RATE"`` (``LAMB_TRACE_SAMPLING``); AWS's ``1,0.05`` when empty."""
        if not text:
            return cls()
        reservoir, _, rate = text.partition(",")
        sampler = cls(int(reservoir), float(rate or 0.05))
        if sampler.reservoir < 0 or not 0.0 <= sampler.rate <= 1.0:
            raise ValueError(f"LAMB_TRACE_SAMPLING={text!r}: a reservoir >= 0 and a rate from 0 to 1")
        return sampler

    def take(self, key: str) -> bool:
        second = int(self.clock())
        taken = self._taken.get(key)
        if taken is None or taken[0] != second:
            taken = self._taken[key] = [second, 0]
        if taken[1] < self.reservoir:
            taken[1] += 1
            return True
        return self.draw() < self.rate


class InvocationTracer:
    def __init__(self, region: str, exporter=None, sampler: Sampler | None = None) -> None:
        self.sampler = sampler or Sampler()
        self.resource = Resource.create({"service.name": "lamb", "cloud.provider": "aws",
                                         "cloud.platform": "aws_lambda", "cloud.region": region})
        self.scope = InstrumentationScope("lamb.invoke")
        self.processor = BatchSpanProcessor(exporter or OTLPSpanExporter())
        # The X-Ray daemon's port for the functions' own segments (X-Ray SDK, Powertools' Tracer).
        self.xray = XRayDaemon(self._xray_document)

    def _xray_document(self, doc: dict) -> None:
        on_end = self.processor.on_end
        for span in spans_of(doc, self.resource):
            on_end(span)

    def start(self, header: str | None, function_name: str, version: str, function_arn: str, request_id: str,
              init: tuple[float, float] | None) -> tuple[Traced | None, str]:
        """Decide whether the invocation is traced and, if so, draw its ids (``init``: a cold start's
        wall-clock start and end); returns them (None: not traced) and the header the runtime gets."""
        decision = decided(header)
        if decision == "0" or (decision is None and not self.sampler.take(function_arn)):
            return None, unsampled(header or "")
        fields = header_fields(header)
        values = dict(fields)
        trace_id = trace_id_of(values.get("Root", "")) or random.getrandbits(128) or 1
        parent = None
        given = values.get("Parent", "")
        if values.get("Sampled") == "1" and len(given) == 16:
            try:
                parent = int(given, 16) or None
            except ValueError:
                parent = None
        attributes = {"faas.name": function_name, "faas.version": version, "faas.invocation_id": request_id,
                      "faas.coldstart": init is not None, "cloud.resource_id": function_arn, "faas.trigger": "other"}
        traced = Traced(trace_id, parent, _span_id(), _span_id(), time.time(), init, attributes)
        rest = [f"{key}={value}" for key, value in fields if key not in ("Root", "Parent", "Sampled")]
        out = [f"Root=1-{trace_id >> 96:08x}-{trace_id & _LOW96:024x}", f"Parent={traced.invoke_id:016x}", "Sampled=1",
               *rest]
        return traced, ";".join(out)

    def finish(self, traced: Traced, error_type: str | None, runtime_end: float | None) -> None:
        """The invocation ended now (``runtime_end``, wall clock: when the runtime's part ended, if
        extensions went on after it): its spans go to the batch processor."""
        now = time.time()
        tid = traced.trace_id
        root_ctx = trace_api.SpanContext(tid, traced.root_id, False, _SAMPLED)
        parent = None if traced.parent is None else trace_api.SpanContext(tid, traced.parent, True, _SAMPLED)
        status = _UNSET
        attributes = traced.attributes
        if error_type:
            status = trace_api.Status(trace_api.StatusCode.ERROR, error_type)
            attributes["error.type"] = error_type
        start = traced.init[0] if traced.init else traced.start
        end_invoke = runtime_end if runtime_end is not None else now
        spans = [ReadableSpan(attributes["faas.name"], root_ctx, parent, self.resource, attributes, kind=_SERVER,
                              status=status, start_time=_ns(start), end_time=_ns(now), instrumentation_scope=self.scope),
                 self._child("Invoke", tid, traced.invoke_id, root_ctx, traced.start, end_invoke, status,
                             {"faas.invocation_id": attributes["faas.invocation_id"]})]
        if traced.init is not None:
            spans.append(self._child("Init", tid, _span_id(), root_ctx, traced.init[0], traced.init[1], _UNSET, {}))
        if runtime_end is not None:
            spans.append(self._child("Overhead", tid, _span_id(), root_ctx, runtime_end, now, _UNSET, {}))
        on_end = self.processor.on_end
        for span in spans:
            on_end(span)

    def _child(self, name: str, trace_id: int, span_id: int, parent: trace_api.SpanContext, start: float, end: float,
               status: trace_api.Status, attributes: dict) -> ReadableSpan:
        return ReadableSpan(name, trace_api.SpanContext(trace_id, span_id, False, _SAMPLED), parent, self.resource,
                            attributes, kind=_INTERNAL, status=status, start_time=_ns(start), end_time=_ns(end),
                            instrumentation_scope=self.scope)

    def shutdown(self) -> None:
        """Export what is queued and stop."""
        self.xray.close()
        self.processor.shutdown()
