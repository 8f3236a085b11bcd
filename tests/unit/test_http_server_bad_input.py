"""The HTTP server under bad input: answers owed are written first, in order, then the refusal."""

from __future__ import annotations

import asyncio
import socket

import pytest

from lamb.http.server import HttpServer, Response


async def _slow_app(req):
    await asyncio.sleep(0.05)  # still pending when the bad bytes arrive
    return Response(200, [("Content-Type", "text/plain")], b"answer:" + req.path.encode())


def _fast_app(req):
    return Response(200, [("Content-Type", "text/plain")], b"answer:" + req.path.encode())


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def _exchange(app, payload: bytes, **server_kw) -> bytes:
    async def main() -> bytes:
        server = HttpServer(app, **server_kw)
        port = await server.start("127.0.0.1", 0)
        try:
            return await asyncio.to_thread(_talk, port, payload)
        finally:
            server.close()

    return asyncio.run(main())


def _talk(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(payload)
        return _read_all(s)


@pytest.mark.parametrize("app", [_slow_app, _fast_app], ids=["pending", "answered"])
@pytest.mark.parametrize(
    "tail",
    [b"\x00\x01garbage that is not HTTP\r\n\r\n", b"NOT A REQUEST LINE\r\n\r\n"],
    ids=["binary", "text"],
)
def test_a_pending_response_comes_before_the_400(app, tail):
    out = _exchange(app, b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + tail)
    assert out.startswith(b"HTTP/1.1 200 OK\r\n"), out
    first, _, rest = out.partition(b"answer:/first")
    assert rest.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"Connection: close" in rest, out


def test_a_content_length_shorter_than_the_body_answers_both_in_order():
    out = _exchange(_slow_app, b"POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdefgh\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and b"answer:/one" in out
    assert out.index(b"answer:/one") < out.index(b"HTTP/1.1 400")


def test_pipelined_requests_are_answered_in_order():
    reqs = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5))
    out = _exchange(_slow_app, reqs + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    positions = [out.index(b"answer:/%d" % i) for i in range(5)] + [out.index(b"answer:/last")]
    assert positions == sorted(positions)


def test_an_oversized_head_gets_431_without_reading_on():
    payload = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    out = _exchange(_fast_app, payload, max_header_bytes=8192)
    assert out.startswith(b"HTTP/1.1 431 ")


@pytest.mark.parametrize(
    "payload",
    [b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab", b""],
    ids=["partial-head", "stalled-body", "nothing-sent"],
)
def test_input_that_stops_coming_gets_408(payload):
    assert _exchange(_fast_app, payload, header_timeout=0.2).startswith(b"HTTP/1.1 408 ")


def test_large_body_refuses_by_the_head_before_the_body_is_read():
    asked = []

    def large_body(method, url, headers, length):
        asked.append((method, url, length))
        return Response(413, [("Content-Type", "application/json")], b'{"message":"too big"}')

    async def main() -> bytes:
        server = HttpServer(_fast_app, large_body=large_body, large_body_bytes=1000)
        port = await server.start("127.0.0.1", 0)

        def talk() -> bytes:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n" + b"x" * 1000)
                return _read_all(s)  # the answer comes although 49 MB were never sent

        try:
            return await asyncio.to_thread(talk)
        finally:
            server.close()

    out = asyncio.run(main())
    assert out.startswith(b"HTTP/1.1 413 ") and out.endswith(b'{"message":"too big"}')
    assert asked == [("POST", "/big", 50_000_000)]
