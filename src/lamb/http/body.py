"""A request body read as it arrives, with flow control both ways.

The server hands a ``BodyStream`` to the application as soon as a request's head is
complete (``HttpServer.stream_body`` decides which requests stream). The connection
``feed``s it each piece of the body, then ``finish``es it with the trailers of a
chunked body, or ``abort``s it when the connection is lost. A consumer iterates it
(``async for piece in stream``); pieces are handed over as they came, never joined.

Memory stays bounded by ``high_water`` per stream whatever the total: past it the
connection stops reading (``pause``), and reads again (``resume``) once the consumer
took the buffer below ``low_water``. A body over ``max_bytes`` is cut: the consumer's
iteration ends, the rest is discarded, and ``overflow`` says so.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Callable

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024


class BodyStream:
    __slots__ = ("_pieces", "_buffered", "_waiter", "_pause", "_resume", "_paused", "ended", "aborted",
                 "overflow", "trailers", "total", "max_bytes", "high_water", "low_water", "_on_end", "_discard")

    def __init__(self, pause: Callable[[], None], resume: Callable[[], None], *, max_bytes: int | None = None,
                 high_water: int = HIGH_WATER, low_water: int = LOW_WATER):
        self._pieces: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future | None = None
        self._pause = pause
        self._resume = resume
        self._paused = False
        self.ended = False  # no more pieces will come (finished, aborted or cut)
        self.aborted = False  # the connection was lost before the body's end
        self.overflow = False  # more than ``max_bytes`` came; the rest was discarded
        self.trailers: dict[str, str] = {}
        self.total = 0
        self.max_bytes = max_bytes
        self.high_water = high_water
        self.low_water = low_water
        # Called once when the body is complete or lost: (stream) -> None.
        self._on_end: list[Callable[["BodyStream"], None]] = []
        self._discard = False  # the consumer is gone: pieces are counted and dropped

    # -- the connection's side
    def feed(self, data: bytes) -> None:
        if self.ended:
            return
        self.total += len(data)
        if self.max_bytes is not None and self.total > self.max_bytes:
            self.overflow = True
            self._end()
            return
        if self._discard:
            return
        self._pieces.append(data)
        self._buffered += len(data)
        if self._buffered > self.high_water and not self._paused:
            self._paused = True
            self._pause()
        self._wake()

    def finish(self, trailers: dict[str, str]) -> None:
        """The body is complete; ``trailers`` are the chunked body's trailer fields (lower-case names)."""
        self.trailers = trailers
        self._end()

    def abort(self) -> None:
        """The body will never complete (connection lost, or its consumer gave up)."""
        if not self.ended:
            self.aborted = True
            self._end()

    def on_end(self, callback: Callable[["BodyStream"], None]) -> None:
        if self.ended:
            callback(self)
        else:
            self._on_end.append(callback)

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self._unpause()
        self._wake()
        callbacks, self._on_end = self._on_end, []
        for cb in callbacks:
            cb(self)

    # -- the consumer's side
    def __aiter__(self) -> "BodyStream":
        return self

    async def __anext__(self) -> bytes:
        while not self._pieces:
            if self.ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        piece = self._pieces.popleft()
        self._buffered -= len(piece)
        if self._paused and self._buffered <= self.low_water:
            self._unpause()
        return piece

    def take_all(self) -> bytes:
        """Everything buffered, joined (for a consumer that wants the body whole)."""
        data = b"".join(self._pieces)
        self._pieces.clear()
        self._buffered = 0
        return data

    def discard(self) -> None:
        """The consumer is gone: drop what is buffered and whatever else comes (the body
        still runs to its end, so its sender gets its answer)."""
        self._discard = True
        self._pieces.clear()
        self._buffered = 0
        self._unpause()

    def _unpause(self) -> None:
        if self._paused:
            self._paused = False
            self._resume()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
