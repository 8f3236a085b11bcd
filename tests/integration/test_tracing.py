"""Traces of Active-traced invocations, exported over OTLP/HTTP to a receiver the test runs
(issue 15): the parent/child structure AWS draws (function → Init, Invoke), the X-Ray trace id
kept from the caller's header, and the header the function sees naming its Invoke span."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

from .conftest import create, invoke, unique, wait_for

ECHO_TRACE = """import os
def handler(event, context):
    if event.get('fail'):
        raise RuntimeError('asked to fail')
    return os.environ.get('_X_AMZN_TRACE_ID')
"""


class OtlpReceiver:
    """An OTLP/HTTP trace receiver: decodes each ExportTraceServiceRequest (protobuf) it gets."""

    def __init__(self) -> None:
        self.spans: list = []
        self.resources: list = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                assert self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf"
                request = ExportTraceServiceRequest.FromString(body)
                for rs in request.resource_spans:
                    receiver.resources.append({a.key: a.value.string_value for a in rs.resource.attributes})
                    for ss in rs.scope_spans:
                        receiver.spans.extend(ss.spans)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def trace(self, trace_id: bytes, n: int) -> dict:
        """The spans of one trace by name, once ``n`` arrived."""
        wait_for(lambda: len([s for s in self.spans if s.trace_id == trace_id]) >= n, 30, 0.05, f"{n} spans")
        return {s.name: s for s in self.spans if s.trace_id == trace_id}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = OtlpReceiver()
    yield r
    r.close()


def fields(header: str) -> dict:
    return dict(part.split("=", 1) for part in header.split(";"))


def trace_id_bytes(root: str) -> bytes:
    _, epoch, rest = root.split("-")
    return bytes.fromhex(epoch + rest)


def test_active_tracing_exports_the_invocation_spans(fresh_server, receiver):
    server = fresh_server(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "50"})
    lam = server.client()
    name = unique("traced")
    create(lam, name, ECHO_TRACE, TracingConfig={"Mode": "Active"})

    # a cold start, no caller header: a new trace with the function's span at its root
    _, header = invoke(lam, name, {})
    seen = fields(header)
    assert seen["Sampled"] == "1"
    spans = receiver.trace(trace_id_bytes(seen["Root"]), 3)
    root, init, inv = spans[name], spans["Init"], spans["Invoke"]
    assert root.parent_span_id == b"" and root.kind == root.SPAN_KIND_SERVER
    assert init.parent_span_id == root.span_id and inv.parent_span_id == root.span_id
    assert inv.span_id.hex() == seen["Parent"]  # the function's own spans join under Invoke
    assert root.start_time_unix_nano <= init.start_time_unix_nano <= init.end_time_unix_nano <= inv.start_time_unix_nano
    assert inv.end_time_unix_nano <= root.end_time_unix_nano
    attrs = {a.key: a.value for a in root.attributes}
    assert attrs["faas.name"].string_value == name and attrs["faas.coldstart"].bool_value is True
    assert {"cloud.platform": "aws_lambda"}.items() <= receiver.resources[0].items()

    # a warm invocation under a caller's sampled X-Ray header: same trace id, child of the caller's segment
    caller = {"Root": "1-6750c2b1-5f0e8a1b2c3d4e5f6a7b8c9d", "Parent": "53995c3f42cd8ad8"}

    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = f"Root={caller['Root']};Parent={caller['Parent']};Sampled=1"

    lam.meta.events.register("before-sign.lambda.Invoke", add_header)
    try:
        _, header = invoke(lam, name, {"fail": True})
    finally:
        lam.meta.events.unregister("before-sign.lambda.Invoke", add_header)
    spans = receiver.trace(trace_id_bytes(caller["Root"]), 2)
    assert set(spans) == {name, "Invoke"}  # warm: no Init
    assert spans[name].parent_span_id.hex() == caller["Parent"]
    assert spans["Invoke"].parent_span_id == spans[name].span_id
    assert spans[name].status.code == spans[name].status.STATUS_CODE_ERROR


def test_passthrough_functions_are_not_traced(fresh_server, receiver):
    server = fresh_server(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "50"})
    lam = server.client()
    name = unique("untraced")
    create(lam, name, ECHO_TRACE)
    traced = unique("traced")
    create(lam, traced, ECHO_TRACE, TracingConfig={"Mode": "Active"})
    _, header = invoke(lam, name, {})
    assert fields(header)["Sampled"] == "0"
    _, marker = invoke(lam, traced, {})
    receiver.trace(trace_id_bytes(fields(marker)["Root"]), 3)  # exported after the first invocation ended
    names = {s.name for s in receiver.spans}
    assert name not in names and traced in names


def with_trace_header(lam, value: str):
    """Invoke calls of ``lam`` carry ``X-Amzn-Trace-Id: value`` until the returned undo is called."""
    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = value

    lam.meta.events.register("before-sign.lambda.Invoke", add_header)
    return lambda: lam.meta.events.unregister("before-sign.lambda.Invoke", add_header)


def test_invocations_no_caller_decided_about_are_sampled_as_aws_does(fresh_server, receiver):
    """AWS samples an Active function's undecided invocations at 1 a second plus 5 % of the rest
    (here ``LAMB_TRACE_SAMPLING=1,0``: the reservoir alone, so the count is exact), keeps a
    caller's decision, and the function's header says which it was."""
    server = fresh_server(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "50",
                               "LAMB_TRACE_SAMPLING": "1,0"})
    lam = server.client()
    name = unique("sampled")
    create(lam, name, ECHO_TRACE, TracingConfig={"Mode": "Active"})
    started = time.monotonic()
    headers = [invoke(lam, name, {})[1] for _ in range(20)]
    elapsed = time.monotonic() - started
    decisions = [fields(h)["Sampled"] for h in headers]
    assert set(decisions) <= {"0", "1"}
    assert 1 <= decisions.count("1") <= int(elapsed) + 2, (decisions, elapsed)  # one per second
    # a caller's decision is kept: Sampled=0 is not traced even with the reservoir full again
    time.sleep(1.1)
    undo = with_trace_header(lam, "Root=1-6750c2b1-0f0e8a1b2c3d4e5f6a7b8c9d;Parent=53995c3f42cd8ad8;Sampled=0")
    try:
        refused = invoke(lam, name, {})[1]
    finally:
        undo()
    assert fields(refused)["Sampled"] == "0" and fields(refused)["Root"] == "1-6750c2b1-0f0e8a1b2c3d4e5f6a7b8c9d"
    undo = with_trace_header(lam, "Root=1-6750c2b1-1f0e8a1b2c3d4e5f6a7b8c9d;Parent=53995c3f42cd8ad8;Sampled=1")
    try:
        marker = invoke(lam, name, {})[1]  # exported after everything before it
    finally:
        undo()
    receiver.trace(trace_id_bytes(fields(marker)["Root"]), 2)
    exported = {s.trace_id for s in receiver.spans if s.name == name}
    sampled = {trace_id_bytes(fields(h)["Root"]) for h in headers + [refused, marker] if fields(h)["Sampled"] == "1"}
    assert exported == sampled  # exactly the invocations whose header said so
