"""One Runtime API address for every isolated environment, routed by the caller's uid.

On AWS every execution environment finds the Runtime API at the same address
(``AWS_LAMBDA_RUNTIME_API``, 127.0.0.1:9001 inside its own network
namespace). Lamb's environments share the host's network namespace, so they
cannot each listen on one fixed port; instead one listener serves them all.
The isolating backend runs every environment under a uid of its own, so the
owner of the client socket (``Sandbox.peer_key``, a sock_diag lookup once per
connection) says which environment a connection belongs to. A connection from
any other process, an environment that ended among them, is refused.

A fixed address is also what lets a zygote load awslambdaric's native client
before it forks: that library reads ``AWS_LAMBDA_RUNTIME_API`` once, when it is
loaded (a C++ static initializer), so it can only be shared by environments
that all use the same address.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING, Callable, Protocol

from ..http.server import App, HttpConnection, HttpServer, Pending, Request, Response
from .stream import is_streaming

if TYPE_CHECKING:
    from .environment import ExecutionEnvironment
    from .invocation import Invocation

# The Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
RUNTIME_PREFIX = "/2018-06-01/runtime/"
OTHER_APIS = ("/2020-01-01/extension/", "/2022-07-01/telemetry")
ACCEPTED = Response(202, [("Content-Type", "application/json")], b'{"status":"OK"}')


def runtime_error(status: int, error_type: str, message: str) -> Response:
    body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
    return Response(status, [("Content-Type", "application/json")], body)


def next_event(inv: "Invocation") -> Response:
    """The answer to ``GET /invocation/next``: the event, and its context in headers."""
    headers = [
        ("Content-Type", "application/json"),
        ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
        ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
        ("Lambda-Runtime-Invoked-Function-Arn", inv.invoked_arn),
        ("Lambda-Runtime-Trace-Id", inv.trace_id or ""),
    ]
    if inv.client_context:
        headers.append(("Lambda-Runtime-Client-Context", inv.client_context))
    if inv.cognito_identity:
        headers.append(("Lambda-Runtime-Cognito-Identity", inv.cognito_identity))
    return Response(200, headers, inv.payload)


class RuntimeApiHandler(Protocol):
    """What an environment does with each call of its runtime."""

    def on_next(self) -> Response | asyncio.Future | Pending: ...

    def on_response(self, request_id: str, req: Request) -> Response | asyncio.Future: ...

    def on_error(self, request_id: str, req: Request) -> Response: ...

    def on_init_error(self, req: Request) -> Response: ...

    def on_extension_api(self, req: Request) -> Response | asyncio.Future: ...


def runtime_app(handler: RuntimeApiHandler) -> App:
    """The Runtime API's routes for one environment."""

    def app(req: Request) -> Response | asyncio.Future:
        path = req.path
        if path.startswith(OTHER_APIS):  # the Extensions and Telemetry APIs share the address
            return handler.on_extension_api(req)
        if not path.startswith(RUNTIME_PREFIX):
            return runtime_error(404, "InvalidRequest", f"Unknown path {path}")
        rest = path[len(RUNTIME_PREFIX):]
        if rest == "invocation/next" and req.method == "GET":
            return handler.on_next()
        if req.method != "POST":
            return runtime_error(405, "InvalidRequest", "Method not allowed")
        if rest.startswith("invocation/"):
            request_id, _, action = rest[len("invocation/"):].partition("/")
            if action == "response":
                return handler.on_response(request_id, req)
            if action == "error":
                return handler.on_error(request_id, req)
        elif rest == "init/error":
            return handler.on_init_error(req)
        return runtime_error(404, "InvalidRequest", f"Unknown path {path}")

    return app


def streams_body(req: Request) -> bool:
    """``HttpServer.stream_body`` of Runtime API listeners: a streamed ``/response`` is read as it arrives."""
    return req.path.startswith(RUNTIME_PREFIX) and is_streaming(req.method, req.path, req.headers)


def runtime_server(app: App, max_body: int, defer: "Callable[[Callable[[], None]], None] | None" = None) -> HttpServer:
    """An HTTP server for Runtime API listeners: streamed responses read as they arrive, and a post
    pipelined with the ``next`` that follows it (Lamb's transport for aws-lambda-ric, runtimes/node.py)
    answered in one write with that ``next``'s event, so that the runtime wakes once per invocation.
    A runtime that waits for each answer (every other client) gets each at once, as before. ``defer``
    (``Afterwards.add``) puts that ``next`` after the answer the invocation's caller waits for."""
    server = HttpServer(app, max_body=max_body)
    server.stream_body = streams_body
    server.coalesce = server.hold = True
    server.defer = defer
    return server


def _unrouted(_req) -> Response:  # never used: every accepted connection gets its environment's app
    return Response(404, [("Content-Type", "text/plain")], b"")


class RuntimeApiListener:
    def __init__(self, peer_key: Callable[[socket.socket], "int | None"], max_body: int,
                 defer: "Callable[[Callable[[], None]], None] | None" = None):
        self._peer_key = peer_key
        self._envs: dict[int, "ExecutionEnvironment"] = {}
        self.server = runtime_server(_unrouted, max_body, defer)
        self.server.route = self._route
        self.server.on_disconnect = self._disconnected
        self.address = ""

    async def start(self, host: str) -> str:
        port = await self.server.start(host, 0)
        self.address = f"{host}:{port}"
        return self.address

    def register(self, key: int, env: "ExecutionEnvironment") -> None:
        self._envs[key] = env

    def unregister(self, key: int, env: "ExecutionEnvironment") -> None:
        """The environment is gone: refuse new connections from its uid, close the ones it had."""
        if self._envs.get(key) is env:
            del self._envs[key]
        for conn in list(env.runtime_connections):
            if conn.transport is not None:
                conn.transport.close()
        env.runtime_connections.clear()

    def _route(self, conn: HttpConnection, sock: socket.socket) -> App | None:
        key = self._peer_key(sock)
        env = self._envs.get(key) if key is not None else None
        if env is None:
            return None
        conn.context = env
        env.runtime_connections.add(conn)
        return env.runtime_app

    @staticmethod
    def _disconnected(conn: HttpConnection) -> None:
        env = conn.context
        if env is not None:
            env.runtime_connections.discard(conn)

    def close(self) -> None:
        self.server.close()
