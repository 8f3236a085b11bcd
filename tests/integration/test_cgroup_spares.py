"""Environment cgroups made ahead of demand (lamb.sandbox.cgroups.SpareGroups), on the host's real cgroups.

Skipped where Lamb could not use cgroups (not root, no writable hierarchy).
"""

from __future__ import annotations

import os
import time

import pytest

from lamb.sandbox import cgroups

from .conftest import wait_for

TREE = cgroups.detect() if os.geteuid() == 0 else None


@pytest.fixture(autouse=True)
def _tree():
    # The sandbox needs a writable cgroup hierarchy (root); its absence is a failure, not a skip.
    assert TREE is not None, "no writable cgroup hierarchy"


def _limit_mb(g: cgroups.Group) -> int:
    if TREE.version == 1:
        return int((g.paths["memory"] / "memory.limit_in_bytes").read_text()) // (1024 * 1024)
    return int((g.paths[""] / "memory.max").read_text()) // (1024 * 1024)


def _pids_max(g: cgroups.Group) -> str:
    return (g.paths["pids" if TREE.version == 1 else ""] / "pids.max").read_text().strip()


@pytest.fixture
def spares():
    prefix = f"lamb-test-spares-{os.getpid()}"
    pool = cgroups.SpareGroups(TREE, prefix, pids=1024, keep=3)
    pool.REFILL_DELAY_S = 0.0
    taken: list[cgroups.Group] = []
    yield pool, taken
    pool.close()
    for g in taken:
        g.destroy()
    cgroups.remove_tree(TREE.group_dirs(prefix), TREE)
    assert not any(d.exists() for d in TREE.group_dirs(prefix))


def _spare_count(pool) -> int:
    with pool._cond:
        return len(pool._spares)


def test_taken_groups_are_sized_and_spares_follow_the_last_size(spares):
    pool, taken = spares
    first = pool.take(256, 148)
    taken.append(first)
    assert _limit_mb(first) == 256 and _pids_max(first) == "1024"
    wait_for(lambda: _spare_count(pool) == 3, 5, 0.02, "three spares")
    with pool._cond:
        assert all(g.memory_mb == 256 for g in pool._spares)  # sized ahead like the last start
    second = pool.take(256, 148)
    taken.append(second)
    assert second.paths != first.paths and _limit_mb(second) == 256
    # Another size: a spare is resized (v1: memory+swap raised before memory), never shared.
    bigger = pool.take(1024, 592)
    taken.append(bigger)
    assert _limit_mb(bigger) == 1024
    smaller = pool.take(128, 74)
    taken.append(smaller)
    assert _limit_mb(smaller) == 128
    assert len({str(g.paths) for g in taken}) == 4


def test_close_removes_spares_and_stops_making_them(spares):
    pool, taken = spares
    taken.append(pool.take(128, 74))
    wait_for(lambda: _spare_count(pool) == 3, 5, 0.02, "three spares")
    with pool._cond:
        dirs = [d for g in pool._spares for d in g.paths.values()]
    pool.close()
    assert dirs and not any(d.exists() for d in dirs)
    time.sleep(0.1)
    assert _spare_count(pool) == 0
    # After close a start still gets a group of its own, and nothing is made behind it.
    late = pool.take(128, 74)
    taken.append(late)
    assert _limit_mb(late) == 128
    time.sleep(0.1)
    assert _spare_count(pool) == 0
