"""Answers written from the callback that ends the work (lamb.http.answering)."""

import asyncio

import pytest

from lamb.http.answering import answer
from lamb.http.server import Response


def test_the_answer_is_written_from_the_works_own_callback():
    """``answer``: the Pending is done when the invocation's ``done`` returns (no loop turn), or at the
    timeout; a failing mapping answers ``on_error``; a start that raises leaves no timer behind."""

    async def run():
        started = []
        out = answer(started.append, lambda r, e: Response(200, [], r), lambda: Response(500), timeout_s=60,
                     on_timeout=lambda: Response(503))
        assert not out.done()
        started[0](b"ok", None)
        assert out.done() and out.result().body == b"ok"  # at once, inside done()
        started[0](b"again", None)  # a second end changes nothing
        assert out.result().body == b"ok"

        slow = []
        late = answer(slow.append, lambda r, e: Response(200), lambda: Response(500), timeout_s=0,
                      on_timeout=lambda: Response(503))
        await asyncio.sleep(0.01)
        assert late.result().status == 503
        slow[0](b"late", None)
        assert late.result().status == 503

        broken = []
        bad = answer(broken.append, lambda r, e: 1 / 0, lambda: Response(500))
        broken[0](b"x", None)  # the invocation's side never sees the mapping's failure
        assert bad.result().status == 500

        def refuse(_done):
            raise ValueError("throttled")

        timed_out = []
        with pytest.raises(ValueError):
            answer(refuse, lambda r, e: Response(200), lambda: Response(500), timeout_s=0.01,
                   on_timeout=lambda: timed_out.append(1) or Response(503))
        await asyncio.sleep(0.05)
        assert timed_out == []  # the refused start's timer was cancelled
        with pytest.raises(ValueError):  # a timeout without its answer is refused, not ignored
            answer(started.append, lambda r, e: Response(200), lambda: Response(500), timeout_s=1)

    asyncio.run(run())


def test_later_is_answered_at_once_or_awaited():
    """A ``Later`` (Invoke's handler result): ``answer`` writes it from its callback; awaited, it is a
    future's result or exception; a start that refuses raises at once, as a handler would."""
    from lamb.http.answering import Later

    async def run():
        ends = []
        later = Later(ends.append)
        out = answer(later.start, lambda r, e: Response(200, [], r), lambda: Response(500))
        ends[0](b"now", None)
        assert out.result().body == b"now"

        assert await Later(lambda done: done({"StatusCode": 200}, None)) == {"StatusCode": 200}
        with pytest.raises(KeyError):
            await Later(lambda done: done(None, KeyError("failed")))

        def refuse(_done):
            raise ValueError("throttled")

        with pytest.raises(ValueError):
            await Later(refuse)
        cancelled = []
        waiting = asyncio.ensure_future(Later(cancelled.append))
        await asyncio.sleep(0)
        cancelled[0](None, asyncio.CancelledError())
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(run())
