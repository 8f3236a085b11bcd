"""Pipelined answers on a Runtime API listener (``HttpServer.coalesce``/``hold``/``defer``).

A client that posts a result and asks for the next event in one write (Lamb's transport for
aws-lambda-ric) gets the post's answer together with the event, in one read; a client that
waits for each answer gets each at once; a request behind an answered one waits for ``defer``.
"""

from __future__ import annotations

import asyncio
import socket

from lamb.http.server import HttpServer, Response

POST = b"POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
NEXT = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"


class _App:
    """``/post`` answers 202 at once; ``/next`` waits until ``release`` is set."""

    def __init__(self) -> None:
        self.release: asyncio.Future | None = None
        self.seen: list[str] = []

    def __call__(self, req):
        self.seen.append(req.path)
        if req.path == "/post":
            return Response(202, [("Content-Type", "application/json")], b'{"status":"OK"}')
        if req.path == "/too-big":
            return Response(413, [("Content-Type", "application/json")], b'{"errorType":"RequestTooLarge"}')
        self.release = asyncio.get_running_loop().create_future()
        return self.release


def _server(app, *, hold: bool, defer=None) -> HttpServer:
    server = HttpServer(app)
    server.coalesce = True
    server.hold = hold
    server.defer = defer
    return server


def _recv_some(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    try:
        return sock.recv(65536)
    except socket.timeout:
        return b""


async def _scenario(server: HttpServer, app: _App, first: bytes, then: bytes = b"", answered: bool = False) -> list[bytes]:
    """Send ``first`` (and ``then`` after its answer, if given); release /next; the reads, in order.
    ``answered``: ``first`` gets an answer before /next is released (waited for up to 10 s; else 0.5 s
    of silence is read)."""
    port = await server.start("127.0.0.1", 0)
    reads: list[bytes] = []
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        await asyncio.to_thread(sock.sendall, first)
        reads.append(await asyncio.to_thread(_recv_some, sock, 10 if answered else 0.5))
        if then:
            await asyncio.to_thread(sock.sendall, then)
            reads.append(await asyncio.to_thread(_recv_some, sock, 0.5))
        for _ in range(3000):  # /next reached the app (directly or deferred)
            if app.release is not None:
                break
            await asyncio.sleep(0.01)
        assert app.release is not None, app.seen
        app.release.set_result(Response(200, [("Content-Type", "application/json")], b'{"event":1}'))
        reads.append(await asyncio.to_thread(_recv_some, sock, 10))
        return reads
    finally:
        sock.close()
        server.close()


def test_a_post_pipelined_with_next_is_answered_with_the_event():
    app = _App()
    reads = asyncio.run(_scenario(_server(app, hold=True), app, POST + NEXT))
    assert reads[0] == b"", reads  # nothing while the event is not there: the 202 is kept back
    assert reads[1].startswith(b"HTTP/1.1 202 Accepted\r\n"), reads
    head, _, rest = reads[1].partition(b'{"status":"OK"}')
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n") and rest.endswith(b'{"event":1}'), reads


def test_a_client_that_waits_for_each_answer_gets_it_at_once():
    app = _App()
    reads = asyncio.run(_scenario(_server(app, hold=True), app, POST, NEXT, answered=True))
    assert reads[0].startswith(b"HTTP/1.1 202 Accepted\r\n") and reads[0].endswith(b'{"status":"OK"}'), reads
    assert reads[1] == b"", reads  # /next pending
    assert reads[2].startswith(b"HTTP/1.1 200 OK\r\n"), reads


def test_without_hold_the_post_is_answered_before_the_event():
    app = _App()
    reads = asyncio.run(_scenario(_server(app, hold=False), app, POST + NEXT, answered=True))
    assert reads[0].startswith(b"HTTP/1.1 202 Accepted\r\n") and reads[0].endswith(b'{"status":"OK"}'), reads
    assert reads[1].startswith(b"HTTP/1.1 200 OK\r\n"), reads


def test_a_request_behind_an_answered_one_waits_for_defer():
    app = _App()
    deferred: list = []

    async def main():
        server = _server(app, hold=True, defer=deferred.append)
        task = asyncio.ensure_future(_scenario(server, app, POST + NEXT))
        for _ in range(3000):
            if deferred:
                break
            await asyncio.sleep(0.01)
        assert app.seen == ["/post"], app.seen  # /next was read and waits
        deferred.pop()()  # what Afterwards.run does once the caller's answer is written
        return await task

    reads = asyncio.run(main())
    assert app.seen == ["/post", "/next"]
    assert reads[0] == b"" and reads[1].startswith(b"HTTP/1.1 202 Accepted\r\n"), reads
    assert reads[1].endswith(b'{"event":1}'), reads


def test_a_closing_answer_still_writes_what_was_kept_back():
    """A post kept back, then the connection's final answer (a bad request): both, in order."""

    async def main() -> bytes:
        app = _App()
        server = _server(app, hold=True)
        port = await server.start("127.0.0.1", 0)
        sock = socket.create_connection(("127.0.0.1", port))
        try:
            await asyncio.to_thread(sock.sendall, POST + NEXT + b"\x00garbage\r\n\r\n")
            for _ in range(3000):
                if app.release is not None:
                    break
                await asyncio.sleep(0.01)
            app.release.set_result(Response(200, [], b"ev"))
            sock.settimeout(10)
            chunks = []
            while True:
                data = await asyncio.to_thread(sock.recv, 65536)
                if not data:
                    return b"".join(chunks)
                chunks.append(data)
        finally:
            sock.close()
            server.close()

    out = asyncio.run(main())
    first, _, rest = out.partition(b'{"status":"OK"}')
    assert first.startswith(b"HTTP/1.1 202 Accepted\r\n"), out
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n") and b"HTTP/1.1 400 Bad Request\r\n" in rest, out


def test_a_refusal_is_not_kept_back():
    """Only acceptances wait for the pipelined next: a refused post is answered at once (the runtime
    logs the refusal during the invocation it belongs to)."""
    app = _App()
    too_big = b"POST /too-big HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
    reads = asyncio.run(_scenario(_server(app, hold=True), app, too_big + NEXT, answered=True))
    assert reads[0].startswith(b"HTTP/1.1 413 ") and reads[0].endswith(b'{"errorType":"RequestTooLarge"}'), reads
    assert reads[1].startswith(b"HTTP/1.1 200 OK\r\n"), reads
