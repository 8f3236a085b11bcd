"""The integration timeout's answer (lamb.apis.deadline)."""

import asyncio

import pytest

from lamb.apis.deadline import answer, within
from lamb.http.server import Response


def test_result_or_timeout():
    async def run():
        loop = asyncio.get_running_loop()
        fast = loop.create_future()
        out = within(fast, 60, lambda: Response(503, [], b""), lambda f: Response(200, [], f.result()))
        fast.set_result(b"ok")
        assert (await out).body == b"ok"
        slow = loop.create_future()
        out = within(slow, 0, lambda: Response(503, [], b""), lambda f: Response(200, [], b""))
        assert (await out).status == 503
        slow.set_result(b"late")  # the invocation finishing later changes nothing
        await asyncio.sleep(0)
        assert out.result().status == 503

    asyncio.run(run())


def test_answer_is_written_from_the_invocations_own_callback():
    """``answer``: the Pending is done when the invocation's ``done`` returns (no loop turn), or at the
    timeout; a failing mapping answers ``on_error``; a start that raises leaves no timer behind."""

    async def run():
        started = []
        out = answer(started.append, 60, lambda: Response(503), lambda r, e: Response(200, [], r), lambda: Response(500))
        assert not out.done()
        started[0](b"ok", None)
        assert out.done() and out.result().body == b"ok"  # at once, inside done()
        started[0](b"again", None)  # a second end changes nothing
        assert out.result().body == b"ok"

        slow = []
        late = answer(slow.append, 0, lambda: Response(503), lambda r, e: Response(200), lambda: Response(500))
        await asyncio.sleep(0.01)
        assert late.result().status == 503
        slow[0](b"late", None)
        assert late.result().status == 503

        broken = []
        bad = answer(broken.append, 60, lambda: Response(503), lambda r, e: 1 / 0, lambda: Response(500))
        broken[0](b"x", None)  # the invocation's side never sees the mapping's failure
        assert bad.result().status == 500

        def refuse(_done):
            raise ValueError("throttled")

        loop = asyncio.get_running_loop()
        timers = len(loop._scheduled) if hasattr(loop, "_scheduled") else None
        with pytest.raises(ValueError):
            answer(refuse, 60, lambda: Response(503), lambda r, e: Response(200), lambda: Response(500))
        if timers is not None:
            assert all(h.cancelled() for h in loop._scheduled[timers:])

    asyncio.run(run())
