"""Burst scaling: N simultaneous invocations of a function that sleeps 1 s.

    python benchmarks/burst.py [--sizes 10,100,500] [--runtime python3.12]

Starts its own ``lamb serve``. For each N, a fresh function (so every
invocation needs a new environment) is invoked N times at once from N client
threads, each with its own keep-alive connection opened beforehand. Reported:
``total_s`` (first request sent to last response received) and
``start_overhead_s`` = total_s - 1 s of sleeping: the time Lamb took to start N
environments in parallel on this machine. All invocations must succeed.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from invoke_latency import call, connect, start_server, stop_server, wait_active, zip_of


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,100,500")
    ap.add_argument("--runtime", default="python3.12")
    args = ap.parse_args()
    proc, endpoint, data = start_server()
    try:
        admin = connect(endpoint)
        code = zip_of("import time\ndef handler(e, c):\n    time.sleep(1)\n    return 'ok'\n")
        for n in [int(x) for x in args.sizes.split(",")]:
            name = f"burst-{n}"
            body = {"FunctionName": name, "Runtime": args.runtime, "Handler": "app.handler", "Timeout": 60,
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
            print(json.dumps({"n": n, "runtime": args.runtime, "total_s": round(total, 3),
                              "start_overhead_s": round(total - 1.0, 3), "errors": len(errors)}))
            if errors:
                print("first errors:", errors[:3])
            for c in conns:
                c.close()
    finally:
        stop_server(proc, data, 60)


if __name__ == "__main__":
    main()
