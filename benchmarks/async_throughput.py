"""Asynchronous invocation: events accepted per second (durably) and backlog drain rate.

    python benchmarks/async_throughput.py [--seconds 5] [--connections 64] [--clients 2] [--concurrency 16]

Starts its own ``lamb serve`` (free loopback port, temporary data dir) and:

1. **Accept.** A function whose handler sleeps 60 s, with
   ``LAMB_ASYNC_CONCURRENCY=1``, so dispatch is effectively paused and the numbers
   are about acceptance alone. ``--clients`` processes, each an asyncio loop with
   ``--connections`` keep-alive connections (TCP_NODELAY), send
   ``Invoke``/``InvocationType: Event`` (a ~60-byte JSON event) back to back for
   ``--seconds``. Every 202 counted was fsynced to ``events.db`` first (group commit,
   ``synchronous=FULL``). Reports events/s and per-request latency percentiles.
2. **Drain.** The function's code is replaced by a no-op handler, Lamb is stopped
   (SIGTERM) and restarted on the same data dir with
   ``LAMB_ASYNC_CONCURRENCY=--concurrency``: the accepted events are now a backlog.
   Reports the time from the restart until ``/_lamb/health`` says the queue is
   empty, and backlog / that time (events/s, invocations included).

Raw HTTP instead of boto3 so the numbers measure Lamb, not botocore (~1 ms of
client CPU per call, which on a 2-core host would starve the server). Lamb checks signatures
(its default): each connection signs its event once with the root key from the credentials
file and sends it again and again (the same signed request, as within SigV4's 5 minutes a
client may), so Lamb verifies every request and the client spends nothing per call.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from invoke_latency import KEYS, create_role, root_key, signed_headers, zip_of

SLOW = "import time\ndef handler(event, context):\n    time.sleep(60)\n"
FAST = "def handler(event, context):\n    return None\n"
NAME = "bench-async"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data: str, port: int, env_extra: dict) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMB_")}
    env.update(env_extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lamb", "serve", "--port", str(port), "--data-dir", data],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            health(port)
            return proc
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise SystemExit("lamb serve did not start")


def health(port: int) -> dict:
    headers = signed_headers(f"http://127.0.0.1:{port}", "GET", "/_lamb/health", b"")  # the operator's details
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/_lamb/health", headers=headers),
                                timeout=2) as r:
        return json.loads(r.read())


def api(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    raw = json.dumps(body).encode() if body is not None else b""
    conn.request(method, path, body=raw or None, headers=signed_headers(f"http://127.0.0.1:{port}", method, path, raw))
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, (json.loads(data) if data else {})


def wait_active(port: int) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        _, out = api(port, "GET", f"/2015-03-31/functions/{NAME}")
        cfg = out["Configuration"]
        if cfg.get("State") == "Active" and cfg.get("LastUpdateStatus") == "Successful":
            return
        time.sleep(0.1)
    raise SystemExit("function never became Active")


# ------------------------------------------------------------ load generator
async def _connection(port: int, end: float, counts: list, lats: list, wid: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    path = f"/2015-03-31/functions/{NAME}/invocations"
    body = b'{"worker": %d, "pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' % wid
    headers = signed_headers(f"http://127.0.0.1:{port}", "POST", path, body)
    headers.pop("X-Amz-Invocation-Type", None)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Invocation-Type: Event\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())).encode()
    request = head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    n = 0
    while time.perf_counter() < end:
        t = time.perf_counter()
        writer.write(request)
        status_line = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await reader.readexactly(length)
        if b" 202 " in status_line:
            counts[0] += 1
            lats.append(time.perf_counter() - t)
        else:
            counts[1] += 1
        n += 1
    writer.close()


def _client(port: int, connections: int, seconds: float, start_at: float, wid: int, q, keys: dict) -> None:
    KEYS.update(keys)
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass

    async def main() -> tuple:
        while time.time() < start_at:
            await asyncio.sleep(0.001)
        end = time.perf_counter() + seconds
        counts, lats = [0, 0], []
        await asyncio.gather(*(_connection(port, end, counts, lats, wid * 1000 + i) for i in range(connections)))
        return counts, lats

    counts, lats = asyncio.run(main())
    q.put((counts, lats))


def accept_phase(port: int, clients: int, connections: int, seconds: float) -> dict:
    q = multiprocessing.Queue()
    start_at = time.time() + 1.0
    procs = [multiprocessing.Process(target=_client, args=(port, connections, seconds, start_at, w, q, dict(KEYS)))
             for w in range(clients)]
    for p in procs:
        p.start()
    ok = errors = 0
    lats: list[float] = []
    for _ in procs:
        (a, b), ls = q.get()
        ok, errors = ok + a, errors + b
        lats += ls
    for p in procs:
        p.join()
    lats.sort()

    def pct(p: float) -> float:
        return round(lats[min(len(lats) - 1, int(len(lats) * p))] * 1000, 2) if lats else 0.0

    return {"accepted": ok, "errors": errors, "seconds": seconds, "events_per_s": round(ok / seconds),
            "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": pct(1.0)},
            "clients": clients, "connections_per_client": connections}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--runtime", default="python3.12")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="lamb-bench-async-")
    port = free_port()
    proc = start(data, port, {"LAMB_ASYNC_CONCURRENCY": "1"})
    try:
        KEYS[f"http://127.0.0.1:{port}"] = root_key(data)  # authentication is on: sign with the root key
        create_role(f"http://127.0.0.1:{port}")  # the function's role, in Lamb's IAM
        status, out = api(port, "POST", "/2015-03-31/functions", {
            "FunctionName": NAME, "Runtime": args.runtime, "Handler": "app.handler", "Timeout": 120,
            "Role": "arn:aws:iam::000000000000:role/bench", "Code": {"ZipFile": zip_of(SLOW)}})
        assert status == 201, (status, out)
        wait_active(port)
        api(port, "PUT", f"/2019-09-25/functions/{NAME}/event-invoke-config", {"MaximumRetryAttempts": 0})
        acc = accept_phase(port, args.clients, args.connections, args.seconds)
        print(json.dumps({"accept": acc}))
        commits = health(port)["async"]
        print(json.dumps({"group_commit": {"writes": commits["writes"], "commits": commits["group_commits"],
                                           "writes_per_commit": round(commits["writes"] / max(1, commits["group_commits"]), 1)}}))
        status, _ = api(port, "PUT", f"/2015-03-31/functions/{NAME}/code", {"ZipFile": zip_of(FAST)})
        assert status == 200
        wait_active(port)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        t0 = time.perf_counter()
        proc = start(data, port, {"LAMB_ASYNC_CONCURRENCY": str(args.concurrency)})
        listening = time.perf_counter() - t0
        backlog = acc["accepted"]
        while True:
            h = health(port)["async"]
            if h["queued"] == 0:
                break
            time.sleep(0.05)
        took = time.perf_counter() - t0
        print(json.dumps({"drain": {"backlog": backlog, "seconds": round(took, 2), "restart_to_listening_s": round(listening, 2),
                                    "events_per_s": round(backlog / took) if took else None,
                                    "concurrency": args.concurrency, "invocations": h["invocations"],
                                    "succeeded": h["succeeded"]}}))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
