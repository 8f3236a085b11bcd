"""The X-Ray daemon's UDP port, as Lambda provides it to Active-traced functions.

On AWS an Active-traced function gets ``AWS_XRAY_DAEMON_ADDRESS`` (and
``AWS_XRAY_CONTEXT_MISSING=LOG_ERROR``), where the X-Ray SDKs send finished subsegments as UDP
datagrams (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime,
https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon.html). Lamb receives them itself and
hands each document to the tracer as spans of the invocation's trace (``xray_segments``), so
Powertools' Tracer and the X-Ray SDK's patched clients show up under the function's ``Invoke``
span at the OTLP collector.

Where the socket lives follows the sandbox's network: on the host's network one socket on the
host's loopback serves every environment; an environment with a network of its own gets a
socket bound to ``127.0.0.1:2000`` (the daemon's port) inside its namespace
(``Handle.socket_inside``), closed when it ends. Either way Lamb's event loop reads it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Callable

from .xray_segments import documents

log = logging.getLogger("lamb.xray")

DAEMON_PORT = 2000
MAX_DATAGRAM = 64 * 1024


class XRayDaemon:
    """``address_for(handle, key)`` -> the ``AWS_XRAY_DAEMON_ADDRESS`` of an environment; ``release(key)``."""

    def __init__(self, on_document: Callable[[dict], None]):
        self.on_document = on_document
        self._host: socket.socket | None = None
        self._inside: dict[object, socket.socket] = {}
        self.received = 0

    def env_vars(self, handle, key: object) -> dict[str, str]:
        """The variables an Active-traced environment gets (empty when no socket could be made)."""
        try:
            address = self.address_for(handle, key)
        except OSError as e:
            log.warning("no X-Ray daemon address for an environment: %s", e)
            return {}
        return {"AWS_XRAY_DAEMON_ADDRESS": address, "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}

    def address_for(self, handle, key: object) -> str:
        inside = handle.socket_inside(socket.SOCK_DGRAM)
        if inside is None:  # the host's network: one socket for all
            if self._host is None:
                self._host = self._listen(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), 0)
            return f"127.0.0.1:{self._host.getsockname()[1]}"
        self.release(key)
        self._inside[key] = self._listen(inside, DAEMON_PORT)
        return f"127.0.0.1:{DAEMON_PORT}"

    def release(self, key: object) -> None:
        sock = self._inside.pop(key, None)
        if sock is not None:
            self._close(sock)

    def close(self) -> None:
        for key in list(self._inside):
            self.release(key)
        if self._host is not None:
            self._close(self._host)
            self._host = None

    def _listen(self, sock: socket.socket, port: int) -> socket.socket:
        try:
            sock.bind(("127.0.0.1", port))
            sock.setblocking(False)
            asyncio.get_running_loop().add_reader(sock.fileno(), self._readable, sock)
        except BaseException:
            sock.close()
            raise
        return sock

    def _close(self, sock: socket.socket) -> None:
        try:
            asyncio.get_running_loop().remove_reader(sock.fileno())
        except (RuntimeError, ValueError):
            pass
        sock.close()

    def _readable(self, sock: socket.socket) -> None:
        for _ in range(256):  # a bounded batch per wake-up
            try:
                datagram = sock.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            for doc in documents(datagram):
                self.received += 1
                try:
                    self.on_document(doc)
                except Exception:  # noqa: BLE001 - one bad document must not stop the port
                    log.exception("X-Ray segment document not converted")
