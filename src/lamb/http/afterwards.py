"""Work that follows a caller's answer instead of preceding it.

An invocation's bookkeeping (END and REPORT lines, metrics, metering) need not delay the
answer its caller waits for. ``Afterwards.add`` queues such work; the public port's
server runs the queue right after it writes an answer (``HttpServer.after_answer``), so
that the work is done before the loop next reads a request: a caller that reads the
logs or metrics after its answer sees them. Work whose answer is not written by such a
server (an asynchronous invocation, a poller's) runs at the latest ``TURNS`` turns of the
event loop after it was queued: an invocation's end reaches its caller's connection
through at most three futures (the invocation's, the operation's and the gateway's for
Invoke), each a turn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

log = logging.getLogger("lamb.http")

TURNS = 3


class Afterwards:
    """A queue of callables, run after the next answer or within ``TURNS`` turns of the loop."""

    __slots__ = ("_due", "_armed")

    def __init__(self) -> None:
        self._due: list[Callable[[], None]] = []
        self._armed = False

    def add(self, fn: Callable[[], None]) -> None:
        self._due.append(fn)
        if not self._armed:
            self._armed = True
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, loop.call_soon, self._fallback)

    def _fallback(self) -> None:
        self._armed = False
        self.run()

    def run(self) -> None:
        """Run everything queued, in order (work queued meanwhile too)."""
        while self._due:
            due, self._due = self._due, []
            for fn in due:
                try:
                    fn()
                except Exception:  # noqa: BLE001 - one failure must not drop the rest
                    log.exception("deferred work failed")
