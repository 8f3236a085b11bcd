"""The Telemetry API of one environment (lamb.invoke.telemetry): subscriptions, validation,
buffering and delivery to an HTTP destination."""

from __future__ import annotations

import asyncio
import json

from lamb.http.server import Request, Response
from lamb.invoke.telemetry import Telemetry, report_record
from lamb.limits import Limits


def subscribe(tel: Telemetry, body: dict) -> Response:
    return tel.handle(Request("PUT", "/2022-07-01/telemetry", "", {}, json.dumps(body).encode(), None))


def destination(port: int) -> dict:
    return {"protocol": "HTTP", "URI": f"http://sandbox.localdomain:{port}/telemetry"}


async def receiver() -> tuple[asyncio.AbstractServer, int, asyncio.Queue]:
    batches: asyncio.Queue = asyncio.Queue()

    async def handle(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")).split(b":")[1])
        body = await reader.readexactly(length)
        await batches.put((head, json.loads(body)))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], batches


def test_subscriber_gets_the_backlog_then_batches_by_count():
    async def run():
        server, port, batches = await receiver()
        tel = Telemetry(Limits(), lambda req: "ext", enabled=True)
        tel.emit("platform", "platform.initStart", {"phase": "init"})
        tel.emit("function", "function", "a line before the subscription")
        resp = subscribe(tel, {"schemaVersion": "2022-12-13", "types": ["platform"],
                               "buffering": {"maxItems": 25, "timeoutMs": 30000}, "destination": destination(port)})
        assert resp.status == 200
        for i in range(23):  # with initStart and the subscription's own event: 25 = maxItems, sent at once
            tel.emit("platform", "platform.start", {"requestId": str(i)})
        tel.emit("function", "function", "not subscribed")
        head, batch = await asyncio.wait_for(batches.get(), 10)
        assert head.startswith(b"POST /telemetry HTTP/1.1")
        assert [e["type"] for e in batch] == ["platform.initStart", "platform.telemetrySubscription"] + ["platform.start"] * 23
        assert batch[1]["record"] == {"name": "ext", "state": "Subscribed", "types": ["platform"]}
        assert batch[2]["record"] == {"requestId": "0"}
        assert batch[0]["time"].endswith("Z")
        server.close()

    asyncio.run(run())


def test_timeout_flushes_a_partial_batch():
    async def run():
        server, port, batches = await receiver()
        tel = Telemetry(Limits(), lambda req: "ext", enabled=True)
        subscribe(tel, {"types": ["function"], "buffering": {"timeoutMs": 25}, "destination": destination(port)})
        tel.emit("function", "function", "hello")
        _, batch = await asyncio.wait_for(batches.get(), 10)
        assert batch[0]["type"] == "function" and batch[0]["record"] == "hello"
        server.close()

    asyncio.run(run())


def test_invalid_subscriptions():
    tel = Telemetry(Limits(), lambda req: "ext")
    for body in (
        {"types": ["bogus"], "destination": destination(1)},
        {"types": [], "destination": destination(1)},
        {"types": ["platform"], "destination": {"protocol": "TCP", "URI": "http://x:1"}},
        {"types": ["platform"], "buffering": {"maxItems": 1}, "destination": destination(1)},
        {"types": ["platform"], "buffering": {"timeoutMs": 30001}, "destination": destination(1)},
        {"types": ["platform"], "buffering": {"maxBytes": 1000}, "destination": destination(1)},
    ):
        resp = subscribe(tel, body)
        assert resp.status == 400, body
        assert json.loads(resp.body)["errorType"] == "ValidationError"
    assert tel.subscriptions == []


def test_unknown_extension_is_refused_with_its_answer():
    refusal = Response(403, [], b'{"errorType":"Extension.UnknownExtensionIdentifier"}')
    tel = Telemetry(Limits(), lambda req: refusal)
    assert subscribe(tel, {"types": ["platform"], "destination": destination(1)}) is refusal


def test_report_record_shape():
    rec = report_record("r1", "success", 12.3456, 13, 128, 40, 150.5, None, "Root=1-x")
    assert rec == {"requestId": "r1", "status": "success",
                   "metrics": {"durationMs": 12.346, "billedDurationMs": 13, "memorySizeMB": 128, "maxMemoryUsedMB": 40,
                               "initDurationMs": 150.5},
                   "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-x"}}
