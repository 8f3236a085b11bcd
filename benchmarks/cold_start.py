"""Cold start: create a function, then time its first invocation (client-observed).

    python benchmarks/cold_start.py [--endpoint URL] [--n 40] [--runtime python3.12] [--compare PYTHONPATH]

Without --endpoint it starts its own ``lamb serve`` (temporary data dir). For
each of ``--n`` fresh hello-world functions it measures, over one keep-alive
connection with raw HTTP (no botocore overhead):

* ``invoke_ms``: the first Invoke, which starts a new execution environment;
* ``create_plus_invoke_ms``: CreateFunction (zip upload, store, unpack) plus that Invoke;
* ``init_ms``: the Init Duration Lamb reports in the REPORT line (LogType Tail).

One function at a time, so the numbers are latency, not throughput.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import time

from invoke_latency import call, connect, pct, start_server, stop_server, wait_active, zip_of

HANDLER = "def handler(event, context):\n    return {'hello': 'world'}\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--runtime", default="python3.12")
    ap.add_argument("--compare", metavar="PYTHONPATH",
                    help="also measure the Lamb found there (e.g. an older commit's src), interleaved: "
                         "function i on one server, then on the other")
    args = ap.parse_args()
    servers: list[tuple[str, object, str, object]] = []  # (label, proc, endpoint, data)
    try:
        if args.endpoint is not None:
            servers.append(("this", None, args.endpoint, None))
        else:
            servers.append(("this", *start_server()))
        if args.compare:
            servers.append(("compare", *start_server(args.compare)))
        results = {label: ([], [], []) for label, *_ in servers}
        conns = {}
        body = {"Runtime": args.runtime, "Handler": "app.handler", "Role": "arn:aws:iam::000000000000:role/bench",
                "Code": {"ZipFile": zip_of(HANDLER)}}
        for label, _, endpoint, _ in servers:
            conns[label] = conn = connect(endpoint)
            # Warm the runtime (zygote) once, as a running server would have it.
            warm = f"cold-warmup-{os.getpid()}"
            call(conn, "POST", "/2015-03-31/functions", json.dumps({**body, "FunctionName": warm}).encode())
            wait_active(conn, warm)
        order = list(conns.items())
        for i in range(args.n):
            for label, conn in order if i % 2 == 0 else order[::-1]:  # neither always goes first
                one(conn, body, f"cold-{os.getpid()}-{i}", *results[label])

        def summary(xs):
            return {"p50": round(pct(xs, 0.5), 2), "p90": round(pct(xs, 0.9), 2), "max": round(max(xs), 2)}

        for label, (invoke_ms, total_ms, init_ms) in results.items():
            print(json.dumps({"server": label, "runtime": args.runtime, "n": args.n, "invoke_ms": summary(invoke_ms),
                              "create_plus_invoke_ms": summary(total_ms), "init_ms": summary(init_ms)}))
        if args.compare:
            # Pairs measured back to back: the median difference is the least noisy comparison.
            this, other = results["this"][0], results["compare"][0]
            diffs = [a - b for a, b in zip(this, other)]
            print(json.dumps({"invoke_ms_this_minus_compare": {"p50": round(pct(diffs, 0.5), 2)}}))
    finally:
        for _, proc, _, data in servers:
            stop_server(proc, data)


def one(conn, body: dict, name: str, invoke_ms: list, total_ms: list, init_ms: list) -> None:
    """Create one function and time its first invocation."""
    t0 = time.perf_counter()
    status, out = call(conn, "POST", "/2015-03-31/functions", json.dumps({**body, "FunctionName": name}).encode())
    assert status == 201, out
    assert json.loads(out)["State"] == "Active"
    t1 = time.perf_counter()
    conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=b"{}",
                 headers={"X-Amz-Log-Type": "Tail", "Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    t2 = time.perf_counter()
    assert resp.status == 200 and payload == b'{"hello": "world"}', payload
    log = base64.b64decode(resp.getheader("X-Amz-Log-Result")).decode()
    init_ms.append(float(re.search(r"Init Duration: ([\d.]+) ms", log).group(1)))
    invoke_ms.append((t2 - t1) * 1000)
    total_ms.append((t2 - t0) * 1000)


if __name__ == "__main__":
    main()
