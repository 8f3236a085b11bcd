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

import socket
from typing import TYPE_CHECKING, Callable

from ..http.server import App, HttpConnection, HttpServer, Response

if TYPE_CHECKING:
    from .environment import ExecutionEnvironment


def _unrouted(_req) -> Response:  # never used: every accepted connection gets its environment's app
    return Response(404, [("Content-Type", "text/plain")], b"")


class RuntimeApiListener:
    def __init__(self, peer_key: Callable[[socket.socket], "int | None"], max_body: int):
        self._peer_key = peer_key
        self._envs: dict[int, "ExecutionEnvironment"] = {}
        self.server = HttpServer(_unrouted, max_body=max_body)
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
