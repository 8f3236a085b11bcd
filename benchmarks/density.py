"""Density: memory of N idle warm environments of one function.

    python benchmarks/density.py [--n 500] [--runtime python3.12]

Starts its own ``lamb serve``, creates a hello-world function that sleeps
``--sleep`` seconds, fires N invocations at once so that N environments start
(one per concurrent invocation), waits until they are all idle, then sums over
every environment process (waiter, init and runtime) their unique set size
(USS: private pages) and proportional set size (PSS: private plus a fair share
of pages shared with the zygote and each other), from /proc/<pid>/smaps_rollup.
Lamb's own RSS is reported separately.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time

from invoke_latency import call, connect, start_server, stop_server, wait_active, zip_of


def rollup(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        pass
    return out


def descendants(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        kids = subprocess.run(["pgrep", "-P", str(p)], capture_output=True, text=True).stdout.split()
        for k in kids:
            out.append(int(k))
            todo.append(int(k))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--runtime", default="python3.12")
    ap.add_argument("--sleep", type=float, default=2.0)
    args = ap.parse_args()
    proc, endpoint, data = start_server()
    try:
        conn = connect(endpoint)
        code = zip_of("import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 'ok'\n")
        body = {"FunctionName": "density", "Runtime": args.runtime, "Handler": "app.handler", "Timeout": 60,
                "Role": "arn:aws:iam::000000000000:role/bench", "Code": {"ZipFile": code}}
        status, out = call(conn, "POST", "/2015-03-31/functions", json.dumps(body).encode())
        assert status == 201, out
        wait_active(conn, "density")
        zygotes = set(descendants(proc.pid))
        lamb_before = rollup(proc.pid)
        errors = []

        def one():
            try:
                c = connect(endpoint)
                status, out = call(c, "POST", "/2015-03-31/functions/density/invocations", json.dumps({"s": args.sleep}).encode())
                if status != 200 or out != b'"ok"':
                    errors.append((status, out[:200]))
            except Exception as e:  # noqa: BLE001 - report, do not hide
                errors.append(repr(e))

        t0 = time.perf_counter()
        threads = [threading.Thread(target=one) for _ in range(args.n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        burst_s = time.perf_counter() - t0
        envs = json.loads(call(conn, "GET", "/_lamb/environments")[1])
        time.sleep(1.0)  # let them settle (and freeze)
        pids = [p for p in descendants(proc.pid) if p not in zygotes]
        uss = pss = rss = 0
        for p in pids:
            r = rollup(p)
            uss += r.get("Private_Clean", 0) + r.get("Private_Dirty", 0)
            pss += r.get("Pss", 0)
            rss += r.get("Rss", 0)
        lamb_after = rollup(proc.pid)
        print(json.dumps({
            "runtime": args.runtime, "environments": len(envs), "processes": len(pids), "errors": len(errors),
            "burst_seconds": round(burst_s, 2),
            "total_uss_mib": round(uss / 1024, 1), "total_pss_mib": round(pss / 1024, 1),
            "per_env_pss_kib": round(pss / max(1, len(envs))), "per_env_uss_kib": round(uss / max(1, len(envs))),
            "lamb_rss_mib_before": round(lamb_before.get("Rss", 0) / 1024, 1),
            "lamb_rss_mib_after": round(lamb_after.get("Rss", 0) / 1024, 1),
        }))
        if errors:
            print("first errors:", errors[:3])
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
