"""A small HTTP/1.1 server on asyncio and httptools.

It serves Lamb's public API port and every execution environment's Runtime API
listener, so it is on the invoke hot path twice per invocation. It does the
least work that is still correct HTTP/1.1: keep-alive, pipelining (requests on
one connection are answered in order), Content-Length and chunked request
bodies, a request-size ceiling, TCP_NODELAY on every connection (without it a
keep-alive round trip costs ~40 ms of Nagle plus delayed ACK).

An application is ``app(request) -> Response | Awaitable[Response]``. Returning a
plain ``Response`` costs no task; a future or coroutine is awaited.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from typing import Any, Awaitable, Callable, Iterable, Union

import httptools

_REASONS = {
    200: b"OK", 201: b"Created", 202: b"Accepted", 204: b"No Content",
    206: b"Partial Content", 302: b"Found", 304: b"Not Modified",
    400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found",
    405: b"Method Not Allowed", 409: b"Conflict", 410: b"Gone", 412: b"Precondition Failed",
    413: b"Request Entity Too Large", 415: b"Unsupported Media Type", 429: b"Too Many Requests",
    500: b"Internal Server Error", 502: b"Bad Gateway", 503: b"Service Unavailable",
    504: b"Gateway Timeout",
}


class Request:
    __slots__ = ("method", "path", "query", "headers", "body", "conn", "keep_alive", "too_large")

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, conn: "HttpConnection"):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.conn = conn
        self.keep_alive = True
        # The body was over the server's ceiling and was dropped; Content-Length says how big it was.
        self.too_large = False


class Response:
    """A complete response. ``body`` is sent as given (bytes are not copied).

    ``stream`` (an async iterator of bytes) sends a chunked body instead.
    """

    __slots__ = ("status", "headers", "body", "stream")

    def __init__(
        self,
        status: int = 200,
        headers: Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        stream: Any = None,
    ):
        self.status = status
        self.headers = headers or ()
        self.body = body
        self.stream = stream


App = Callable[[Request], Union[Response, Awaitable[Response]]]


def _head(status: int, headers: Iterable[tuple[str, str]], length: int | None, keep_alive: bool) -> bytes:
    parts = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))]
    for k, v in headers:
        parts.append(f"{k}: {v}\r\n".encode("latin-1"))
    if length is None:
        parts.append(b"Transfer-Encoding: chunked\r\n")
    else:
        parts.append(b"Content-Length: %d\r\n" % length)
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class HttpConnection(asyncio.Protocol):
    """One client connection. Parses requests and writes responses in order."""

    __slots__ = (
        "app", "server", "transport", "parser", "_url", "_headers", "_body", "_queue",
        "_busy", "_closed", "_too_large", "max_body", "context",
    )

    def __init__(self, app: App, server: "HttpServer", max_body: int):
        self.app = app
        self.server = server
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._queue: deque[Request] = deque()
        self._busy = False
        self._closed = False
        self._too_large = False
        # Free slot for the owner of the listener (the Runtime API puts its environment here).
        self.context: Any = server.context

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        route = self.server.route
        if route is not None:
            app = route(self, sock) if sock is not None else None
            if app is None:
                self._closed = True
                transport.close()
                return
            self.app = app
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self.server.connections.discard(self)
        hook = self.server.on_disconnect
        if hook is not None:
            hook(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._error_close(400)
        except httptools.HttpParserError:
            self._error_close(400)

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._too_large = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        val = value.decode("latin-1")
        prev = self._headers.get(key)
        self._headers[key] = val if prev is None else prev + "," + val

    def on_headers_complete(self) -> None:
        cl = self._headers.get("content-length")
        if cl is not None and cl.isdigit() and int(cl) > self.max_body:
            self._too_large = True

    def on_body(self, body: bytes) -> None:
        if self._too_large:
            return
        self._body.append(body)
        if len(self._body) > 1 and sum(map(len, self._body)) > self.max_body:
            self._too_large = True
            self._body = []

    def on_message_complete(self) -> None:
        url = self._url.decode("latin-1")
        path, _, query = url.partition("?")
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        req = Request(self.parser.get_method().decode("latin-1"), path, query, self._headers, body, self)
        keep = self.parser.should_keep_alive()
        req.too_large = self._too_large
        req.keep_alive = keep
        if self._busy:
            self._queue.append(req)
        else:
            self._dispatch(req)

    # -- dispatch
    def _dispatch(self, req: Request) -> None:
        self._busy = True
        try:
            result = self.app(req)
        except Exception as exc:  # the app must never take the connection down
            result = self.server.on_error(req, exc)
        if isinstance(result, Response):
            self._send(req, result)
            return
        fut = asyncio.ensure_future(result)
        fut.add_done_callback(lambda f, req=req: self._finish(req, f))

    def _finish(self, req: Request, fut: asyncio.Future) -> None:
        if fut.cancelled():
            if not self._closed and self.transport is not None:
                self.transport.close()
            return
        exc = fut.exception()
        resp = self.server.on_error(req, exc) if exc is not None else fut.result()
        self._send(req, resp)

    def _send(self, req: Request, resp: Response) -> None:
        keep = req.keep_alive and not self.server.closing
        if self._closed or self.transport is None:
            return
        if resp.stream is not None:
            self.transport.write(_head(resp.status, resp.headers, None, keep))
            asyncio.ensure_future(self._pump(resp.stream, keep))
            return
        body = resp.body
        head = _head(resp.status, resp.headers, len(body), keep)
        if req.method == "HEAD":
            self.transport.write(head)
        elif len(body) < 65536:
            self.transport.write(head + body)
        else:
            self.transport.writelines((head, body))
        self._after_response(keep)

    async def _pump(self, stream: Any, keep: bool) -> None:
        t = self.transport
        try:
            async for chunk in stream:
                if chunk and t is not None and not self._closed:
                    t.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if t is not None and not self._closed:
                t.write(b"0\r\n\r\n")
        except Exception:
            keep = False
        self._after_response(keep)

    def _after_response(self, keep: bool) -> None:
        self._busy = False
        if not keep:
            if self.transport is not None:
                self.transport.close()
            return
        if self._queue:
            self._dispatch(self._queue.popleft())

    def _error_close(self, status: int) -> None:
        if self.transport is not None and not self._closed:
            self.transport.write(_head(status, (), 0, False))
            self.transport.close()


def _default_on_error(req: Request, exc: BaseException) -> Response:
    return Response(500, [("Content-Type", "text/plain")], b"internal error")


class HttpServer:
    """Owns a listening socket and the connections accepted on it."""

    def __init__(
        self,
        app: App,
        *,
        max_body: int = 80 * 1024 * 1024,
        on_error: Callable[[Request, BaseException], Response] = _default_on_error,
        context: Any = None,
    ):
        self.app = app
        self.max_body = max_body
        self.on_error = on_error
        self.context = context
        self.on_disconnect: Callable[[HttpConnection], None] | None = None
        # Decides per new connection which app serves it, or None to refuse it (the
        # Runtime API picks the environment by the peer's uid).
        self.route: Callable[[HttpConnection, socket.socket], App | None] | None = None
        self.connections: set[HttpConnection] = set()
        self.closing = False
        self._server: asyncio.AbstractServer | None = None

    def _factory(self) -> HttpConnection:
        return HttpConnection(self.app, self, self.max_body)

    async def start(self, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None) -> int:
        loop = asyncio.get_running_loop()
        if sock is None:
            sock = bind_socket(host, port)
        self._server = await loop.create_server(self._factory, sock=sock, backlog=1024)
        return self.port

    async def add_socket(self, sock: socket.socket) -> asyncio.AbstractServer:
        """Also serve connections accepted on ``sock`` (a listener in an environment's network namespace)."""
        return await asyncio.get_running_loop().create_server(self._factory, sock=sock, backlog=1024)

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    def close(self) -> None:
        self.closing = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.close()
        self.connections.clear()


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock
