"""The memory budget's accounting and least-recently-used eviction (lamb.invoke.memory_budget)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lamb.invoke.memory_budget import MemoryBudget, default_budget_mb, host_memory_mb
from lamb.protocol.errors import AwsError


@dataclass(eq=False)
class Env:
    name: str
    mb: int
    last_used: float
    pool: list = field(default_factory=list, repr=False)


class Host:
    """Idle lists per pool (each in last-used order, as VersionPool keeps them) and a budget over them."""

    def __init__(self, budget_mb: int):
        self.pools: list[list[Env]] = []
        self.evicted: list[str] = []
        self.budget = MemoryBudget(budget_mb, idle=lambda: self.pools, size=lambda e: e.mb,
                                   evict=self._evict, last_used=lambda e: e.last_used)

    def pool(self, *envs: tuple[str, int, float]) -> list[Env]:
        lst: list[Env] = []
        for name, mb, used in envs:
            assert self.budget.reserve(mb)
            lst.append(Env(name, mb, used, lst))
        self.pools.append(lst)
        return lst

    def _evict(self, env: Env) -> None:  # what env.shutdown -> VersionPool.env_gone does
        env.pool.remove(env)
        self.evicted.append(env.name)
        self.budget.release(env.mb)


def test_fits_without_evicting():
    h = Host(512)
    h.pool(("a1", 128, 1.0), ("a2", 128, 2.0))
    assert h.budget.reserve(256)
    assert h.evicted == [] and h.budget.reserved_mb == 512


def test_evicts_least_recently_used_over_all_pools():
    h = Host(1024)
    h.pool(("a1", 128, 1.0), ("a2", 128, 4.0), ("a3", 128, 6.0))
    h.pool(("b1", 256, 2.0), ("b2", 256, 5.0))
    h.pool()  # an empty pool
    assert h.budget.reserved_mb == 896
    # 896 + 384 - 1024 = 256 short: a1 (128, oldest) then b1 (256) go; a2 (4.0) stays.
    assert h.budget.reserve(384)
    assert h.evicted == ["a1", "b1"]
    assert h.budget.reserved_mb == 896 - 384 + 384
    assert h.budget.evictions == 2
    # Then the next oldest: a2, then b2.
    assert h.budget.reserve(300)
    assert h.evicted == ["a1", "b1", "a2", "b2"]


def test_does_not_evict_when_it_cannot_help():
    h = Host(512)
    h.pool(("a1", 128, 1.0))
    assert h.budget.reserve(256)  # busy: not in any idle list
    assert not h.budget.reserve(384)  # 128 idle would not make 256 of room
    assert h.evicted == [] and h.budget.reserved_mb == 384
    err = h.budget.throttle()
    assert isinstance(err, AwsError) and err.status == 429
    assert h.budget.describe() == {"budget_mb": 512, "reserved_mb": 384, "evictions": 0, "throttles": 1}


def test_release_makes_room_again():
    h = Host(256)
    assert h.budget.reserve(128) and h.budget.reserve(128)
    assert not h.budget.reserve(128)
    h.budget.release(128)
    assert h.budget.reserve(128)


@pytest.mark.parametrize("budget", [0, -1])
def test_no_budget(budget):
    h = Host(budget)
    for _ in range(1000):
        assert h.budget.reserve(10240)
    assert h.budget.describe()["budget_mb"] is None


def test_default_is_a_multiple_of_host_memory():
    host = host_memory_mb()
    if host is None:
        pytest.skip("no /proc/meminfo")
    assert default_budget_mb() == int(host * 3)
