"""Function URL request latency and throughput, side by side with the Invoke API.

    python benchmarks/function_url.py [--endpoint http://127.0.0.1:9000] [--requests 5000] [--clients 8] [--seconds 5]

Without --endpoint it starts its own ``lamb serve`` (and stops it afterwards). It
creates one hello-world function, gives it a function URL (AuthType NONE, with the two
statements AWS requires) and warms it, then measures in the same run, on the same
warm environment:

* sequential latency, one client on one keep-alive connection (TCP_NODELAY): Invoke
  (POST /2015-03-31/functions/<name>/invocations) and the URL (GET / with the URL's
  ``Host`` header), in alternating blocks of 500 so drift hits both alike; p50/p90/p99;
* throughput: ``--clients`` processes back-to-back for ``--seconds``, Invoke and URL in
  alternating windows (``--rounds`` of each); the median window of each is reported.

The target (issue 14): URL p50 within +0.1 ms of Invoke, URL throughput >= 0.9x Invoke.
Raw HTTP (http.client), as ``invoke_latency.py``, so the numbers measure Lamb.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import statistics
import sys
import time
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from invoke_latency import (KEYS, PATH, call, connect, create_function, latency_args, pct, signed_headers,  # noqa: E402
                            start_server, stop_server, use_endpoint)


def _json(conn, method, path, obj) -> dict:
    status, out = call(conn, method, path, json.dumps(obj).encode())
    if status >= 300:
        raise SystemExit(f"{method} {path} failed: {status} {out[:300]!r}")
    return json.loads(out) if out else {}


def make_url(endpoint: str, name: str) -> str:
    conn = connect(endpoint)
    url = _json(conn, "POST", f"/2021-10-31/functions/{name}/url", {"AuthType": "NONE"})["FunctionUrl"]
    _json(conn, "POST", f"/2015-03-31/functions/{name}/policy",
          {"StatementId": "url", "Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE"})
    _json(conn, "POST", f"/2015-03-31/functions/{name}/policy",
          {"StatementId": "invoke", "Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": True})
    return url


def _request(kind: str, name: str, host: str, endpoint: str):
    if kind == "invoke":
        path, body = PATH.format(name=name), b'{"n": 1}'
        headers = signed_headers(endpoint, "POST", path, body)  # signed once (Lamb checks signatures)

        def one(conn) -> int:
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            return r.status
    else:
        def one(conn) -> int:
            conn.request("GET", "/?n=1", headers={"Host": host})
            r = conn.getresponse()
            r.read()
            return r.status
    return one


def sequential(endpoint: str, name: str, host: str, n: int, block: int = 500) -> dict[str, list[float]]:
    conn = connect(endpoint)
    reqs = {k: _request(k, name, host, endpoint) for k in ("invoke", "url")}
    for one in reqs.values():
        for _ in range(200):
            assert one(conn) == 200
    out: dict[str, list[float]] = {"invoke": [], "url": []}
    while len(out["url"]) < n:
        for kind, one in reqs.items():
            for _ in range(block):
                t = time.perf_counter()
                status = one(conn)
                out[kind].append((time.perf_counter() - t) * 1000)
                assert status == 200, (kind, status)
    return out


def alternating(calls: dict[str, Callable[[], int]], n: int, block: int = 500, warm: int = 200) -> dict[str, list[float]]:
    """Sequential latency (ms) of each of ``calls`` (kind -> one request, answering its status), in
    alternating blocks of ``block`` until each has ``n``, after ``warm`` unmeasured calls each; every
    status must be 200."""
    for kind, one in calls.items():
        for _ in range(warm):
            assert one() == 200, kind
    out: dict[str, list[float]] = {k: [] for k in calls}
    while min(len(v) for v in out.values()) < n:
        for kind, one in calls.items():
            for _ in range(block):
                t = time.perf_counter()
                status = one()
                out[kind].append((time.perf_counter() - t) * 1000)
                assert status == 200, (kind, status)
    return out


def sequential_hosts(targets: dict[str, tuple[str, str]], n: int, block: int = 500) -> dict[str, list[float]]:
    """``targets``: kind -> (endpoint, Host); alternating blocks on one keep-alive connection each."""
    calls = {}
    for k, (endpoint, host) in targets.items():
        one, conn = _request("url", "", host, endpoint), connect(endpoint)
        calls[k] = functools.partial(one, conn)
    return alternating(calls, n, block)


def _worker(kind, endpoint, name, host, seconds, start, q, keys) -> None:
    KEYS.update(keys)
    conn = connect(endpoint)
    one = _request(kind, name, host, endpoint)
    one(conn)
    while time.time() < start:
        time.sleep(0.001)
    end, count = start + seconds, 0
    while time.time() < end:
        if one(conn) == 200:
            count += 1
    q.put(count)


def throughput(kind: str, endpoint: str, name: str, host: str, clients: int, seconds: float) -> float:
    q = multiprocessing.Queue()
    start = time.time() + 1.0
    procs = [multiprocessing.Process(target=_worker, args=(kind, endpoint, name, host, seconds, start, q, dict(KEYS)))
             for _ in range(clients)]
    for p in procs:
        p.start()
    total = sum(q.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def summary(lat: list[float]) -> dict:
    return {"n": len(lat), "p50": round(pct(lat, 0.50), 3), "p90": round(pct(lat, 0.90), 3),
            "p99": round(pct(lat, 0.99), 3), "mean": round(statistics.mean(lat), 3)}


def main() -> None:
    ap = latency_args()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    proc = data = None
    endpoint = args.endpoint and use_endpoint(args.endpoint)
    if endpoint is None:
        proc, endpoint, data = start_server()
    try:
        name = f"bench-url-{os.getpid()}"
        create_function(endpoint, name, args.runtime)
        host = make_url(endpoint, name).split("://", 1)[1].rstrip("/")
        lat = sequential(endpoint, name, host, args.requests)
        inv, url = summary(lat["invoke"]), summary(lat["url"])
        print(json.dumps({"sequential_ms": {"invoke": inv, "url": url,
                                            "url_minus_invoke_p50": round(url["p50"] - inv["p50"], 3)}}))
        windows: dict[str, list[float]] = {"invoke": [], "url": []}
        for _ in range(args.rounds):
            for kind in windows:
                windows[kind].append(throughput(kind, endpoint, name, host, args.clients, args.seconds))
        rates = {k: statistics.median(v) for k, v in windows.items()}
        print(json.dumps({"throughput": {"clients": args.clients, "seconds": args.seconds,
                                         "invoke_per_s": round(rates["invoke"]), "url_per_s": round(rates["url"]),
                                         "url_over_invoke": round(rates["url"] / rates["invoke"], 3)}}))
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
