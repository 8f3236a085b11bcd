"""Which CPUs Lamb's event loop and a synchronously called runtime run on (``LAMB_CPU_PLACEMENT``).

A warm invocation is a relay: the caller's request wakes Lamb's event loop, the loop's write wakes
the runtime, the runtime's answer wakes the loop again. When a wake-up lands on another CPU that
was idle, it pays an inter-processor interrupt (on a virtual machine also the halted vCPU's exit
and re-entry), and the woken work starts on cold caches. Left to itself, the scheduler wakes each
side on whichever CPU is idle, so the loop and the runtime change CPUs on every request.

``colocate`` (the default where Lamb may use two CPUs or more):

* while one environment alone is busy, and its runtime asks for its next event on the thread that
  posted its answer (``Runtime.polls_where_it_posts``: Node.js with Lamb's transport, Python before
  3.12), the event loop's thread and that runtime's main thread are pinned to one CPU, the one the
  loop runs on when that begins: the two hand the CPU to each other instead of waking another. A runtime that
  polls from another thread (awslambdaric on python3.12+) keeps working after its post, and on
  the loop's CPU it delays the loop's answer: it is not placed (measured: p50 1.16-1.18x);
* as soon as a second environment is busy, or the busy one is not placed, the loop and the runtime
  get all of Lamb's CPUs back, and concurrent invocations spread as the scheduler decides; they
  come together again after ``ALONE_BEFORE_TOGETHER`` lone invocations in a row;
* a placed invocation busy for ``SPREAD_AFTER_S`` gets all CPUs back: a long computation does not
  share the loop's CPU;
* threads and helper processes started from the loop's thread while it is pinned would inherit its
  one CPU: they take all of Lamb's CPUs back (``release_thread`` first thing in a thread,
  ``release`` on a helper process's pid right after it starts).

``off``: nothing is pinned. Measured in docs/performance.md ("CPU placement").
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Hashable

log = logging.getLogger("lamb.cpus")

MODES = ("colocate", "off")
ALONE_BEFORE_TOGETHER = 4  # lone invocations in a row before the loop and the runtime share a CPU
SPREAD_AFTER_S = 0.002  # a colocated invocation busy longer than this gets all CPUs back

_all: frozenset[int] | None = None  # Lamb's CPUs once the loop is pinned (None: nothing pinned)


def _set_affinity(pid: int, cpus: frozenset[int]) -> None:
    os.sched_setaffinity(pid, cpus)


def _running_on() -> int:
    """The CPU the calling thread runs on (glibc's ``sched_getcpu``), -1 when it cannot be told."""
    global _getcpu
    if _getcpu is None:
        try:
            _getcpu = ctypes.CDLL(None, use_errno=True).sched_getcpu
            _getcpu.restype = ctypes.c_int
        except (OSError, AttributeError):
            _getcpu = lambda: -1  # noqa: E731
    return _getcpu()


_getcpu: Callable[[], int] | None = None


def release(pid: int) -> None:
    """Give a helper process started from the loop's thread (its main thread) all of Lamb's CPUs."""
    if _all is not None:
        try:
            os.sched_setaffinity(pid, _all)
        except OSError:
            pass


def release_thread() -> None:
    """Give the calling thread all of Lamb's CPUs (first thing in a thread started from the loop's)."""
    release(0)


class Placement:
    """The loop's CPU, and which one busy environment shares it (keys: environments; pids: runtimes)."""

    def __init__(self, mode: str = "colocate", cpus: frozenset[int] | None = None,
                 set_affinity: Callable[[int, frozenset[int]], None] = _set_affinity,
                 spread_after_s: float = SPREAD_AFTER_S, alone_before: int = ALONE_BEFORE_TOGETHER,
                 running_on: Callable[[], int] = _running_on):
        if mode not in MODES:
            raise ValueError(f"LAMB_CPU_PLACEMENT must be one of {', '.join(MODES)}, not {mode!r}")
        if cpus is None:
            cpus = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()
        self.cpus = frozenset(cpus)
        self.cpu = -1  # the loop's while it shares one (the one it ran on when the sharing began)
        self._running_on = running_on
        self.enabled = mode == "colocate" and len(self.cpus) >= 2  # asked for and possible (``start`` may still fail)
        self._set = set_affinity
        self._spread_after_s = spread_after_s
        self._alone_before = alone_before
        self._loop: asyncio.AbstractEventLoop | None = None
        self._busy: set[Hashable] = set()
        self._pinned: tuple[Hashable, int] | None = None  # the environment on the loop's CPU, and its pid
        self._timer: asyncio.TimerHandle | None = None
        self._loop_pinned = False  # the loop's thread has ``cpu`` alone
        self._alone = 0  # invocations in a row that were the only one busy, of a runtime to be placed

    async def start(self) -> None:
        """Start placing (on the loop's thread, once serving)."""
        global _all
        if not self.enabled:
            return
        loop = asyncio.get_running_loop()
        # uvloop resolves names on libuv's thread pool, whose threads start on its first use and would
        # inherit a pinned loop's CPU: use it once now, while the loop has all of Lamb's CPUs.
        await loop.getaddrinfo("127.0.0.1", 0)
        try:
            self._set(0, self.cpus)  # (what the loop's thread has already: can it set its own?)
        except OSError as e:
            log.warning("CPU placement off: the event loop's CPUs cannot be set (%s)", e)
            return  # (no loop: placement stays off)
        _all = self.cpus
        self._loop = loop
        # asyncio.to_thread and run_in_executor(None): their threads start from the loop's.
        loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="lamb-worker", initializer=release_thread))

    def busy(self, key: Hashable, pid: int | None) -> None:
        """``key`` took an invocation; ``pid``: its runtime, when it runs and waits for its next event on
        the thread that posts its answer (None: not to be placed beside the loop)."""
        busy = self._busy
        busy.add(key)
        if self._loop is None:
            return
        if len(busy) == 1 and pid is not None:
            # Together only after a run of lone invocations: under concurrent load the count often
            # touches one, and a pin and an unpin each time would cost more than they save.
            self._alone += 1
            if self._alone >= self._alone_before:
                self._together(key, pid)
        else:
            self._alone = 0
            self._apart()

    def _together(self, key: Hashable, pid: int) -> None:
        """The loop and ``key``'s runtime on ``cpu``."""
        if not self._loop_pinned:
            # Where the loop runs now: another Lamb on the host, or anything else the scheduler spread the
            # loop away from, keeps its CPU.
            cpu = self._running_on()
            self.cpu = cpu if cpu in self.cpus else max(self.cpus)
            self._loop_pinned = True
            self._pin_loop(frozenset((self.cpu,)))
        pinned = self._pinned
        if pinned is None or pinned[0] is not key:
            if pinned is not None:
                self._unpin()
            try:
                self._set(pid, frozenset((self.cpu,)))
            except OSError:
                return  # gone already
            self._pinned = (key, pid)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self._spread_after_s, self._spread)

    def _apart(self) -> None:
        """Concurrent invocations, or one that is not placed: everyone, the loop too, goes where the
        scheduler finds room."""
        if self._pinned is not None:
            self._unpin()
        if self._loop_pinned:
            self._loop_pinned = False
            self._pin_loop(self.cpus)

    def idle(self, key: Hashable) -> None:
        """``key``'s invocation ended."""
        self._busy.discard(key)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def gone(self, key: Hashable) -> None:
        """``key`` left service: it is no longer counted, and its pid no longer touched."""
        self.idle(key)
        if self._pinned is not None and self._pinned[0] is key:
            self._pinned = None

    def _pin_loop(self, mask: frozenset[int]) -> None:
        try:
            self._set(0, mask)  # (called on the loop's thread)
        except OSError:
            pass

    def _spread(self) -> None:
        self._timer = None
        if self._pinned is not None:
            self._unpin()

    def _unpin(self) -> None:
        _key, pid = self._pinned
        self._pinned = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            self._set(pid, self.cpus)
        except OSError:
            pass  # gone already

    def describe(self) -> str:
        if self._loop is None:
            return "off"
        if not self._loop_pinned:
            return f"colocate (apart now, {len(self.cpus)} CPUs)"
        return f"colocate (loop on CPU {self.cpu} of {len(self.cpus)})"
