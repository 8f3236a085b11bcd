"""An answer written from the callback that ends the work it waits for.

An asyncio future's callbacks run a loop turn after it is set, and a chain of futures costs a turn
each. ``answer`` starts the work with a callback (``Invocations.call`` for an invocation) and answers
with a ``Pending``, which writes the response inside that callback: a function's answer reaches its
caller's connection in the loop turn in which the runtime posted it. Function URLs, HTTP and REST APIs'
Lambda proxy integrations and the Invoke operation (a handler's ``Later``) answer so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from .server import Pending, Response

log = logging.getLogger("lamb.http")

OnDone = Callable[[Any, "BaseException | None"], None]


def answer(start: Callable[[OnDone], object], on_done: Callable[[Any, "BaseException | None"], Response],
           on_error: Callable[[], Response], *, timeout_s: float | None = None,
           on_timeout: Callable[[], Response] | None = None) -> Pending:
    """``start(done)`` begins the work (it may raise, before anything is pending); the answer is
    ``on_done(result, exc)``, or ``on_error()`` when that fails (it runs inside whatever ended the work,
    an environment's answer, which must not see the failure), or ``on_timeout()`` once ``timeout_s``
    passes (API Gateway's integration timeout; the work itself goes on)."""
    if timeout_s is not None and on_timeout is None:
        raise ValueError("a timeout needs its answer (on_timeout)")
    out = Pending()
    timer = None
    if timeout_s is not None:
        def expired() -> None:
            if not out.done():
                out.set_result(on_timeout())

        timer = asyncio.get_running_loop().call_later(timeout_s, expired)

    def done(result, exc: "BaseException | None") -> None:
        if timer is not None:
            timer.cancel()
        if out.done():
            return
        try:
            response = on_done(result, exc)
        except Exception:  # noqa: BLE001
            log.exception("mapping an answer failed")
            response = on_error()
        out.set_result(response)

    try:
        start(done)
    except BaseException:
        if timer is not None:
            timer.cancel()
        raise
    return out


class Later:
    """A result that a callback gives: ``start(done)`` begins the work, ``done(result, exc)`` ends it (an
    operation handler's answer to Invoke, which the gateway writes with ``answer``). Awaitable like a
    future, for whoever waits for it instead (an Invoke of a function still Pending)."""

    __slots__ = ("start",)

    def __init__(self, start: Callable[[OnDone], object]) -> None:
        self.start = start

    def __await__(self):
        fut = asyncio.get_running_loop().create_future()
        self.start(settling(fut))
        return fut.__await__()


def outcome(fut: "asyncio.Future") -> tuple:
    """``(result, None)`` or ``(None, exception)`` of a finished future: what a ``done`` callback takes."""
    exc = fut.exception()
    return (None, exc) if exc is not None else (fut.result(), None)


def settling(fut: "asyncio.Future") -> OnDone:
    """The ``done(result, exc)`` that completes ``fut`` (once; a ``CancelledError`` cancels it)."""

    def done(result, exc: "BaseException | None") -> None:
        if fut.done():
            return
        if exc is None:
            fut.set_result(result)
        elif isinstance(exc, asyncio.CancelledError):
            fut.cancel()
        else:
            fut.set_exception(exc)

    return done
