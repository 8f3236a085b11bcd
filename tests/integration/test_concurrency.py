"""Parallel invocations get parallel execution environments."""

from __future__ import annotations

import json
import threading
import time

from .conftest import create, invoke, unique

SLEEPER = """
import os, time
def handler(event, context):
    time.sleep(1)
    return {"pid": os.getpid(), "stream": context.log_stream_name, "i": event["i"]}
"""


def test_parallel_invocations(lam, lamb_server):
    name = unique("par")
    create(lam, name, SLEEPER)
    n = 8
    clients = [lamb_server.client(max_pool_connections=2) for _ in range(n)]
    results: list = [None] * n
    errors: list = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait(10)
            resp = clients[i].invoke(FunctionName=name, Payload=json.dumps({"i": i}).encode())
            results[i] = (resp["StatusCode"], resp.get("FunctionError"), json.loads(resp["Payload"].read()))
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - t0
    assert not errors, errors
    assert all(r is not None for r in results)
    assert [r[0] for r in results] == [200] * n
    assert [r[1] for r in results] == [None] * n
    assert sorted(r[2]["i"] for r in results) == list(range(n))
    assert len({r[2]["stream"] for r in results}) == n
    assert elapsed < 2.5, f"8 parallel 1 s invocations took {elapsed:.2f} s"

    # those environments stay warm: a second round reuses them (no new streams)
    _, out = invoke(lam, name, {"i": 99})
    assert out["stream"] in {r[2]["stream"] for r in results}
