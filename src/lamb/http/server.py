"""A small HTTP/1.1 server on asyncio and httptools.

It serves Lamb's public API port and every execution environment's Runtime API
listener, so it is on the invoke hot path twice per invocation. It does the
least work that is still correct HTTP/1.1: keep-alive, pipelining (requests on
one connection are answered in order), Content-Length and chunked request
bodies, a request-size ceiling, TCP_NODELAY on every connection (without it a
keep-alive round trip costs ~40 ms of Nagle plus delayed ACK).

Bad clients are bounded: bytes that do not parse, a head over ``max_header_bytes``
(431, where set) and, where ``header_timeout`` is set, a head not complete or a body not
progressing within it (408) end the connection, but only after every response
already owed on it is written, in order (``_fail``). The final answer is followed
by a lingering close: the write side is shut and unread input discarded for a
moment, so the client reads the answer instead of a reset. ``large_body`` lets the
application refuse a request by its head alone (a 7 MB Invoke) before the body is read.

Streaming both ways: a request ``stream_body`` picks is dispatched when its head is
complete and gets its body as it arrives (``Request.stream``, ``body.py``, trailers
included); a ``Response`` with ``stream`` is sent chunked as the iterator yields, waiting
whenever the client's socket buffer is full (``pause_writing``), so neither direction
holds more than a bounded amount per connection (response streaming, issue 14).

Pipelining, for the Runtime API (``coalesce``, ``hold``, ``defer``): the answers one read produces
leave in one write; an answer is kept back while a later request on its connection is still being
answered, and leaves with that answer; a request pipelined behind one answered in the same read
waits for ``defer``. Lamb's transport for aws-lambda-ric posts a result and asks for the next event
in one write, so the runtime's post costs no wake-up of its own, and the caller's answer is written
before the next event is looked for.

An application is ``app(request) -> Response | Awaitable[Response]``. Returning a
plain ``Response`` costs no task; a future or coroutine is awaited.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import socket
import time
from collections import deque
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Iterable, Union

import httptools

from .body import BodyStream

log = logging.getLogger("lamb.http")

# Every status a function or integration may answer with has its reason phrase (a 301 or 401 too); 413 and
# 422 keep the wording AWS's endpoints send, which Python 3.13 changed ("Content Too Large").
_REASONS = {
    **{s.value: s.phrase.encode() for s in HTTPStatus},
    413: b"Request Entity Too Large", 422: b"Unprocessable Entity",
}


class Request:
    __slots__ = ("method", "path", "query", "headers", "body", "conn", "keep_alive", "too_large", "stream", "upgrade")

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
        # The body as it arrives, for a request ``HttpServer.stream_body`` chose (``body`` is then empty).
        self.stream: BodyStream | None = None
        # The request asks to switch protocols (``Upgrade``); the app answers a ``Switch`` to accept.
        self.upgrade = False

    @property
    def over_tls(self) -> bool:
        """Whether the request came over TLS (the TLS port: ``aws:SecureTransport``)."""
        t = self.conn.transport
        return t is not None and t.get_extra_info("ssl_object") is not None


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


class Switch(Response):
    """The answer that accepts an upgrade request: ``101 Switching Protocols`` with ``headers``,
    then the connection's bytes belong to ``protocol`` (``connection_made(transport, buffered)``,
    ``data_received(data)``, ``connection_lost(exc)``; the WebSocket connections of apis/websocket.py)."""

    __slots__ = ("protocol",)

    def __init__(self, headers: Iterable[tuple[str, str]], protocol: Any):
        super().__init__(101, headers)
        self.protocol = protocol


class Pending:
    """An answer not ready yet, written the moment it is: ``set_result`` writes it before it returns
    (an asyncio future's callbacks would wait for the loop's next turn). The Runtime API's long-polled
    ``next``, whose event is on every invocation's path, is one, and so is an HTTP API's answer from a
    function (``http/answering.py``). ``await`` works as on a future."""

    __slots__ = ("_result", "_cancelled", "_callbacks", "_future")

    def __init__(self) -> None:
        self._result: Response | None = None
        self._cancelled = False
        self._callbacks: list[Callable[["Pending"], None]] = []
        self._future: asyncio.Future | None = None

    def done(self) -> bool:
        return self._result is not None or self._cancelled

    def cancelled(self) -> bool:
        return self._cancelled

    def result(self) -> Response:
        if self._cancelled:
            raise asyncio.CancelledError()
        if self._result is None:
            raise asyncio.InvalidStateError("not ready")
        return self._result

    def set_result(self, response: Response) -> None:
        if self.done():
            raise asyncio.InvalidStateError("already done")
        self._result = response
        self._fire()

    def cancel(self) -> bool:
        if self.done():
            return False
        self._cancelled = True
        self._fire()
        return True

    def when_done(self, callback: Callable[["Pending"], None]) -> None:
        """``callback(self)`` once done: at once if it is, else inside ``set_result``/``cancel``; callbacks
        run in the order they were given (the connection that writes the answer gives its own last)."""
        self._callbacks.append(callback)
        if self.done():
            self._fire()

    def _fire(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback(self)
            except Exception:  # noqa: BLE001 - whoever completed it must not fail for the writer
                log.exception("writing an answer failed")
        fut = self._future
        if fut is not None and not fut.done():
            if self._cancelled:
                fut.cancel()
            else:
                fut.set_result(self._result)

    def __await__(self):
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
            if self.done():
                self._fire()
        return self._future.__await__()


App = Callable[[Request], Union[Response, Pending, Awaitable[Response]]]

# Seconds a refused connection keeps discarding input after its last answer (lingering close).
LINGER_S = 2.0


class _Stop(Exception):
    """Raised inside a parser callback once the connection has its final answer."""


_date: list = [0, b""]


def _date_line() -> bytes:
    """``Date: <IMF-fixdate>`` (RFC 9110 §6.6.1: an origin server with a clock sends it; AWS's endpoints and
    the Runtime API do), formatted once per second."""
    now = int(time.time())
    if _date[0] != now:
        _date[0], _date[1] = now, b"Date: %s\r\n" % email.utils.formatdate(now, usegmt=True).encode()
    return _date[1]


def _status_and_headers(status: int, headers: Iterable[tuple[str, str]]) -> list[bytes]:
    """The status line and the header lines, with a ``Date`` unless the application gave its own."""
    parts = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))]
    dated = False
    for k, v in headers:
        parts.append(f"{k}: {v}\r\n".encode("latin-1"))
        if not dated and len(k) == 4 and k.lower() == "date":
            dated = True
    if not dated:
        parts.append(_date_line())
    return parts


def _head(status: int, headers: Iterable[tuple[str, str]], length: int | None, keep_alive: bool) -> bytes:
    parts = _status_and_headers(status, headers)
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
        "_head_bytes", "_in_head", "_in_body", "_timer", "_last_read", "_final", "_stopped",
        "_stream", "_trailers", "_drained", "_upgraded", "_held", "_batch", "_unsent", "_urgent",
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
        # Guarding against slow, huge or broken input (see the module docstring).
        self._head_bytes = 0  # bytes received while a head was incomplete (approximate)
        self._in_head = False  # a request has begun and its head is not complete
        self._in_body = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._final: Response | None = None  # the answer that ends the connection, after those owed
        self._stopped = False  # input is no longer parsed
        self._stream: BodyStream | None = None  # the body being streamed to the application
        self._trailers: dict[str, str] = {}
        self._drained: asyncio.Future | None = None  # set while the transport's write buffer is full
        self._upgraded: Any = None  # the protocol a ``Switch`` handed this connection to
        self._held: list[bytes] | None = None  # bytes after an upgrade request, until it is answered
        # Answers written while one read is parsed (``HttpServer.coalesce``): they leave in one write.
        self._batch: list[bytes] | None = None
        # Answers kept back while a later request on the connection is pending (``HttpServer.hold``).
        self._unsent: list[bytes] = []
        # An answer of the current read that must not wait (not 2xx: the client acts on it at once).
        self._urgent = False
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
        if self.server.header_timeout:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._unsent.clear()
        if self._upgraded is not None:
            self._upgraded.connection_lost(exc)
        if self._stream is not None:
            self._stream.abort()
            self._stream = None
        self._wake_writer()
        self._cancel_timer()
        self.server.connections.discard(self)
        hook = self.server.on_disconnect
        if hook is not None:
            hook(self)

    # Flow control of what this connection writes (a streamed response waits for the client).
    def pause_writing(self) -> None:
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_writer()
        if self._upgraded is not None and hasattr(self._upgraded, "resume_writing"):
            self._upgraded.resume_writing()

    def _wake_writer(self) -> None:
        d = self._drained
        self._drained = None
        if d is not None and not d.done():
            d.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._upgraded is not None:
            self._upgraded.data_received(data)
            return
        if self._held is not None:  # the upgrade request is being answered
            self._held.append(data)
            return
        if self._stopped:
            return  # lingering: discard
        if self._in_body:
            if self._timer is not None:
                self._last_read = asyncio.get_running_loop().time()  # progress: the body timer starts over
        else:
            self._head_bytes += len(data)
        if self.server.coalesce:
            self._batch = []
            try:
                self._feed(data)
            finally:
                self._flush_batch()
        else:
            self._feed(data)

    def _flush_batch(self) -> None:
        """Write what the answers of one read produced, in one write; or keep it back while a later
        request of the connection is still being answered (``HttpServer.hold``)."""
        batch, self._batch = self._batch, None
        urgent, self._urgent = self._urgent, False
        if not batch:
            return
        if self.server.hold and not urgent and (self._busy or self._queue) and not self._closed:
            self._unsent.extend(batch)
        else:
            self._write(b"".join(batch))

    def _write(self, data: bytes) -> None:
        """Every write of the connection: batched while a read is parsed, after what was kept back."""
        if self._batch is not None:
            self._batch.append(data)
            return
        t = self.transport
        if t is None:
            return
        if self._unsent:
            data = b"".join(self._unsent) + data
            self._unsent.clear()
        t.write(data)

    def _flush_now(self) -> None:
        """Write what is batched or kept back at once (before the connection ends or changes hands)."""
        batch, self._batch = self._batch, None
        if batch or self._unsent:
            self._write(b"".join(batch or ()))

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            # on_message_complete dispatched the request (``Request.upgrade``); what follows its head
            # waits for the answer: a ``Switch`` gets it, any other answer closes the connection.
            offset = e.args[0] if e.args and isinstance(e.args[0], int) else len(data)
            self._cancel_timer()
            rest = data[offset:]
            if self._upgraded is not None:  # switched already (an app that answered at once)
                if rest:
                    self._upgraded.data_received(rest)
            elif self._held is not None and rest:
                self._held.append(rest)
            return
        except httptools.HttpParserError as e:
            if not self._stopped:  # _Stop from a callback already chose the answer
                self._fail(400, f"Malformed HTTP request: {e}")
            return
        if self._in_head:
            limit = self.server.max_header_bytes
            if limit is not None and self._head_bytes > limit:
                self._fail(431, f"Request headers must be smaller than {limit} bytes")
            elif self._timer is None and self.server.header_timeout:
                self._arm()
        elif self._in_body and self._timer is None and self.server.header_timeout:
            self._arm()  # the rest of the body must keep coming

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []
        self._too_large = False
        self._in_head = True

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        val = value.decode("latin-1")
        if self._stream is not None:  # a trailer of a streamed chunked body
            self._trailers[key] = val
            return
        prev = self._headers.get(key)
        self._headers[key] = val if prev is None else prev + "," + val

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._in_body = True
        self._head_bytes = 0
        if self._timer is not None:
            self._cancel_timer()
        cl = self._headers.get("content-length")
        if cl is not None and cl.isdigit():
            n = int(cl)
            server = self.server
            if server.large_body is not None and n > server.large_body_bytes:
                refusal = server.large_body(self.parser.get_method().decode("latin-1"),
                                            self._url.decode("latin-1"), self._headers, n)
                if refusal is not None:
                    self._fail(refusal.status, "", refusal)
                    raise _Stop
            if n > self.max_body:
                self._too_large = True
        chooser = self.server.stream_body
        if chooser is not None and not self._busy and not self._queue and not self._too_large:
            url = self._url.decode("latin-1")
            path, _, query = url.partition("?")
            req = Request(self.parser.get_method().decode("latin-1"), path, query, self._headers, b"", self)
            if chooser(req):
                t = self.transport
                assert t is not None
                req.keep_alive = self.parser.should_keep_alive()
                req.stream = self._stream = BodyStream(t.pause_reading, t.resume_reading)
                self._trailers = {}
                if self._headers.get("expect", "").lower() == "100-continue":
                    self._write(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl -T - waits a second for it otherwise
                self._dispatch(req)

    def on_body(self, body: bytes) -> None:
        if self._stream is not None:
            self._stream.feed(body)
            return
        if self._too_large:
            return
        self._body.append(body)
        if len(self._body) > 1 and sum(map(len, self._body)) > self.max_body:
            self._too_large = True
            self._body = []

    def on_message_complete(self) -> None:
        self._in_body = False
        self._head_bytes = 0
        if self._timer is not None:
            self._cancel_timer()
        if self._stream is not None:  # already dispatched when its head was complete
            stream, self._stream = self._stream, None
            stream.finish(self._trailers)
            return
        url = self._url.decode("latin-1")
        path, _, query = url.partition("?")
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        req = Request(self.parser.get_method().decode("latin-1"), path, query, self._headers, body, self)
        keep = self.parser.should_keep_alive()
        req.too_large = self._too_large
        if self.parser.should_upgrade():
            req.upgrade = True
            keep = False
            self._held = []  # what follows the head waits for the answer (data_received)
        req.keep_alive = keep
        if self._busy or self._queue:
            self._queue.append(req)
        elif self._batch and self.server.defer is not None:
            # Behind a request this read has answered: dispatched once the answer the loop owes a
            # caller is written (the Runtime API's next after a response: the caller's answer first).
            self._queue.append(req)
            self.server.defer(self._dispatch_queued)
        else:
            self._dispatch(req)

    def _dispatch_queued(self) -> None:
        if not self._busy and self._queue and not self._closed:
            self._dispatch(self._queue.popleft())

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
        if isinstance(result, Pending):
            result.when_done(lambda p, req=req: self._finish(req, p))
            return
        fut = asyncio.ensure_future(result)
        fut.add_done_callback(lambda f, req=req: self._finish(req, f))

    def _finish(self, req: Request, fut: "asyncio.Future | Pending") -> None:
        if fut.cancelled():
            if not self._closed and self.transport is not None:
                self.transport.close()
            return
        exc = None if isinstance(fut, Pending) else fut.exception()
        resp = self.server.on_error(req, exc) if exc is not None else fut.result()
        self._send(req, resp)

    def _send(self, req: Request, resp: Response) -> None:
        keep = req.keep_alive and not self.server.closing
        if req.stream is not None and not req.stream.ended:
            req.stream.discard()  # answered before its body ended: the rest is not wanted
        if self._closed or self.transport is None:
            return
        if isinstance(resp, Switch):
            self._switch(req, resp)
            return
        if resp.stream is not None:
            self._write(_head(resp.status, resp.headers, None, keep))
            if req.method == "HEAD":  # no body: the stream is not read
                close = getattr(resp.stream, "aclose", None)
                if close is not None:
                    asyncio.ensure_future(close())
                self._after_response(keep)
                return
            asyncio.ensure_future(self._pump(resp.stream, keep))
            return
        body = resp.body
        if resp.status >= 300 and self._batch is not None:
            self._urgent = True  # a refusal is not kept back (``hold``): the runtime logs it when it comes
        head = _head(resp.status, resp.headers, len(body), keep)
        if req.method == "HEAD":
            self._write(head)
        elif len(body) < 65536 or self._batch is not None or self._unsent:
            self._write(head + body)
        else:
            self.transport.writelines((head, body))
        after = self.server.after_answer
        if after is not None:
            after()
        self._after_response(keep)

    def _switch(self, req: Request, resp: Switch) -> None:
        """Hand the connection to ``resp.protocol`` after writing the 101 (an upgrade request only)."""
        t = self.transport
        assert t is not None
        if not req.upgrade or self._queue:
            t.close()  # a Switch answers an upgrade request that is the last on its connection, only
            return
        self._write(b"".join(_status_and_headers(101, resp.headers)) + b"\r\n")
        self._flush_now()
        held, self._held = b"".join(self._held or ()), None
        self._busy = False
        self._stopped = True
        self._cancel_timer()
        self._upgraded = resp.protocol
        resp.protocol.connection_made(t, held)

    async def _pump(self, stream: Any, keep: bool) -> None:
        """Write a chunked body as ``stream`` yields it, waiting for the client when its
        buffer is full; an exception from ``stream`` ends the connection without the last
        chunk (the client sees the body cut), and a client gone ends the stream early."""
        t = self.transport
        try:
            async for chunk in stream:
                if self._closed or t is None:
                    break
                if chunk:
                    self._write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    if self._drained is not None:
                        await self._drained
            if t is not None and not self._closed:
                self._write(b"0\r\n\r\n")
        except Exception:
            log.debug("streamed response ended by an error", exc_info=True)
            keep = False
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        if self._closed:
            return
        self._after_response(keep)

    def _after_response(self, keep: bool) -> None:
        self._busy = False
        if not keep:
            if self.transport is not None:
                self._flush_now()
                self.transport.close()
            return
        if self._queue:
            self._dispatch(self._queue.popleft())
        elif self._final is not None:
            self._write_final(self._final)

    # -- bad input
    def _fail(self, status: int, message: str, response: Response | None = None) -> None:
        """End the connection with ``status``, after the responses already owed on it."""
        if self._stopped:
            return
        self._stopped = True
        self._cancel_timer()
        self._final = response or self.server.protocol_error(status, message)
        if not self._busy and not self._queue:
            self._write_final(self._final)

    def _write_final(self, resp: Response) -> None:
        self._final = None
        t = self.transport
        if t is None or self._closed:
            return
        self._write(_head(resp.status, resp.headers, len(resp.body), False) + resp.body)
        self._flush_now()
        if t.can_write_eof():
            t.write_eof()
        asyncio.get_running_loop().call_later(LINGER_S, t.close)

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._last_read = loop.time()
        self._timer = loop.call_at(self._last_read + self.server.header_timeout, self._timed_out)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if self._in_body:
            # The body timer restarts from the last read that made progress.
            due = self._last_read + self.server.header_timeout
            loop = asyncio.get_running_loop()
            if due > loop.time():
                self._timer = loop.call_at(due, self._timed_out)
                return
        elif not self._in_head and (self._busy or self._queue):
            return  # between requests, answering: not the client's delay
        self._fail(408, f"No complete request within {self.server.header_timeout:g} seconds")


def _default_on_error(req: Request, exc: BaseException) -> Response:
    return Response(500, [("Content-Type", "text/plain")], b"internal error")


def _default_protocol_error(status: int, message: str) -> Response:
    return Response(status, [("Content-Type", "text/plain")], message.encode("utf-8", "replace"))


class HttpServer:
    """Owns a listening socket and the connections accepted on it."""

    def __init__(
        self,
        app: App,
        *,
        max_body: int = 80 * 1024 * 1024,
        on_error: Callable[[Request, BaseException], Response] = _default_on_error,
        context: Any = None,
        header_timeout: float | None = None,
        max_header_bytes: int | None = None,
        protocol_error: Callable[[int, str], Response] = _default_protocol_error,
        large_body: Callable[[str, str, dict[str, str], int], Response | None] | None = None,
        large_body_bytes: int = 0,
    ):
        self.app = app
        self.max_body = max_body
        self.on_error = on_error
        self.context = context
        # Seconds a request's head may take, and a body may go without progress (None: no limit).
        self.header_timeout = header_timeout
        # The largest head (None: no limit; the Runtime API takes awslambdaric's error-cause
        # header, up to 1 MB).
        self.max_header_bytes = max_header_bytes
        # The answer to input that ends a connection: (status, message) -> Response.
        self.protocol_error = protocol_error
        # Asked when a Content-Length is over large_body_bytes, with (method, url, headers,
        # length): a Response refuses the request before its body is read.
        self.large_body = large_body
        self.large_body_bytes = large_body_bytes
        self.on_disconnect: Callable[[HttpConnection], None] | None = None
        # Called after each complete answer is written (``afterwards.Afterwards.run``: work that
        # follows a caller's answer, such as an invocation's REPORT).
        self.after_answer: Callable[[], None] | None = None
        # Decides per new connection which app serves it, or None to refuse it (the
        # Runtime API picks the environment by the peer's uid).
        self.route: Callable[[HttpConnection, socket.socket], App | None] | None = None
        # Decides, once a request's head is complete, whether the application gets its body
        # as it arrives (``Request.stream``) instead of whole; None: every body is whole.
        self.stream_body: Callable[[Request], bool] | None = None
        self.connections: set[HttpConnection] = set()
        # Answers produced while one read is parsed leave in one write (pipelined requests).
        self.coalesce = False
        # With ``coalesce``: answers are kept back while a later request on the same connection is
        # still being answered, and leave with its answer. For a client that pipelines a request it
        # will wait on behind ones whose answers it does not wait for (the Runtime API's transport
        # for Node.js posts a response and asks for the next event in one write: one wake-up).
        self.hold = False
        # With ``coalesce``: how a request pipelined behind one answered in the same read is put off
        # (``Afterwards.add``: until the next answer to a caller is written); None: dispatched at once.
        self.defer: Callable[[Callable[[], None]], None] | None = None
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

    async def serve_accepted(self, sock: socket.socket, ssl: Any) -> None:
        """Serve one connection accepted elsewhere, wrapped in TLS with ``ssl`` (an ``ssl.SSLContext``) first:
        the TLS port's (http/tls.py). Returns once the handshake is done; raises when it fails."""
        await asyncio.get_running_loop().connect_accepted_socket(self._factory, sock, ssl=ssl)

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
