"""A global memory budget over all execution environments (issue 3).

Issue 3: "A global memory budget (configurable, default a safe share of host RAM)
over all environments: starting one beyond it first evicts idle environments
(least recently used, any function), and throttles with TooManyRequestsException
only if that is not enough."

AWS places environments wherever its fleet has room and never shows a full host;
a Lamb host has a fixed amount of RAM, so Lamb does what AWS's workers do inside,
in the open:

* **What counts.** An environment holds its function's ``MemorySize`` from the
  moment it is started (starting, idle, busy, provisioned) until it leaves
  service (DEAD: shutdown or kill begun). An environment in its shutdown grace
  period no longer counts: it takes no work and is SIGKILLed within
  ``shutdown_grace_s``, so an eviction makes room at once instead of making the
  cold start wait for an exit (the overshoot is bounded by the grace period).
* **Eviction.** A start that does not fit shuts down idle on-demand environments,
  least recently used first over every pool (any function, version or retired
  configuration), until it fits. Provisioned and busy environments are never
  evicted. When even evicting every idle environment would not make room, none
  is evicted (a warm environment is not thrown away for nothing).
* **Throttle.** Then an on-demand start is refused with TooManyRequestsException
  (429). AWS has no host-capacity throttle; the budget is shared by all
  functions like the account's concurrency, so the Reason is the account one,
  ``ConcurrentInvocationLimitExceeded`` with "Rate Exceeded.": clients, SDK
  retries and Lamb's async queue (backoff) already treat it as "retry later".
  A provisioned environment that does not fit turns its config FAILED with a
  reason (see ``VersionPool``) instead of waiting IN_PROGRESS for ever.
* **Default.** ``MemorySize`` is a ceiling (the isolating backend's cgroup
  limit), not what an environment uses: an idle Python environment is ~4 MB and
  a busy small handler a few tens of MB (docs/performance.md). The default
  budget is 75 % of host RAM (MemTotal, or the memory cgroup limit Lamb runs
  under when lower) for what environments really use, assuming they use at most
  a quarter of their ``MemorySize`` on average: 3 × RAM of ``MemorySize``. So a
  24 GB host runs ~560 environments of 128 MB at once (the density target is
  500). Hosts whose functions use their memory set ``LAMB_ENV_MEMORY_MB`` (e.g.
  to 75 % of RAM for a hard guarantee); 0 or less turns the budget off.

Cost: a warm invocation never comes here (the pool pops an idle environment);
a cold start that fits adds an integer comparison; only a start over budget
walks the idle environments, merging the pools' idle lists, each of which is
already in last-used order (environments are appended as they are released).
"""

from __future__ import annotations

import heapq
from typing import Callable, Generic, Iterable, Sequence, TypeVar

from ..protocol.errors import AwsError
from .concurrency import ACCOUNT_LIMIT, throttle

E = TypeVar("E")

HOST_SHARE = 0.75  # of RAM, for what environments really use
USE_PER_MEMORY_SIZE = 0.25  # assumed average use / MemorySize


def _cgroup_limit_mb() -> int | None:
    """The memory limit of Lamb's own cgroup (v2 ``memory.max`` or v1 ``memory.limit_in_bytes``)."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    best = None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            candidate = f"/sys/fs/cgroup{path}/memory.max"
        elif "memory" in controllers.split(","):
            candidate = f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"
        else:
            continue
        try:
            with open(candidate) as f:
                raw = f.read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:  # "max" / ~2^63: no limit
            mb = int(raw) // (1024 * 1024)
            best = mb if best is None else min(best, mb)
    return best


def host_memory_mb() -> int | None:
    """RAM Lamb may use: MemTotal, or its memory cgroup's limit when lower."""
    total = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) // 1024
                    break
    except (OSError, ValueError):
        pass
    limit = _cgroup_limit_mb()
    if total is None or (limit is not None and limit < total):
        return limit
    return total


def default_budget_mb() -> int:
    """The default budget of MemorySize MB (0: unknown host, no budget)."""
    host = host_memory_mb()
    return int(host * HOST_SHARE / USE_PER_MEMORY_SIZE) if host else 0


class MemoryBudget(Generic[E]):
    """MemorySize MB reserved by live environments, against ``budget_mb`` (≤ 0: unlimited).

    ``idle()`` gives the lists of evictable (idle, on-demand) environments, each
    in last-used order; ``size(env)`` its MB; ``evict(env)`` shuts it down and
    must ``release`` its MB (synchronously, as ``VersionPool.env_gone`` does).
    """

    def __init__(self, budget_mb: int, idle: Callable[[], Iterable[Sequence[E]]],
                 size: Callable[[E], int], evict: Callable[[E], None], last_used: Callable[[E], float]):
        self.budget_mb = budget_mb if budget_mb > 0 else 0
        self.reserved_mb = 0
        self.evictions = 0
        self.throttles = 0
        self._idle = idle
        self._size = size
        self._evict = evict
        self._last_used = last_used

    def reserve(self, mb: int) -> bool:
        """Take ``mb`` for an environment about to start; evict idle ones if needed.

        False (and nothing evicted or taken) when it cannot fit.
        """
        if not self.budget_mb or self.reserved_mb + mb <= self.budget_mb:
            self.reserved_mb += mb
            return True
        short = self.reserved_mb + mb - self.budget_mb
        victims: list[E] = []
        for env in heapq.merge(*self._idle(), key=self._last_used):
            victims.append(env)
            short -= self._size(env)
            if short <= 0:
                break
        else:
            return False
        for env in victims:  # chosen first: evicting changes the lists being merged
            self._evict(env)
        self.evictions += len(victims)
        self.reserved_mb += mb
        return True

    def release(self, mb: int) -> None:
        self.reserved_mb -= mb

    def throttle(self) -> AwsError:
        """The 429 for an on-demand start that does not fit (counted)."""
        self.throttles += 1
        return throttle(ACCOUNT_LIMIT)

    def describe(self) -> dict:
        return {"budget_mb": self.budget_mb or None, "reserved_mb": self.reserved_mb,
                "evictions": self.evictions, "throttles": self.throttles}
