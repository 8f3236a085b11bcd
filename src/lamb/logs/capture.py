"""The runtime's output pipe, turned into log events: one per line.

AWS sends everything a function writes to stdout and stderr to CloudWatch Logs, one
event per line (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html),
and flushes a trailing line without newline at the end of every invocation and when
the runtime exits. The pipe is read without blocking from the event loop.
"""

from __future__ import annotations

import asyncio
import os
from typing import Callable

from ..clock import now_ms

RUNAWAY_LINE_BYTES = 256 * 1024  # a line without newline this long is emitted as it is
DRAIN_MAX_BYTES = 1024 * 1024  # read at most this much per wake-up: a fast writer cannot grow a batch


class OutputCapture:
    """Reads ``fd`` (non-blocking) and calls ``emit(ts_ms, lines)`` with each batch of complete lines.

    ``raw(ts_ms, lines)``, if given, is offered the lines as bytes first; when it returns True
    it has written them and they are not decoded (a function that logs a lot, with nobody
    wanting its lines as text, costs no decoding and encoding)."""

    def __init__(self, fd: int, emit: Callable[[int, list[str]], None],
                 raw: Callable[[int, list[bytes]], bool] | None = None):
        self.fd = fd
        self.emit = emit
        self.raw = raw
        self._partial = b""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_reader(self.fd, self.drain)

    def drain(self, flush: bool = False) -> None:
        """Emit the complete lines read so far; ``flush`` also a trailing line without newline."""
        if self.fd < 0:
            return
        chunks = []
        size = 0
        while size < DRAIN_MAX_BYTES or flush:
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # BlockingIOError: nothing more for now
                break
            if not data:
                self._stop_reading()
                break
            chunks.append(data)
            size += len(data)
        if not chunks and not (flush and self._partial):
            return
        data = self._partial + b"".join(chunks)
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if flush and self._partial:
            lines.append(self._partial)
            self._partial = b""
        if len(self._partial) > RUNAWAY_LINE_BYTES:
            lines.append(self._partial)
            self._partial = b""
        ts = now_ms()
        if self.raw is not None and self.raw(ts, lines):
            return
        self.emit(ts, [raw.decode("utf-8", "replace") for raw in lines])

    def close(self) -> None:
        """Stop reading, emit what is left, close the pipe."""
        if self.fd < 0:
            return
        self._stop_reading()
        self.drain(flush=True)
        os.close(self.fd)
        self.fd = -1

    def _stop_reading(self) -> None:
        try:
            asyncio.get_event_loop().remove_reader(self.fd)
        except (RuntimeError, ValueError, OSError):  # no loop any more, or the fd is already gone
            pass
