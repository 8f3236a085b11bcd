"""An invocation's answer, or the gateway's own answer once the integration timeout passes.

API Gateway stops waiting at the integration's timeout and answers (503 for HTTP APIs,
504 for REST APIs); the invocation itself runs on to its own timeout. No task: the
answer is completed from the invocation's, or from a timer.

``within`` maps a future (REST integrations, HTTP proxies, AWS service calls): its answer
is an asyncio future, written a loop turn after the one it is set in. HTTP APIs' Lambda proxy
integrations start their invocation with a callback instead (``http/answering.answer``, with
this timeout): their answer is written from the function's answer itself.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from ..http.server import Response


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
