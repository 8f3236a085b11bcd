"""Spans of an Active-traced invocation (invoke/tracing.py), collected by the OpenTelemetry SDK's
in-memory exporter."""

from __future__ import annotations

import time

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lamb.invoke.tracing import InvocationTracer, Sampler, header_fields, trace_id_of


def traced_run(header, init=None, runtime_end=None, error=None, sampler=None):
    exporter = InMemorySpanExporter()
    tracer = InvocationTracer("us-east-1", exporter, sampler)
    traced, out = tracer.start(header, "fn", "$LATEST", "arn:aws:lambda:us-east-1:000000000000:function:fn", "rid",
                               init)
    if traced is not None:
        tracer.finish(traced, error, runtime_end)
    tracer.shutdown()
    return {s.name: s for s in exporter.get_finished_spans()}, dict(header_fields(out)), out


def test_trace_ids_from_xray_roots():
    assert trace_id_of("1-5759e988-bd862e3fe1be46a994272793") == 0x5759e988bd862e3fe1be46a994272793
    for bad in ("", "1-5759e988", "2-5759e988-bd862e3fe1be46a994272793", "1-zz59e988-bd862e3fe1be46a994272793"):
        assert trace_id_of(bad) is None


def test_a_new_trace_keeps_the_root_and_names_invoke_as_parent():
    spans, fields, out = traced_run("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?;"
                                    "Lineage=1:a87bd80c:0")
    root, invoke = spans["fn"], spans["Invoke"]
    assert root.parent is None  # a caller that did not decide: no parent to join (sampled by the reservoir)
    assert root.context.trace_id == 0x5759e988bd862e3fe1be46a994272793 == invoke.context.trace_id
    assert invoke.parent.span_id == root.context.span_id
    assert out.startswith("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=")
    assert fields["Parent"] == f"{invoke.context.span_id:016x}" and fields["Sampled"] == "1"
    assert fields["Lineage"] == "1:a87bd80c:0"


def test_a_sampled_caller_is_the_parent_and_a_cold_start_has_init():
    now = time.time()
    spans, _, _ = traced_run("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                             init=(now - 0.5, now - 0.1), runtime_end=time.time(), error="Runtime.ExitError")
    root = spans["fn"]
    assert root.parent.span_id == 0x53995c3f42cd8ad8 and root.parent.is_remote
    assert spans["Init"].parent.span_id == root.context.span_id
    assert spans["Overhead"].parent.span_id == root.context.span_id
    assert root.start_time == spans["Init"].start_time
    assert spans["Invoke"].end_time <= spans["Overhead"].start_time + 1 and spans["Overhead"].end_time <= root.end_time
    assert root.status.status_code.name == "ERROR" and root.attributes["faas.coldstart"] is True


def test_no_header_starts_a_trace():
    spans, fields, _ = traced_run(None)
    assert trace_id_of(fields["Root"]) == spans["fn"].context.trace_id


def test_a_caller_that_decided_not_to_sample_is_not_traced():
    spans, fields, out = traced_run("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;"
                                    "Lineage=1:a87bd80c:0")
    assert spans == {}
    assert out == "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=1:a87bd80c:0"


def test_undecided_invocations_follow_the_default_rule_per_function():
    """AWS: 1 request a second and 5 % of the others, per function."""
    clock = [100.0]
    draws = iter([0.04, 0.06, 0.5, 0.01])
    sampler = Sampler(clock=lambda: clock[0], draw=lambda: next(draws))
    assert [sampler.take("a") for _ in range(5)] == [True, True, False, False, True]  # reservoir, then 0.04 .. 0.01
    assert sampler.take("b") is True  # another function has its own reservoir
    clock[0] = 101.2
    assert sampler.take("a") is True  # a new second refills it
    # an undecided header that is not sampled is handed on as not sampled
    never = Sampler(reservoir=0, rate=0.0)
    spans, fields, out = traced_run("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?",
                                    sampler=never)
    assert spans == {} and fields["Sampled"] == "0"
    spans, fields, _ = traced_run(None, sampler=Sampler.parse("0,1"))  # LAMB_TRACE_SAMPLING=0,1: everything
    assert spans and fields["Sampled"] == "1"


def test_sampling_settings():
    assert (Sampler.parse("").reservoir, Sampler.parse("").rate) == (1, 0.05)
    assert (Sampler.parse("5,0.5").reservoir, Sampler.parse("5,0.5").rate) == (5, 0.5)
    for bad in ("x", "1,2", "-1,0.1"):
        try:
            Sampler.parse(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
