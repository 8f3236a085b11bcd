"""The global memory budget over all execution environments (issue 3).

A start beyond the budget evicts idle environments, least recently used first
over every function, and is throttled (429) only when that is not enough.
"""

from __future__ import annotations

import os
import threading

import pytest

from .conftest import create, invoke, unique, wait_for

SLEEPER = ("import time\n"
           "def handler(e, c):\n"
           "    time.sleep(e.get('s', 0))\n"
           "    return {'stream': c.log_stream_name}\n")

BUDGET = {"LAMB_ENV_MEMORY_MB": "512"}  # four environments of 128 MB


def _client(server):
    return server.client(max_pool_connections=50)


def _start(fresh_server, *prefixes):
    """A server with a 512 MB budget, its client, and a 128 MB function per prefix."""
    server = fresh_server(env=BUDGET)
    lam = _client(server)
    names = [unique(p) for p in prefixes]
    for name in names:
        create(lam, name, SLEEPER, Timeout=30, MemorySize=128)
    return server, lam, names


def _envs(server, name):
    return [e for e in server.get_json("/_lamb/environments") if e["function"] == name]


def _memory(server):
    return server.get_json("/_lamb/health")["memory"]


def _parallel(lam, name, seconds):
    """One invocation per entry of ``seconds``, all at once; returns their payloads in that order."""
    out: list = [None] * len(seconds)
    barrier = threading.Barrier(len(seconds))

    def one(i):
        barrier.wait()
        try:
            out[i] = invoke(lam, name, {"s": seconds[i]})[1]
        except Exception as e:  # reported by the caller's assertions
            out[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(seconds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def test_new_function_evicts_the_least_recently_used_idle_environment(fresh_server):
    server, lam, (a, b) = _start(fresh_server, "lru-a", "lru-b")
    assert _memory(server) == {"budget_mb": 512, "reserved_mb": 0, "evictions": 0, "throttles": 0}

    # Four environments of A, released one after the other: the 0.2 s one is the least recently used.
    results = _parallel(lam, a, [0.2, 0.8, 1.4, 2.0])
    streams = [r["stream"] for r in results]
    assert len(set(streams)) == 4, results
    wait_for(lambda: [e["state"] for e in _envs(server, a)] == ["idle"] * 4, 10, 0.05, "four idle environments")
    pids = {e["pid"] for e in _envs(server, a)}
    assert _memory(server)["reserved_mb"] == 512

    # B's cold start does not fit: A's least recently used idle environment makes room.
    assert invoke(lam, b, {})[0]["StatusCode"] == 200
    mem = _memory(server)
    assert (mem["reserved_mb"], mem["evictions"], mem["throttles"]) == (512, 1, 0)
    left = _envs(server, a)
    assert len(left) == 3
    gone = pids - {e["pid"] for e in left}
    assert len(gone) == 1
    wait_for(lambda: not any(_alive(p) for p in gone), 10, 0.05, "the evicted environment's process to exit")

    # The three A environments that stayed are the three most recently used, still warm.
    again = _parallel(lam, a, [0.5, 0.5, 0.5])
    assert {r["stream"] for r in again} == set(streams[1:]), again
    assert _memory(server)["evictions"] == 1


def test_throttled_when_busy_environments_fill_the_budget(fresh_server):
    server, lam, (s, t) = _start(fresh_server, "busy-s", "busy-t")
    lam.put_function_concurrency(FunctionName=t, ReservedConcurrentExecutions=1)

    out: list = []
    threads = [threading.Thread(target=lambda: out.append(invoke(lam, s, {"s": 4})[0]["StatusCode"])) for _ in range(4)]
    for th in threads:
        th.start()
    try:
        wait_for(lambda: [e["state"] for e in _envs(server, s)] == ["busy"] * 4, 20, 0.05, "four busy environments")

        # A fifth concurrent cold start (of S, or of another function) finds nothing to evict.
        for name in (s, t, t):
            with pytest.raises(lam.exceptions.TooManyRequestsException) as e:
                lam.invoke(FunctionName=name, Payload=b"{}")
            resp = e.value.response
            assert resp["ResponseMetadata"]["HTTPStatusCode"] == 429
            # T's second try would say ReservedFunction... if the first had kept its concurrency slot.
            assert resp["Reason"] == "ConcurrentInvocationLimitExceeded"
            assert resp["Error"]["Message"] == "Rate Exceeded."
        mem = _memory(server)
        assert (mem["reserved_mb"], mem["evictions"], mem["throttles"]) == (512, 0, 3)
    finally:
        for th in threads:
            th.join()
    assert out == [200] * 4

    # Once they are idle, a new start evicts one of them, and S stays warm in the other three.
    assert invoke(lam, t, {})[0]["StatusCode"] == 200
    assert invoke(lam, s, {})[0]["StatusCode"] == 200
    mem = _memory(server)
    assert (mem["reserved_mb"], mem["evictions"], mem["throttles"]) == (512, 1, 3)
    assert len(_envs(server, s)) == 3

    def throttles(name):
        series = server.get_json(f"/_lamb/metrics?metric=Throttles&FunctionName={name}")
        return sum(p["sum"] for p in series[0]["points"]) if series else 0

    assert (throttles(s), throttles(t)) == (1, 2)


def test_provisioned_concurrency_beyond_the_budget_fails(fresh_server):
    server, lam, (pc,) = _start(fresh_server, "prov")
    od = unique("ondemand")
    create(lam, od, SLEEPER, Timeout=30, MemorySize=256)
    version = lam.publish_version(FunctionName=pc)["Version"]
    assert invoke(lam, od, {})[0]["StatusCode"] == 200  # an idle 256 MB environment

    # Four provisioned environments take the whole budget: the idle on-demand one is evicted.
    lam.put_provisioned_concurrency_config(FunctionName=pc, Qualifier=version, ProvisionedConcurrentExecutions=4)
    wait_for(lambda: lam.get_provisioned_concurrency_config(FunctionName=pc, Qualifier=version)["Status"] == "READY",
             30, 0.1, "provisioned concurrency to be READY")
    assert _envs(server, od) == []
    assert _memory(server)["reserved_mb"] == 512

    # A fifth does not fit: FAILED with the reason; the four keep serving.
    lam.put_provisioned_concurrency_config(FunctionName=pc, Qualifier=version, ProvisionedConcurrentExecutions=5)
    cfg = lam.get_provisioned_concurrency_config(FunctionName=pc, Qualifier=version)
    assert cfg["Status"] == "FAILED", cfg
    assert "INSUFFICIENT_MEMORY" in cfg["StatusReason"] and "512 MB" in cfg["StatusReason"], cfg
    assert cfg["AllocatedProvisionedConcurrentExecutions"] == 4
    assert invoke(lam, pc, {}, Qualifier=version)[0]["StatusCode"] == 200

    # Back to four: READY again.
    lam.put_provisioned_concurrency_config(FunctionName=pc, Qualifier=version, ProvisionedConcurrentExecutions=4)
    assert lam.get_provisioned_concurrency_config(FunctionName=pc, Qualifier=version)["Status"] == "READY"


def test_default_budget_is_reported(lamb_server):
    mem = lamb_server.get_json("/_lamb/health")["memory"]
    assert mem["budget_mb"] is None or mem["budget_mb"] >= 1024
    assert mem["reserved_mb"] >= 0
