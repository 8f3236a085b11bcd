"""lamb.invoke.xray_segments: X-Ray daemon datagrams as OpenTelemetry spans."""

from __future__ import annotations

import json

from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import SpanKind, StatusCode

from lamb.invoke.xray_segments import documents, spans_of, trace_id_of

R = Resource.create({"service.name": "t"})
TRACE = "1-5759e988-bd862e3fe1be46a994272793"


def datagram(doc) -> bytes:
    return b'{"format": "json", "version": 1}\n' + json.dumps(doc).encode()


def test_documents_need_the_daemon_header():
    doc = {"id": "70de5b6f19ff9a0a", "name": "x"}
    assert documents(datagram(doc)) == [doc]
    assert documents(json.dumps(doc).encode()) == []
    assert documents(b'{"format": "json", "version": 2}\n{}') == []
    assert documents(b'{"format": "json", "version": 1}\nnot json') == []
    assert documents(b'{"format": "json", "version": 1}\n[1]') == []


def test_a_subsegment_with_nested_ones_is_a_tree_of_spans():
    doc = {"type": "subsegment", "trace_id": TRACE, "id": "70de5b6f19ff9a0a", "parent_id": "53995c3f42cd8ad8",
           "name": "## handler", "start_time": 1700000000.5, "end_time": 1700000000.75,
           "annotations": {"ColdStart": True, "Service": "payment", "nested": {"no": 1}},
           "subsegments": [{"id": "70de5b6f19ff9a0b", "name": "S3", "namespace": "aws", "start_time": 1700000000.6,
                            "end_time": 1700000000.7, "aws": {"operation": "GetObject"},
                            "http": {"response": {"status": 404}}, "error": True,
                            "cause": {"exceptions": [{"type": "NoSuchKey", "message": "gone"}]}}]}
    handler, s3 = spans_of(doc, R)
    assert handler.context.trace_id == trace_id_of(TRACE) == 0x5759E988BD862E3FE1BE46A994272793
    assert handler.context.span_id == 0x70DE5B6F19FF9A0A and handler.parent.span_id == 0x53995C3F42CD8AD8
    assert (handler.start_time, handler.end_time) == (1700000000500000000, 1700000000750000000)
    assert handler.attributes == {"xray.annotation.ColdStart": True, "xray.annotation.Service": "payment"}
    assert handler.kind == SpanKind.INTERNAL and handler.status.status_code == StatusCode.UNSET
    assert s3.parent.span_id == handler.context.span_id and s3.context.trace_id == handler.context.trace_id
    assert s3.kind == SpanKind.CLIENT and s3.attributes["rpc.method"] == "GetObject"
    assert s3.attributes["http.response.status_code"] == 404
    assert s3.status.status_code == StatusCode.ERROR and s3.status.description == "NoSuchKey: gone"


def test_unfinished_or_malformed_documents_make_no_span():
    base = {"trace_id": TRACE, "id": "70de5b6f19ff9a0a", "name": "x", "start_time": 1.0, "end_time": 2.0}
    assert len(spans_of(base, R)) == 1
    assert spans_of({**base, "in_progress": True}, R) == []
    assert spans_of({k: v for k, v in base.items() if k != "end_time"}, R) == []
    assert spans_of({**base, "id": "zz"}, R) == []
    assert spans_of({**base, "trace_id": "2-x-y"}, R) == []
