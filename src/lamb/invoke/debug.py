"""Attaching a debugger to a function: ``lamb serve --debug NAME[:PORT]`` (issue 16).

A function named this way runs its environment under a debugger listening on an announced
port: ``debugpy`` for the Python runtimes (VS Code's "Python: Remote Attach", PyCharm's
debug server client), ``node --inspect`` for Node.js (Chrome DevTools, VS Code's "Attach";
``http://127.0.0.1:PORT/json/list`` lists the target), and ``LAMB_DEBUG_PORT`` for a custom
runtime's own. AWS has no such thing; it is what ``sam local invoke --debug-port`` offers.

While debugged, a function:

* has **one environment at a time** (one port): a concurrent invocation is throttled as if
  its reserved concurrency were 1 (429 ``TooManyRequestsException``,
  ``ReservedFunctionConcurrentInvocationLimitExceeded``);
* has **no timeout** (``DEBUG_TIMEOUT_S``), so a breakpoint does not end the invocation,
  as ``sam local`` does while debugging;
* listens on ``127.0.0.1:PORT`` of the host. An environment on the host's network binds it
  itself; one with a network of its own (``--network isolated``/``none``) listens on its own
  loopback and Lamb forwards the host's port to it (``Forwarder``).

Ports: ``NAME:PORT``; a name without a port gets the next free one from 5678 (``config.parse_debug``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Callable

from ..protocol.errors import AwsError
from .concurrency import throttle

log = logging.getLogger("lamb.debug")

DEBUG_TIMEOUT_S = 12 * 3600  # "no timeout": a debugging session's breakpoints do not end the invocation


def busy(function_name: str) -> AwsError:
    """A second environment of a debugged function: throttled, as reserved concurrency 1 would."""
    log.info("%s is being debugged: one environment at a time; a concurrent invocation was throttled", function_name)
    return throttle("ReservedFunctionConcurrentInvocationLimitExceeded")


def announce(ports: dict[str, int]) -> list[str]:
    return [f"debug: {name} runs under a debugger on 127.0.0.1:{port} (debugpy for Python, --inspect for "
            f"Node.js, LAMB_DEBUG_PORT for custom runtimes); one environment at a time, no timeout"
            for name, port in sorted(ports.items())]


class Forwarder:
    """The host's ``127.0.0.1:port`` -> the debugged environment's own loopback ``127.0.0.1:port``.

    ``inside(name)`` answers, for ``name``'s live environment, the maker of a new TCP socket in
    its network namespace (``Handle.socket_inside``, run in a thread), or None when none runs.
    """

    def __init__(self, ports: dict[str, int], inside: Callable[[str], "Callable[[], socket.socket | None] | None"]):
        self.ports = ports
        self.inside = inside
        self._servers: list[asyncio.AbstractServer] = []
        self._pipes: set[asyncio.Task] = set()

    async def start(self) -> None:
        for name, port in self.ports.items():
            server = await asyncio.start_server(
                lambda r, w, name=name, port=port: self._connect(name, port, r, w), "127.0.0.1", port)
            self._servers.append(server)

    async def _connect(self, name: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        task = asyncio.current_task()
        self._pipes.add(task)
        try:
            make = self.inside(name)
            sock = await asyncio.to_thread(make) if make is not None else None
            if sock is None:
                log.warning("debugger connection for %s: no environment of it is running; invoke it first", name)
                return
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            except OSError as e:
                sock.close()
                log.warning("debugger connection for %s: its environment does not listen on %d: %s", name, port, e)
                return
            inner_r, inner_w = await asyncio.open_connection(sock=sock)
            await asyncio.gather(_pipe(reader, inner_w), _pipe(inner_r, writer))
        finally:
            writer.close()
            self._pipes.discard(task)

    def close(self) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._pipes):
            task.cancel()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            dst.write_eof()
        except (OSError, RuntimeError):
            dst.close()
