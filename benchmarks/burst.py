"""Burst scaling: N simultaneous invocations of a function that sleeps 1 s.

    python benchmarks/burst.py [--sizes 10,100,500] [--runtime python3.12] [--rounds 1]
                               [--compare SRC --serve-args ... --compare-args ...]

Starts its own ``lamb serve``. For each N, a fresh function (so every
invocation needs a new environment) is invoked N times at once from N client
threads, each with its own keep-alive connection opened beforehand. Reported:
``total_s`` (first request sent to last response received),
``start_overhead_s`` = total_s - 1 s of sleeping: the time Lamb took to start N
environments in parallel on this machine, ``errors`` (every invocation must succeed) and
``environments`` (Lamb's count of the function's environments: how many it started).
The function is deleted afterwards, so its environments do not weigh on the next burst.

``--compare`` (``pairs.py``) runs every burst on two servers, alternating which goes first,
``--rounds`` times; e.g. network isolation against the host's network::

    python benchmarks/burst.py --sizes 100,500 --rounds 3 --compare . \\
        --serve-args "--network isolated" --compare-args "--network host"
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import pairs
from invoke_latency import call, connect, wait_active, zip_of


def burst(endpoint: str, name: str, n: int, runtime: str) -> dict:
    admin = connect(endpoint)
    code = zip_of("import time\ndef handler(e, c):\n    time.sleep(1)\n    return 'ok'\n")
    body = {"FunctionName": name, "Runtime": runtime, "Handler": "app.handler", "Timeout": 60,
            "Role": "arn:aws:iam::000000000000:role/bench", "Code": {"ZipFile": code}}
    assert call(admin, "POST", "/2015-03-31/functions", json.dumps(body).encode())[0] == 201
    wait_active(admin, name)
    conns = [connect(endpoint) for _ in range(n)]
    barrier = threading.Barrier(n + 1)
    done: list[float] = []
    errors: list = []

    def one(c) -> None:
        barrier.wait()
        status, out = call(c, "POST", f"/2015-03-31/functions/{name}/invocations", b"{}")
        if status != 200 or out != b'"ok"':
            errors.append((status, out[:200]))
        done.append(time.perf_counter())

    threads = [threading.Thread(target=one, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    total = max(done) - t0
    for c in conns:
        c.close()
    envs = call(admin, "GET", "/_lamb/environments")
    environments = len([e for e in json.loads(envs[1]) if e.get("function") == name]) if envs[0] == 200 else None
    assert call(admin, "DELETE", f"/2015-03-31/functions/{name}")[0] == 204
    return {"n": n, "runtime": runtime, "total_s": round(total, 3), "start_overhead_s": round(total - 1.0, 3),
            "errors": len(errors), "environments": environments, "first_errors": errors[:3]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,100,500")
    ap.add_argument("--runtime", default="python3.12")
    ap.add_argument("--rounds", type=int, default=1)
    pairs.add_args(ap)
    args = ap.parse_args()
    sides = pairs.start(args)
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            overhead: dict[str, list[float]] = {s.label: [] for s in sides}
            for r in range(args.rounds):
                for s in pairs.order(sides, r):
                    out = burst(s.endpoint, f"burst-{n}-{r}", n, args.runtime)
                    overhead[s.label].append(out["start_overhead_s"])
                    print(json.dumps({"server": s.label, "round": r, **out}), flush=True)
            if len(sides) == 2:
                print(json.dumps({"n": n, "start_overhead_s_median": {k: round(statistics.median(v), 3)
                                                                      for k, v in overhead.items()},
                                  "this_minus_compare_s": round(pairs.median_of_differences(
                                      overhead["this"], overhead["compare"]), 3)}), flush=True)
    finally:
        pairs.stop(sides)


if __name__ == "__main__":
    main()
