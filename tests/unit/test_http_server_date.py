"""Every answer carries a ``Date`` (RFC 9110: an origin server with a clock sends one, as AWS's
endpoints do), unless the application gave its own, and its status's reason phrase."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time

from lamb.http.server import HttpServer, Response


def _ask(app) -> bytes:
    async def main() -> bytes:
        server = HttpServer(app)
        port = await server.start("127.0.0.1", 0)
        try:
            def talk() -> bytes:
                with socket.create_connection(("127.0.0.1", port)) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    s.settimeout(10)
                    out = b""
                    while chunk := s.recv(65536):
                        out += chunk
                    return out
            return await asyncio.to_thread(talk)
        finally:
            server.close()

    return asyncio.run(main())


def _headers(raw: bytes) -> list[tuple[str, str]]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return [tuple(part.strip() for part in line.split(":", 1)) for line in head]  # type: ignore[misc]


def test_an_answer_is_dated():
    before = time.time()
    dates = [v for k, v in _headers(_ask(lambda req: Response(200, [], b"ok"))) if k.lower() == "date"]
    assert len(dates) == 1, dates
    when = email.utils.parsedate_to_datetime(dates[0]).timestamp()
    assert dates[0].endswith(" GMT") and before - 1 <= when <= time.time() + 1


def test_the_applications_own_date_is_kept_alone():
    own = "Tue, 01 Dec 2026 10:00:00 GMT"
    headers = _headers(_ask(lambda req: Response(200, [("date", own)], b"ok")))
    assert [v for k, v in headers if k.lower() == "date"] == [own]


def test_every_status_has_its_reason_phrase():
    """Whatever status a function or integration answers with (a redirect, a 401) is named; 413 keeps the
    wording AWS's endpoints send on every Python (3.13's HTTPStatus says "Content Too Large")."""
    for status, line in ((301, b"HTTP/1.1 301 Moved Permanently\r\n"), (401, b"HTTP/1.1 401 Unauthorized\r\n"),
                         (413, b"HTTP/1.1 413 Request Entity Too Large\r\n"), (599, b"HTTP/1.1 599 Unknown\r\n")):
        assert _ask(lambda req, status=status: Response(status, [], b"")).startswith(line), status
