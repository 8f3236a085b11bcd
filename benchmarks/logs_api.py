"""CloudWatch Logs API: log ingestion from a function, Lamb's memory meanwhile, FilterLogEvents scans.

    python benchmarks/logs_api.py [--ingest-mb 1024] [--events 1000000] [--streams 10]

Starts its own ``lamb serve``.

* **Ingestion**: one python3.12 function (1,024 MB, 900 s) writes ``--ingest-mb`` MB to stdout
  in 1 MB writes of 100-byte lines in one invocation; MB/s = bytes / the Invoke's wall time
  (the function's own writing included). Lamb's resident set (VmRSS of the server process,
  sampled every 50 ms) before and at its peak during the invocation: logs are written out
  per megabyte, so it must not grow with the bytes.
* **FilterLogEvents**: ``--events`` events of ~100 bytes put with PutLogEvents into
  ``--streams`` streams of one group (one in 100,000 holds ``needle``, one in 10 is a JSON
  ``ERROR`` record), then full scans: a term that matches few events (one call reads
  everything), a JSON pattern, and the first 10,000-event page without a pattern.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from invoke_latency import root_key, start_server, stop_server, zip_of  # noqa: E402

WRITER = '''
import sys, time
def handler(event, context):
    line = ("x" * 99 + "\\n")
    block = line * 10486  # ~1 MB
    t = time.time()
    for _ in range(event["mb"]):
        sys.stdout.write(block)
    sys.stdout.flush()
    return time.time() - t
'''


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def clients(endpoint: str, data: str):
    key, secret = root_key(data)
    cfg = Config(retries={"max_attempts": 0}, read_timeout=960, connect_timeout=5)
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret,
              config=cfg)
    return boto3.client("lambda", **kw), boto3.client("logs", **kw)


def ingest(lam, logs, pid: int, mb: int) -> None:
    import base64

    lam.create_function(FunctionName="writer", Runtime="python3.12", Handler="app.handler", MemorySize=1024,
                        Timeout=900, Role="arn:aws:iam::000000000000:role/bench",
                        Code={"ZipFile": base64.b64decode(zip_of(WRITER))})
    lam.get_waiter("function_active_v2").wait(FunctionName="writer", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    warm = lam.invoke(FunctionName="writer", Payload=b'{"mb": 1}')
    assert "FunctionError" not in warm, warm["Payload"].read()
    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    resp = lam.invoke(FunctionName="writer", Payload=b'{"mb": %d}' % mb)
    assert "FunctionError" not in resp, resp["Payload"].read()
    elapsed = time.perf_counter() - t0
    done.set()
    t.join()
    stored = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/writer")["logGroups"][0]["storedBytes"]
    print(f"ingestion: {mb} MB in {elapsed:.1f} s = {mb / elapsed:.1f} MB/s; stored {stored / 2**20:.0f} MB; "
          f"Lamb VmRSS {before / 1024:.0f} MB before, {peak[0] / 1024:.0f} MB peak (+{(peak[0] - before) / 1024:.0f} MB)")


def put_events(logs, total: int, streams: int) -> None:
    logs.create_log_group(logGroupName="/bench/filter")
    base = int(time.time() * 1000) - total  # one event per millisecond per stream, in the past
    per = total // streams
    t0 = time.perf_counter()
    for s in range(streams):
        name = f"stream-{s:02d}"
        logs.create_log_stream(logGroupName="/bench/filter", logStreamName=name)
        for start in range(0, per, 5000):
            events = []
            for i in range(start, min(per, start + 5000)):
                n = s * per + i
                if n % 100_000 == 7:
                    msg = f"needle {n} " + "y" * 80
                elif n % 10 == 3:
                    msg = '{"level": "ERROR", "n": %d, "pad": "%s"}' % (n, "z" * 60)
                else:
                    msg = f"INFO event {n} " + "x" * 80
                events.append({"timestamp": base + i, "message": msg})
            logs.put_log_events(logGroupName="/bench/filter", logStreamName=name, logEvents=events)
    elapsed = time.perf_counter() - t0
    print(f"PutLogEvents: {total:,} events in {elapsed:.1f} s = {total / elapsed:,.0f} events/s")


def scan(logs, label: str, **kw) -> None:
    t0 = time.perf_counter()
    resp = logs.filter_log_events(logGroupName="/bench/filter", **kw)
    elapsed = time.perf_counter() - t0
    print(f"FilterLogEvents {label}: {len(resp['events']):,} events returned in {elapsed:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingest-mb", type=int, default=1024)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--streams", type=int, default=10)
    args = ap.parse_args()
    proc = data = None
    try:
        proc, endpoint, data = start_server()
        time.sleep(1)  # the credentials file is written once the port is up
        lam, logs = clients(endpoint, data)
        if args.ingest_mb:
            ingest(lam, logs, proc.pid, args.ingest_mb)
        if args.events:
            put_events(logs, args.events, args.streams)
            scan(logs, "term 'needle' (whole group read)", filterPattern="needle")
            scan(logs, "JSON { $.level = \"ERROR\" }, first page", filterPattern='{ $.level = "ERROR" }')
            scan(logs, "JSON { $.n = 999999 } (whole group read)", filterPattern="{ $.n = 999999 }")
            scan(logs, "no pattern, first page")
            print(f"Lamb VmHWM after the scans: {rss_kb(proc.pid, 'VmHWM') / 1024:.0f} MB")
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
