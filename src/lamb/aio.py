"""Waiting with a deadline without losing a cancellation.

On Python 3.11, ``asyncio.wait_for`` swallows a ``Task.cancel()`` that arrives in the loop turn
in which the awaited thing completes: it returns the result and the task goes on
(CPython gh-86296, fixed in 3.12 by rebuilding ``wait_for`` on ``asyncio.timeout``). A loop
like ``while True: await wait_for(event.wait(), t)`` then never ends, and whoever awaits the
cancelled task waits forever. ``asyncio.timeout`` (3.11+) counts cancellations and has no
such window, so Lamb waits through it everywhere.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

T = TypeVar("T")


async def wait_for(aw: Awaitable[T], timeout: float | None) -> T:
    """``asyncio.wait_for``'s contract (``TimeoutError`` after ``timeout`` seconds, ``None`` waits
    for ever), with a cancellation of the caller always delivered."""
    async with asyncio.timeout(timeout):
        return await aw


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; whether it was set."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
