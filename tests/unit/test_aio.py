"""lamb.aio: a deadline that never swallows a cancellation (the race of CPython gh-86296)."""

import asyncio
import sys

import pytest

from lamb import aio


async def _cancel_as_the_event_is_set(wait, turns: int) -> bool:
    """A task loops waiting for an event; the event is set and, ``turns`` loop turns later, the
    task is cancelled. Whether the task ended."""
    ev = asyncio.Event()

    async def loop():
        while True:
            try:
                await wait(ev.wait(), 10)
            except TimeoutError:
                pass
            ev.clear()

    task = asyncio.ensure_future(loop())
    for _ in range(3):
        await asyncio.sleep(0)
    ev.set()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=0.5)
    if not done:
        task.cancel()
        await asyncio.wait([task], timeout=0.5)
    return bool(done)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_a_cancellation_in_the_turn_the_wait_ends_is_delivered(turns):
    assert asyncio.run(_cancel_as_the_event_is_set(aio.wait_for, turns))


def test_the_race_is_real_before_python_3_12():
    """Why the helper exists: asyncio.wait_for loses this cancellation on 3.11 (3.12 fixed it)."""
    assert asyncio.run(_cancel_as_the_event_is_set(asyncio.wait_for, 0)) is (sys.version_info >= (3, 12))


def test_timeouts_and_results():
    async def go():
        assert await aio.wait_for(asyncio.sleep(0, "x"), 1) == "x"
        assert await aio.wait_for(asyncio.sleep(0, "y"), None) == "y"
        with pytest.raises(TimeoutError):
            await aio.wait_for(asyncio.sleep(5), 0.01)
        with pytest.raises(TimeoutError):
            await aio.wait_for(asyncio.sleep(5), 0)
        ev = asyncio.Event()
        assert await aio.wait_event(ev, 0.01) is False
        asyncio.get_running_loop().call_later(0.01, ev.set)
        assert await aio.wait_event(ev, 5) is True
        assert await aio.wait_event(ev, 0) is True

    asyncio.run(go())


def test_lamb_never_waits_through_asyncio_wait_for():
    from pathlib import Path

    src = Path(aio.__file__).parent
    users = [str(p.relative_to(src)) for p in src.rglob("*.py") if "asyncio.wait_for(" in p.read_text()]
    assert users == []
