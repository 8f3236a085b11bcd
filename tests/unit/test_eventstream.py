"""The event-stream encoder, read back with botocore's own parser and the Lambda model."""

from __future__ import annotations

import botocore.session
from botocore.eventstream import EventStream, EventStreamBuffer
from botocore.parsers import EventStreamJSONParser

from lamb.protocol import eventstream


def _messages(data: bytes):
    buf = EventStreamBuffer()
    buf.add_data(data)
    return list(buf)


def test_message_round_trips_through_botocore():
    raw = eventstream.message([(":event-type", "X"), ("k", "välue")], b"payload")
    (msg,) = _messages(raw)
    assert msg.headers == {":event-type": "X", "k": "välue"}
    assert msg.payload == b"payload"
    assert msg.prelude.total_length == len(raw)


def test_empty_payload_and_pieces_split_anywhere():
    raw = eventstream.payload_chunk(b"") + eventstream.payload_chunk(b"a" * 70_000)
    buf = EventStreamBuffer()
    out = []
    for i in range(0, len(raw), 997):  # a reader sees the bytes in arbitrary pieces
        buf.add_data(raw[i:i + 997])
        out.extend(buf)
    assert [m.payload for m in out] == [b"", b"a" * 70_000]


def test_lambda_events_parse_with_the_invoke_with_response_stream_model():
    model = botocore.session.get_session().get_service_model("lambda")
    shape = model.operation_model("InvokeWithResponseStream").output_shape.members["EventStream"]
    raw = (eventstream.payload_chunk(b"hello ") + eventstream.payload_chunk(b"world")
           + eventstream.invoke_complete("Sandbox.Timedout", "Task timed out after 1.00 seconds", "bG9n"))

    class Raw:
        def stream(self):
            yield raw

        def close(self):
            pass

    events = [{k: v for k, v in e.items() if k != "ResponseMetadata"}
              for e in EventStream(Raw(), shape, EventStreamJSONParser(), "InvokeWithResponseStream")]
    assert events == [
        {"PayloadChunk": {"Payload": b"hello "}},
        {"PayloadChunk": {"Payload": b"world"}},
        {"InvokeComplete": {"ErrorCode": "Sandbox.Timedout", "ErrorDetails": "Task timed out after 1.00 seconds",
                            "LogResult": "bG9n"}},
    ]


def test_invoke_complete_without_error_is_an_empty_object():
    (msg,) = _messages(eventstream.invoke_complete())
    assert msg.payload == b"{}"
    assert msg.headers[":content-type"] == "application/json"
