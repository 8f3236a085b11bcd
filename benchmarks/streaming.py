"""Response streaming: time to first byte, and Lamb's memory under many slow streams.

    python benchmarks/streaming.py [--ttfb 200] [--streams 100] [--small-mb 1] [--large-mb 20]

Starts its own ``lamb serve`` (bandwidth cap off: ``LAMB_LIMIT_STREAM_BANDWIDTH_BYTES_PER_S=0``,
so that the large phase is not paced at 2 MB/s past 6 MB) and one ``provided.al2023``
function whose bootstrap (Python, http.client) streams through the Runtime API: its first
chunk is the wall-clock time at which it wrote it, then ``chunks`` blocks of 64 KB.

* **Time to first byte**: ``--ttfb`` sequential requests through a RESPONSE_STREAM function
  URL and through InvokeWithResponseStream (boto3); the function writes its stamp, then
  pauses 50 ms before the rest, so the first piece the client reads is the stamp alone.
  TTFB = the client's clock when that piece arrives minus the stamp (one host, one clock).
* **Memory**: ``--streams`` concurrent URL streams, each read by a slow client (64 KB reads,
  2 ms apart), first ``--small-mb`` then ``--large-mb`` per stream; the Lamb process's
  resident set (VmRSS, sampled every 20 ms) at its peak in each phase. Flow control holds
  what Lamb buffers per stream to a bounded amount, so the peak must not grow with the bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import statistics
import stat
import sys
import threading
import time
import zipfile
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from invoke_latency import boto_kw, call, connect, pct, start_server, stop_server, wait_active  # noqa: E402

BOOTSTRAP = r'''#!/usr/bin/env python3
import http.client, json, os, socket, time
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
c = http.client.HTTPConnection(host, int(port))
c.connect()
c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as Node's runtime client: no Nagle
while True:
    c.request("GET", "/2018-06-01/runtime/invocation/next")
    r = c.getresponse()
    ev = json.loads(r.read())
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    if "rawPath" in ev:
        ev = json.loads(ev.get("body") or "{}")
    c.putrequest("POST", "/2018-06-01/runtime/invocation/%s/response" % rid)
    c.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    def chunk(b):
        c.send(b"%x\r\n%s\r\n" % (len(b), b))
    chunk(b"%.6f" % time.time())
    if ev.get("pause"):
        time.sleep(ev["pause"])
    block = b"x" * 65536
    for _ in range(ev.get("chunks", 0)):
        chunk(block)
    c.send(b"0\r\n\r\n")
    c.getresponse().read()
'''


def package() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        info.create_system = 3
        z.writestr(info, BOOTSTRAP)
    return base64.b64encode(buf.getvalue()).decode()


def setup(endpoint: str, name: str) -> str:
    conn = connect(endpoint)

    def post(path, obj):
        status, out = call(conn, "POST", path, json.dumps(obj).encode())
        if status >= 300:
            raise SystemExit(f"POST {path}: {status} {out[:300]!r}")
        return json.loads(out) if out else {}

    post("/2015-03-31/functions", {"FunctionName": name, "Runtime": "provided.al2023", "Handler": "x",
                                   "Role": "arn:aws:iam::000000000000:role/bench", "Code": {"ZipFile": package()},
                                   "Timeout": 300})
    wait_active(conn, name)
    url = post(f"/2021-10-31/functions/{name}/url", {"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"})
    post(f"/2015-03-31/functions/{name}/policy", {"StatementId": "u", "Action": "lambda:InvokeFunctionUrl",
                                                  "Principal": "*", "FunctionUrlAuthType": "NONE"})
    post(f"/2015-03-31/functions/{name}/policy", {"StatementId": "i", "Action": "lambda:InvokeFunction",
                                                  "Principal": "*", "InvokedViaFunctionUrl": True})
    return urlparse(url["FunctionUrl"]).hostname


def ttfb_url(endpoint: str, host: str, n: int) -> list[float]:
    out = []
    body = json.dumps({"pause": 0.05, "chunks": 1})
    for _ in range(n):
        conn = connect(endpoint)
        conn.request("POST", "/", body=body, headers={"Host": host, "Content-Type": "application/json"})
        r = conn.getresponse()
        first = r.read1()
        out.append((time.time() - float(first)) * 1000)
        r.read()
        conn.close()
    return out


def ttfb_api(endpoint: str, name: str, n: int) -> list[float]:
    import boto3
    from botocore.config import Config

    lam = boto3.client("lambda", **boto_kw(endpoint), config=Config(retries={"max_attempts": 0}))
    out = []
    for _ in range(n):
        events = iter(lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"pause": 0.05, "chunks": 1}')
                      ["EventStream"])
        first = next(events)["PayloadChunk"]["Payload"]
        out.append((time.time() - float(first)) * 1000)
        for _ in events:
            pass
    return out


async def slow_reader(port: int, host: str, chunks: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"chunks": chunks}).encode()
    writer.write(b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (host.encode(), len(body), body))
    total = 0
    while True:
        data = await reader.read(65536)
        if not data:
            break
        total += len(data)
        await asyncio.sleep(0.002)
    writer.close()
    return total


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def phase(pid: int, port: int, host: str, streams: int, mb: int) -> tuple[int, float, int]:
    """(peak RSS KB during the phase, seconds, bytes received)."""
    peak = [rss_kb(pid)]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    start = time.perf_counter()

    async def run():
        return await asyncio.gather(*(slow_reader(port, host, mb * 16) for _ in range(streams)))

    got = asyncio.run(run())
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    return peak[0], elapsed, sum(got)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ttfb", type=int, default=200)
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--small-mb", type=int, default=1)
    ap.add_argument("--large-mb", type=int, default=20)
    args = ap.parse_args()
    os.environ["LAMB_LIMIT_STREAM_BANDWIDTH_BYTES_PER_S"] = "0"
    proc = data = None
    try:
        proc, endpoint, data = start_server()
        name = "streamer"
        host = setup(endpoint, name)
        port = urlparse(endpoint).port
        ttfb_url(endpoint, host, 20)  # warm
        url = ttfb_url(endpoint, host, args.ttfb)
        api = ttfb_api(endpoint, name, args.ttfb)
        for label, v in (("URL", url), ("InvokeWithResponseStream", api)):
            print(f"TTFB {label}: p50 {statistics.median(v):.2f} ms, p90 {pct(v, 0.9):.2f} ms, p99 {pct(v, 0.99):.2f} ms")
        phase(proc.pid, port, host, args.streams, args.small_mb)  # warm: one environment per stream
        base = rss_kb(proc.pid)
        print(f"Lamb RSS after warm-up: {base / 1024:.1f} MB")
        for mb in (args.small_mb, args.large_mb):
            peak, secs, total = phase(proc.pid, port, host, args.streams, mb)
            print(f"{args.streams} streams x {mb} MB ({total / 2**20:.0f} MB in {secs:.1f} s): "
                  f"peak Lamb RSS {peak / 1024:.1f} MB (+{(peak - base) / 1024:.1f} MB over warm)")
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
