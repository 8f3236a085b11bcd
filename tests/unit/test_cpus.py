"""lamb.cpus: a lone busy runtime beside the event loop, everyone apart otherwise."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from lamb import cpus
from lamb.cpus import Placement

ALL = frozenset({0, 1, 2, 3})
ONE = frozenset({3})  # the loop's: the last CPU


class Recorder:
    """What ``sched_setaffinity`` was asked (pid 0: the loop's own thread)."""

    def __init__(self, gone: tuple[int, ...] = ()):
        self.calls: list[tuple[int, frozenset[int]]] = []
        self.gone = gone

    def __call__(self, pid: int, mask: frozenset[int]) -> None:
        if pid in self.gone:
            raise ProcessLookupError(pid)
        self.calls.append((pid, mask))


@pytest.fixture
def loop():
    lp = asyncio.new_event_loop()
    saved = cpus._all
    yield lp
    cpus._all = saved
    lp.close()


def placed(loop, rec: Recorder | None = None, **kw) -> tuple[Placement, Recorder]:
    rec = rec or Recorder()
    kw.setdefault("alone_before", 1)
    kw.setdefault("running_on", lambda: 3)
    p = Placement("colocate", cpus=ALL, set_affinity=rec, **kw)
    loop.run_until_complete(p.start())
    assert rec.calls == [(0, ALL)]  # the start only checks that the loop's thread may set its CPUs
    rec.calls.clear()
    return p, rec


def test_a_lone_runtime_joins_the_loop_once(loop):
    p, rec = placed(loop)
    assert p.describe() == "colocate (apart now, 4 CPUs)"
    a = object()
    for _ in range(3):  # a warm environment, invocation after invocation: pinned once
        p.busy(a, 100)
        p.idle(a)
    assert rec.calls == [(0, ONE), (100, ONE)]
    assert p.describe() == "colocate (loop on CPU 3 of 4)"


def test_the_loop_stays_on_the_cpu_it_runs_on():
    """Another Lamb on the host (or whatever the scheduler moved the loop away from) keeps its CPU."""
    lp = asyncio.new_event_loop()
    try:
        where = iter([1, 7])  # then a CPU Lamb may not use: the last it may
        rec = Recorder()
        p = Placement("colocate", cpus=ALL, set_affinity=rec, alone_before=1, running_on=lambda: next(where))
        lp.run_until_complete(p.start())
        a, b = object(), object()
        p.busy(a, 100)
        p.busy(b, 200)  # apart
        p.idle(a)
        p.idle(b)
        p.busy(a, 100)
        assert rec.calls[1:] == [(0, frozenset({1})), (100, frozenset({1})), (100, ALL), (0, ALL),
                                 (0, ONE), (100, ONE)]
    finally:
        lp.close()


def test_a_second_busy_environment_sends_everyone_apart(loop):
    p, rec = placed(loop)
    a, b, c = object(), object(), object()
    p.busy(a, 100)
    p.busy(b, 200)
    assert rec.calls == [(0, ONE), (100, ONE), (100, ALL), (0, ALL)]
    p.busy(c, 300)  # still concurrent: nothing more to do
    p.idle(a)
    p.idle(c)
    assert len(rec.calls) == 4
    p.idle(b)
    p.busy(b, 200)  # alone again: b and the loop together
    assert rec.calls[4:] == [(0, ONE), (200, ONE)]


def test_together_again_only_after_a_run_of_lone_invocations(loop):
    p, rec = placed(loop, alone_before=3)
    a, b = object(), object()
    for _ in range(2):
        p.busy(a, 100)
        p.idle(a)
    assert rec.calls == []
    p.busy(a, 100)  # the third in a row
    assert rec.calls == [(0, ONE), (100, ONE)]
    p.busy(b, 200)  # concurrent: apart, and the count starts again
    p.idle(b)
    p.idle(a)
    del rec.calls[:]
    for _ in range(2):
        p.busy(a, 100)
        p.idle(a)
    assert rec.calls == []
    p.busy(a, 100)
    assert rec.calls == [(0, ONE), (100, ONE)]


@pytest.mark.parametrize("leave, expected", [
    ("idle", [(0, ONE), (100, ONE), (100, ALL), (200, ONE)]),  # a idle: given all CPUs back
    ("gone", [(0, ONE), (100, ONE), (200, ONE)]),  # a gone: its pid is not touched again
])
def test_another_lone_environment_takes_the_place(loop, leave, expected):
    p, rec = placed(loop)
    a, b = object(), object()
    p.busy(a, 100)
    getattr(p, leave)(a)
    p.busy(b, 200)
    assert rec.calls == expected


def test_a_runtime_not_placed_leaves_the_loop_free(loop):
    p, rec = placed(loop)
    a, b = object(), object()
    p.busy(a, 100)
    p.idle(a)
    p.busy(b, None)  # e.g. python3.12, or a cold start before its runtime runs
    assert rec.calls == [(0, ONE), (100, ONE), (100, ALL), (0, ALL)]
    p.idle(b)
    p.busy(b, None)
    assert len(rec.calls) == 4  # already apart


def test_a_long_invocation_gets_all_cpus_back(loop):
    p, rec = placed(loop, spread_after_s=0.01)
    a = object()
    p.busy(a, 100)
    loop.run_until_complete(asyncio.sleep(0.05))
    assert rec.calls == [(0, ONE), (100, ONE), (100, ALL)]
    p.idle(a)
    p.busy(a, 100)  # the next invocation joins the loop again
    assert rec.calls[-1] == (100, ONE)


def test_a_short_invocation_keeps_its_place(loop):
    p, rec = placed(loop, spread_after_s=0.01)
    a = object()
    p.busy(a, 100)
    p.idle(a)
    loop.run_until_complete(asyncio.sleep(0.05))
    assert rec.calls == [(0, ONE), (100, ONE)]


def test_a_runtime_that_already_ended_is_skipped(loop):
    p, rec = placed(loop, Recorder(gone=(100,)))
    a = object()
    p.busy(a, 100)
    p.idle(a)
    p.busy(a, 100)
    assert rec.calls == [(0, ONE)]


def test_off_and_one_cpu_pin_nothing(loop):
    rec = Recorder()
    for p in (Placement("off", cpus=ALL, set_affinity=rec), Placement("colocate", cpus=frozenset({0}), set_affinity=rec)):
        loop.run_until_complete(p.start())
        p.busy(object(), 100)
        assert p.describe() == "off"
    assert rec.calls == []


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="LAMB_CPU_PLACEMENT must be one of colocate, off, not 'spread'"):
        Placement("spread")


def test_a_loop_that_cannot_set_its_cpus_turns_placement_off(loop):
    def refuse(pid, mask):
        raise PermissionError("EPERM")

    p = Placement("colocate", cpus=ALL, set_affinity=refuse)
    loop.run_until_complete(p.start())
    assert p.describe() == "off"
    p.busy(object(), 100)  # nothing raised, nothing pinned


def test_threads_started_from_the_pinned_loop_take_all_cpus_back(loop):
    """With the real ``sched_setaffinity``, on this machine's CPUs (the CI machine has 2)."""
    mine = frozenset(os.sched_getaffinity(0))
    assert len(mine) >= 2, "the placement needs two CPUs"
    seen: list[frozenset[int]] = []

    def loop_thread():
        p = Placement("colocate", cpus=mine, alone_before=1)
        loop.run_until_complete(p.start())
        p.busy(object(), os.getpid())  # pins this process's main thread, and this (the loop's) thread
        seen.append(frozenset(os.sched_getaffinity(0)))

        def child():
            cpus.release_thread()
            seen.append(frozenset(os.sched_getaffinity(0)))

        t = threading.Thread(target=child)
        t.start()
        t.join()
        seen.append(loop.run_until_complete(asyncio.to_thread(lambda: frozenset(os.sched_getaffinity(0)))))
        p.busy(object(), None)  # apart again: everyone gets all CPUs back
        seen.append(frozenset(os.sched_getaffinity(0)))
        seen.append(frozenset(os.sched_getaffinity(os.getpid())))

    t = threading.Thread(target=loop_thread)
    try:
        t.start()
        t.join()
    finally:
        os.sched_setaffinity(os.getpid(), mine)  # this test process's main thread, whatever happened
    assert len(seen[0]) == 1 and seen[0] <= mine  # the loop's thread: the one CPU it ran on
    assert seen[1:] == [mine, mine, mine, mine]
