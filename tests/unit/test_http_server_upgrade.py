"""The HTTP server's protocol switch: an upgrade request answered with a ``Switch`` hands the socket
(and the bytes that followed the request's head) to another protocol; any other answer closes it."""

from __future__ import annotations

import asyncio
import re
import socket

from lamb.http.server import HttpServer, Response, Switch

from .test_http_server_bad_input import _read_all

UPGRADE = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"


class Upper:
    """Echoes what it gets, upper-cased; records what the server told it."""

    def __init__(self) -> None:
        self.buffered: bytes | None = None
        self.lost = asyncio.Event()
        self.transport = None

    def connection_made(self, transport, buffered: bytes) -> None:
        self.transport = transport
        self.buffered = buffered
        if buffered:
            transport.write(buffered.upper())

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())

    def connection_lost(self, exc) -> None:
        self.lost.set()


def _recv_until(sock: socket.socket, marker: bytes) -> bytes:
    sock.settimeout(30)
    out = b""
    while marker not in out:
        data = sock.recv(65536)
        if not data:
            break
        out += data
    return out


def _run(app, talk):
    async def main():
        server = HttpServer(app)
        port = await server.start("127.0.0.1", 0)
        try:
            return await asyncio.to_thread(talk, port)
        finally:
            server.close()

    return asyncio.run(main())


def test_switch_hands_over_the_socket_with_the_early_bytes():
    protocols: list[Upper] = []
    seen = []

    def app(req):
        seen.append((req.upgrade, req.keep_alive))
        protocols.append(Upper())
        return Switch([("Upgrade", "test"), ("Connection", "Upgrade")], protocols[-1])

    def talk(port):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(UPGRADE + b"early;")
            head = _recv_until(s, b"EARLY;")
            s.sendall(b"later")
            rest = _recv_until(s, b"LATER")
        return head, rest

    head, rest = _run(app, talk)
    assert re.match(rb"HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n"
                    rb"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n\r\n", head), head  # dated, as every answer
    assert b"Content-Length" not in head and head.endswith(b"EARLY;")
    assert rest == b"LATER"
    assert seen == [(True, False)]


def test_a_switch_from_a_coroutine_gets_the_bytes_held_meanwhile():
    protocols: list[Upper] = []

    async def app(req):
        await asyncio.sleep(0.01)
        protocols.append(Upper())
        return Switch([("Upgrade", "test")], protocols[-1])

    def talk(port):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(UPGRADE + b"held;")
            head = _recv_until(s, b"HELD;")
            s.sendall(b"abc")
            return head, _recv_until(s, b"ABC")

    head, echoed = _run(app, talk)
    assert head.startswith(b"HTTP/1.1 101 ") and head.endswith(b"\r\n\r\nHELD;") and echoed == b"ABC"
    assert protocols[0].buffered == b"held;"


def test_any_other_answer_to_an_upgrade_closes_the_connection():
    def app(req):
        return Response(400, [("Content-Type", "text/plain")], b"Upgrade is not supported")

    def talk(port):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(UPGRADE + b"ignored")
            return _read_all(s)

    out = _run(app, talk)
    assert out.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"Connection: close" in out
    assert out.endswith(b"Upgrade is not supported")


def test_a_switch_for_a_plain_request_closes_without_switching():
    def app(req):
        return Switch([("Upgrade", "test")], Upper())

    def talk(port):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            return _read_all(s)

    assert _run(app, talk) == b""
