"""http/afterwards.py: work queued to follow a caller's answer."""

import asyncio

from lamb.http.afterwards import TURNS, Afterwards


def test_run_does_the_queued_work_in_order_once():
    done = []

    async def main():
        a = Afterwards()
        a.add(lambda: done.append(1))
        a.add(lambda: done.append(2))
        assert done == []  # nothing until the answer is written
        a.run()
        assert done == [1, 2]
        await asyncio.sleep(0)
        for _ in range(TURNS + 1):
            await asyncio.sleep(0)
        assert done == [1, 2]  # the fallback finds nothing left to do

    asyncio.run(main())


def test_without_an_answer_the_work_is_done_within_its_turns():
    done = []

    async def main():
        loop = asyncio.get_running_loop()
        a = Afterwards()
        a.add(lambda: done.append("work"))
        turns = 0
        while not done:
            fut = loop.create_future()
            loop.call_soon(fut.set_result, None)
            await fut
            turns += 1
            assert turns <= TURNS + 1
        assert done == ["work"]

    asyncio.run(main())


def test_work_queued_while_running_runs_too_and_a_failure_does_not_stop_the_rest():
    done = []

    async def main():
        a = Afterwards()

        def first():
            a.add(lambda: done.append("queued meanwhile"))
            raise RuntimeError("boom")

        a.add(first)
        a.add(lambda: done.append("after the failure"))
        a.run()

    asyncio.run(main())
    assert done == ["after the failure", "queued meanwhile"]
