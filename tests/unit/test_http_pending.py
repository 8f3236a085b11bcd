"""``http.server.Pending``: an answer written inside ``set_result`` (no turn of the loop in between),
awaitable like a future, and a cancel that ends the connection."""

from __future__ import annotations

import asyncio
import socket

from lamb.http.server import HttpServer, Pending, Response


def test_the_answer_is_written_before_set_result_returns():
    async def main() -> tuple[bytes, list]:
        waiting: list[Pending] = []

        def app(req):
            p = Pending()
            waiting.append(p)
            return p

        server = HttpServer(app)
        port = await server.start("127.0.0.1", 0)
        sock = socket.create_connection(("127.0.0.1", port))
        try:
            await asyncio.to_thread(sock.sendall, b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
            for _ in range(3000):
                if waiting:
                    break
                await asyncio.sleep(0.01)
            conn = next(iter(server.connections))
            written: list = []
            real = conn.transport.write
            conn.transport.write = lambda data: (written.append(data), real(data))  # type: ignore[method-assign]
            waiting[0].set_result(Response(200, [], b"event"))
            seen_at_return = list(written)  # no await since set_result: written synchronously
            sock.settimeout(10)
            return await asyncio.to_thread(sock.recv, 65536), seen_at_return
        finally:
            sock.close()
            server.close()

    data, seen = asyncio.run(main())
    assert len(seen) == 1 and seen[0].endswith(b"event")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"event")


def test_await_and_cancel():
    async def main():
        p = Pending()
        asyncio.get_running_loop().call_soon(p.set_result, Response(204))
        got = await p
        assert got.status == 204 and p.done() and not p.cancelled()
        q = Pending()
        calls = []
        q.when_done(calls.append)
        assert q.cancel() and q.cancelled() and calls == [q]
        assert not q.cancel()
        try:
            await q
        except asyncio.CancelledError:
            return "cancelled"

    assert asyncio.run(main()) == "cancelled"


def test_callbacks_run_in_the_order_given():
    """The server's own callback (writing the answer) comes after those its app gave (HTTP APIs queue
    their access log line there), and a failing callback does not stop the rest."""
    p = Pending()
    seen: list = []
    p.when_done(lambda q: seen.append("first"))
    p.when_done(lambda q: 1 / 0)
    p.when_done(lambda q: seen.append(q.result().status))
    p.set_result(Response(201))
    assert seen == ["first", 201]
    p.when_done(lambda q: seen.append("late"))  # given when done: at once
    assert seen == ["first", 201, "late"]
