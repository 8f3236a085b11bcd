"""The Telemetry API (2022-07-01) of one execution environment.

https://docs.aws.amazon.com/lambda/latest/dg/telemetry-api.html: an extension subscribes
with ``PUT /2022-07-01/telemetry`` (its ``Lambda-Extension-Identifier``; body: schemaVersion,
``types`` among platform/function/extension, ``buffering`` {maxItems, maxBytes, timeoutMs}
and an HTTP ``destination``). Lamb then POSTs JSON arrays of ``{"time", "type", "record"}``
events to the destination, a batch whenever maxItems or maxBytes is reached or timeoutMs
has passed since its first event. Events from the start of Init are kept until the first
subscription, so a subscriber made during Init sees ``platform.initStart``. Record shapes are
AWS's schema (https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html).

Destinations are HTTP listeners inside the environment; ``sandbox.localdomain`` (the
name AWS's samples bind to) is reached at 127.0.0.1, the address it has inside environments,
through ``connect`` (the sandbox's: from inside the environment's own network namespace when
it has one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from .. import aio
from ..clock import iso_ms
from ..http.server import Request, Response
from ..limits import Limits
from .extensions import api_error

PATH = "/2022-07-01/telemetry"
TYPES = ("platform", "function", "extension")
SANDBOX_HOST = "sandbox.localdomain"
BACKLOG_MAX = 1000  # events kept for the first subscriber

log = logging.getLogger("lamb.telemetry")


@dataclass(eq=False)
class Subscription:
    extension: str
    types: frozenset[str]
    host: str
    port: int
    path: str
    max_items: int
    max_bytes: int
    timeout_ms: int
    batch: list[bytes] = field(default_factory=list)
    batch_bytes: int = 0
    timer: asyncio.TimerHandle | None = None
    sending: asyncio.Task | None = None
    outbox: list[list[bytes]] = field(default_factory=list)


class Telemetry:
    """Subscriptions and event fan-out. ``extension_name(req)`` says which registered extension
    made a request (or is AWS's 403 answer for an unknown identifier)."""

    def __init__(self, limits: Limits, extension_name: Callable[[Request], "str | Response"], enabled: bool = False,
                 connect: Callable[[str, int], Awaitable[tuple]] = asyncio.open_connection):
        self.limits = limits
        self.connect = connect  # (host, port) -> (reader, writer), in the environment's network
        self.enabled = enabled  # the environment has (or may have) subscribers: record its events
        self.extension_name = extension_name
        self.subscriptions: list[Subscription] = []
        self.backlog: list[tuple[str, bytes]] = []  # (kind, encoded event) before any subscription
        self.subscribed_once = False

    # ------------------------------------------------------------- subscribe
    def handle(self, req: Request) -> Response:
        if req.method != "PUT":
            return api_error(405, "InvalidRequest", "Method not allowed")
        name = self.extension_name(req)
        if isinstance(name, Response):
            return name
        try:
            sub = self._parse(name, json.loads(req.body or b"{}"))
        except (ValueError, TypeError, AttributeError) as e:
            return api_error(400, "ValidationError", str(e))
        self.subscriptions = [s for s in self.subscriptions if s.extension != name] + [sub]
        self.emit("platform", "platform.telemetrySubscription", {"name": name, "state": "Subscribed", "types": sorted(sub.types)})
        self.subscribed_once = True
        for kind, data in self.backlog:
            if kind in sub.types:
                self._add(sub, data)
        return Response(200, [("Content-Type", "text/plain")], b"OK")

    def _parse(self, name: str, body: dict) -> Subscription:
        lim = self.limits
        types = body.get("types")
        if not isinstance(types, list) or not types or any(t not in TYPES for t in types):
            raise ValueError(f"types must be a non-empty list of {', '.join(TYPES)}")
        dest = body.get("destination") or {}
        if dest.get("protocol") != "HTTP":
            raise ValueError("destination.protocol must be HTTP")
        url = urlsplit(str(dest.get("URI", "")))
        if url.scheme != "http" or not url.hostname or not url.port:
            raise ValueError("destination.URI must be http://host:port/path")
        buf = body.get("buffering") or {}
        items = int(buf.get("maxItems", lim.telemetry_max_items_default))
        size = int(buf.get("maxBytes", lim.telemetry_max_bytes_default))
        timeout = int(buf.get("timeoutMs", lim.telemetry_timeout_ms_default))
        for label, value, lo, hi in (
            ("maxItems", items, lim.telemetry_max_items_min, lim.telemetry_max_items_max),
            ("maxBytes", size, lim.telemetry_max_bytes_min, lim.telemetry_max_bytes_max),
            ("timeoutMs", timeout, lim.telemetry_timeout_ms_min, lim.telemetry_timeout_ms_max),
        ):
            if not lo <= value <= hi:
                raise ValueError(f"buffering.{label} must be between {lo} and {hi}")
        host = "127.0.0.1" if url.hostname == SANDBOX_HOST else url.hostname
        return Subscription(name, frozenset(types), host, url.port, url.path or "/", items, size, timeout)

    # ----------------------------------------------------------------- events
    def emit(self, kind: str, event_type: str, record: object, ts_ms: int | None = None) -> None:
        """One event of ``kind`` (platform/function/extension) to every subscriber of that kind."""
        if not self.subscriptions and self.subscribed_once:
            return
        when = ts_ms / 1000.0 if ts_ms is not None else time.time()
        data = json.dumps({"time": iso_ms(when), "type": event_type, "record": record}).encode()
        if not self.subscribed_once:
            if len(self.backlog) < BACKLOG_MAX:
                self.backlog.append((kind, data))
            return
        for sub in self.subscriptions:
            if kind in sub.types:
                self._add(sub, data)

    def _add(self, sub: Subscription, data: bytes) -> None:
        sub.batch.append(data)
        sub.batch_bytes += len(data) + 1
        if len(sub.batch) >= sub.max_items or sub.batch_bytes >= sub.max_bytes:
            self._flush(sub)
        elif sub.timer is None:
            sub.timer = asyncio.get_event_loop().call_later(sub.timeout_ms / 1000.0, self._flush, sub)

    def _flush(self, sub: Subscription) -> None:
        if sub.timer is not None:
            sub.timer.cancel()
            sub.timer = None
        if not sub.batch:
            return
        sub.outbox.append(sub.batch)
        sub.batch, sub.batch_bytes = [], 0
        if sub.sending is None or sub.sending.done():
            sub.sending = asyncio.ensure_future(self._send(sub))

    async def _send(self, sub: Subscription) -> None:
        """POST each batch in order; a destination that is not listening loses its batch (as on AWS)."""
        while sub.outbox:
            batch = sub.outbox.pop(0)
            body = b"[" + b",".join(batch) + b"]"
            try:
                reader, writer = await self.connect(sub.host, sub.port)
                head = (f"POST {sub.path} HTTP/1.1\r\nHost: {SANDBOX_HOST}:{sub.port}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
                writer.write(head.encode() + body)
                await writer.drain()
                await aio.wait_for(reader.read(), 5.0)
                writer.close()
            except (OSError, TimeoutError) as e:
                log.debug("telemetry destination %s:%s: %s", sub.host, sub.port, e)

    def flush_all(self) -> None:
        for sub in self.subscriptions:
            self._flush(sub)

    def close(self) -> None:
        for sub in self.subscriptions:
            if sub.timer is not None:
                sub.timer.cancel()
                sub.timer = None


# ----------------------------------------------------------- platform records
def span(name: str, start_s: float, duration_ms: float) -> dict:
    return {"name": name, "start": iso_ms(start_s), "durationMs": round(duration_ms, 3)}


def tracing(trace_id: str | None) -> dict | None:
    return {"type": "X-Amzn-Trace-Id", "value": trace_id} if trace_id else None


def report_record(request_id: str, status: str, duration_ms: float, billed_ms: int, memory_mb: int, max_used_mb: int,
                  init_ms: float | None, error_type: str | None, trace_id: str | None) -> dict:
    """``platform.report``: the whole invoke phase (runtime and extensions)."""
    metrics: dict = {"durationMs": round(duration_ms, 3), "billedDurationMs": billed_ms,
                     "memorySizeMB": memory_mb, "maxMemoryUsedMB": max_used_mb}
    if init_ms is not None:
        metrics["initDurationMs"] = round(init_ms, 3)
    rec: dict = {"requestId": request_id, "status": status, "metrics": metrics}
    if error_type:
        rec["errorType"] = error_type
    if trace_id:
        rec["tracing"] = tracing(trace_id)
    return rec
