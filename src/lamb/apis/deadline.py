"""An invocation's answer, or the gateway's own answer once the integration timeout passes.

API Gateway stops waiting at the integration's timeout and answers (503 for HTTP APIs,
504 for REST APIs); the invocation itself runs on to its own timeout. No task: the
answer is completed from the invocation's, or from a timer.

``within`` maps a future (REST integrations, HTTP proxies, AWS service calls): its answer
is an asyncio future, written a loop turn after the one it is set in. ``answer`` takes an
invocation started with a callback (``Invocations.call``): its answer is a ``Pending``,
written from the function's answer itself, with no loop turn between.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from ..http.server import Pending, Response

log = logging.getLogger("lamb.apis")

OnDone = Callable[[Any, "BaseException | None"], None]


def within(pending: "asyncio.Future", timeout_s: float, on_timeout: Callable[[], Response],
           on_done: Callable[["asyncio.Future"], Response]) -> "asyncio.Future[Response]":
    loop = pending.get_loop()
    out: asyncio.Future = loop.create_future()

    def expired() -> None:
        if not out.done():
            out.set_result(on_timeout())

    timer = loop.call_later(timeout_s, expired)

    def done(f: asyncio.Future) -> None:
        timer.cancel()
        if not out.done():
            out.set_result(on_done(f))

    pending.add_done_callback(done)
    return out


def answer(start: Callable[[OnDone], object], timeout_s: float, on_timeout: Callable[[], Response],
           on_done: Callable[[Any, "BaseException | None"], Response], on_error: Callable[[], Response]) -> Pending:
    """``start(done)`` begins the invocation (it may raise, before anything is pending); the answer is
    ``on_done(result, exc)``, or ``on_timeout()`` once ``timeout_s`` passes, or ``on_error()`` when
    ``on_done`` fails (it runs inside the environment that answered, which must not see the failure)."""
    loop = asyncio.get_running_loop()
    out = Pending()

    def expired() -> None:
        if not out.done():
            out.set_result(on_timeout())

    timer = loop.call_later(timeout_s, expired)

    def done(result, exc: "BaseException | None") -> None:
        timer.cancel()
        if out.done():
            return
        try:
            response = on_done(result, exc)
        except Exception:  # noqa: BLE001
            log.exception("mapping an integration's answer failed")
            response = on_error()
        out.set_result(response)

    try:
        start(done)
    except BaseException:
        timer.cancel()
        raise
    return out
