"""invoke/stream.py: trailers, error parts, the bandwidth rule; urls/stream.py: the prelude."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from lamb.http.body import BodyStream
from lamb.invoke.invocation import InvocationResult
from lamb.invoke.stream import ResponseStream, error_parts, is_streaming, trailer_error
from lamb.urls.response import Malformed
from lamb.urls.stream import StreamFailed, open_stream, prelude_head


def test_is_streaming_needs_the_mode_header_on_a_response_post():
    h = {"lambda-runtime-function-response-mode": "streaming"}
    assert is_streaming("POST", "/2018-06-01/runtime/invocation/x/response", h)
    assert not is_streaming("POST", "/2018-06-01/runtime/invocation/x/error", h)
    assert not is_streaming("POST", "/2018-06-01/runtime/invocation/x/response", {})


def test_trailer_error():
    assert trailer_error({}) is None
    body = json.dumps({"errorType": "E", "errorMessage": "m"}).encode()
    assert trailer_error({"lambda-runtime-function-error-type": "E",
                          "lambda-runtime-function-error-body": base64.b64encode(body).decode()}) == ("E", body)
    kind, raw = trailer_error({"lambda-runtime-function-error-type": "E"})
    assert kind == "E" and json.loads(raw) == {"errorType": "E", "errorMessage": ""}


def test_error_parts():
    assert error_parts(b'{"errorType":"Sandbox.Timedout","errorMessage":"late"}') == ("Sandbox.Timedout", "late")
    assert error_parts(b"not json") == ("Unhandled", "not json")


def _stream(content_type, pieces, **kw):
    body = BodyStream(lambda: None, lambda: None)
    for p in pieces:
        body.feed(p)
    body.finish({})
    return ResponseStream(content_type, body, uncapped_bytes=kw.get("uncapped", 10), bytes_per_s=kw.get("rate", 0))


def test_bandwidth_rule_paces_only_past_the_uncapped_bytes(monkeypatch):
    slept = []

    async def fake_sleep(d):
        slept.append(d)

    async def run():
        monkeypatch.setattr(asyncio, "sleep", fake_sleep)
        s = _stream("x", [b"a" * 10, b"b" * 10, b"c" * 100, b"d" * 100], uncapped=10, rate=100)
        return [p async for p in s.chunks()]

    got = asyncio.run(run())
    assert len(got) == 4
    assert len(slept) == 2 and all(d > 0 for d in slept)  # the cap began after the first 10 bytes


def test_prelude_head():
    status, headers = prelude_head(b'{"statusCode": 418, "headers": {"a": "b"}, "cookies": ["c=1"]}')
    assert status == 418
    assert headers == [("Content-Type", "application/octet-stream"), ("a", "b"), ("Set-Cookie", "c=1")]
    assert prelude_head(b"")[0] == 200
    with pytest.raises(Malformed):
        prelude_head(b"[1]")


def _result(error=None):
    fut = asyncio.get_running_loop().create_future()
    fut.set_result(InvocationResult(b'{"errorType":"E","errorMessage":"m"}' if error else b"", error))
    return fut


def test_open_stream_splits_the_prelude_across_pieces():
    async def run():
        s = _stream("application/vnd.awslambda.http-integration-response",
                    [b'{"statusCode": 201', b'}\0\0\0', b"\0\0\0\0\0he", b"llo"])
        status, headers, body = await open_stream(s, _result())
        return status, headers, b"".join([p async for p in body])

    assert asyncio.run(run()) == (201, [("Content-Type", "application/octet-stream")], b"hello")


def test_open_stream_without_prelude_and_a_failed_end():
    async def run():
        s = _stream("text/plain", [b"half"])
        status, headers, body = await open_stream(s, _result("Unhandled"))
        got = []
        with pytest.raises(StreamFailed):
            async for p in body:
                got.append(p)
        return status, headers, got

    assert asyncio.run(run()) == (200, [("Content-Type", "text/plain")], [b"half"])


def test_a_stream_that_fails_before_any_byte_is_refused():
    async def run():
        s = _stream("text/plain", [])
        with pytest.raises(StreamFailed):
            await open_stream(s, _result("Unhandled"))
        s = _stream("text/plain", [])
        status, _, body = await open_stream(s, _result())
        return status, [p async for p in body]

    assert asyncio.run(run()) == (200, [])
