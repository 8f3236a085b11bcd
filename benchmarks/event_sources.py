"""SQS event source mappings: latency, throughput against a plain consumer, idle cost.

    python benchmarks/event_sources.py [--latency 200] [--depth 100] [--rounds 5] [--idle 100] [--idle-seconds 30]

Starts moto's server (``python -m moto.server``) as the SQS endpoint and its own
``lamb serve`` (free loopback ports, temporary data dir) reaching it through
``AWS_ENDPOINT_URL_SQS``, with AWS's poller timings (20 s long polls). Then:

1. **Latency.** One mapping (BatchSize 1, no batching window) on a queue; a handler that
   posts ``time.time()`` at its start to a small HTTP sink in this process. One message
   at a time: SendMessage → handler start, ``--latency`` times; p50/p99 in ms (one host
   clock on both sides).
2. **Throughput.** ``--rounds`` backlogs of ``--depth`` messages: each is put on a queue
   while a function's mapping (BatchSize 10) is disabled, then the time from enabling it
   until the handler has seen every message is summed; messages/s (the handler posts its
   batch size to the sink; the queue is checked empty after each round).
   The baseline is a plain boto3 loop in this process (ReceiveMessage 10 with long
   polling, DeleteMessageBatch) over the same backlogs on another queue of the same moto
   server, in the same run. Both are bounded by moto, whose ReceiveMessage scans the
   whole queue (slower the deeper it is, hence small backlogs); the ratio says whether
   Lamb's poller is the bottleneck. Run once with default scaling and once with
   ``ScalingConfig.MaximumConcurrency`` 2. Then Lamb's ``SqsPoller`` alone, in this
   process with a no-op ``invoke``, over the same backlogs: the poller's own rate
   without the invocations.
3. **Idle.** ``--idle`` mappings on ``--idle`` empty queues; the CPU time the Lamb process
   (all its threads) uses over ``--idle-seconds`` once they are enabled, as % of one core.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

sys.path.insert(0, os.path.dirname(__file__))
from invoke_latency import KEYS, boto_kw, create_role, free_port, root_key, zip_of  # noqa: E402

CREDS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
ROLE = "arn:aws:iam::000000000000:role/bench"
NOOP = "def handler(event, context):\n    return None\n"
COUNT = """import json, urllib.request
def handler(event, context):
    urllib.request.urlopen(urllib.request.Request(SINK, data=json.dumps({'n': len(event['Records'])}).encode(),
                                                  method='POST'), timeout=10).read()
"""
STAMP = """import json, time, urllib.request
def handler(event, context):
    t = time.time()
    for r in event['Records']:
        urllib.request.urlopen(urllib.request.Request(SINK, data=json.dumps({'t': t, 'body': r['body']}).encode(),
                                                      method='POST'), timeout=10).read()
"""


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


class Sink:
    def __init__(self) -> None:
        self.items: dict[str, float] = {}
        self.count = 0  # records counted by COUNT handlers
        self.cond = threading.Condition()
        sink = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                doc = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with sink.cond:
                    if "n" in doc:
                        sink.count += doc["n"]
                    else:
                        sink.items[doc["body"]] = doc["t"]
                    sink.cond.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_count(self, n: int, timeout: float = 300) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.count >= n, timeout):
                raise SystemExit(f"only {self.count} of {n} records reached the handler")

    def wait(self, body: str, timeout: float = 30) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: body in self.items, timeout):
                raise SystemExit(f"message {body} never reached the handler")
            return self.items[body]


def queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def function(lam, name: str, source: str) -> None:
    import base64
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                        Code={"ZipFile": base64.b64decode(zip_of(source))}, Timeout=10)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})


def enabled(lam, uuid: str) -> None:
    wait_state(lam, uuid, "Enabled")


def fill(sqs, url: str, n: int) -> None:
    for i in range(0, n, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"m{i + j}"}
                                                      for j in range(min(10, n - i))])


def drained(sqs, url: str) -> bool:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return a["ApproximateNumberOfMessages"] == "0" and a["ApproximateNumberOfMessagesNotVisible"] == "0"


def latency(lam, sqs, sink: Sink, n: int) -> list[float]:
    url, arn = queue(sqs, "bench-latency")
    function(lam, "stamp", f"SINK = {sink.url!r}\n" + STAMP)
    enabled(lam, lam.create_event_source_mapping(FunctionName="stamp", EventSourceArn=arn, BatchSize=1)["UUID"])
    out = []
    for i in range(n + 10):
        body = f"lat-{i}"
        t = time.time()
        sqs.send_message(QueueUrl=url, MessageBody=body)
        started = sink.wait(body)
        if i >= 10:  # the first ones warm the environment
            out.append((started - t) * 1000)
    return out


def throughput(lam, sqs, sink: Sink, depth: int, rounds: int, concurrency: int | None = None) -> tuple[float, float]:
    """(Lamb's messages/s, the plain loop's messages/s) over ``rounds`` backlogs of ``depth``."""
    base_url, _ = queue(sqs, f"bench-baseline-{concurrency}")
    spent = 0.0
    for _ in range(rounds):
        fill(sqs, base_url, depth)
        t = time.perf_counter()
        done = 0
        while done < depth:
            msgs = sqs.receive_message(QueueUrl=base_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if msgs:
                sqs.delete_message_batch(QueueUrl=base_url, Entries=[
                    {"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(msgs)])
            done += len(msgs)
        spent += time.perf_counter() - t
    baseline = depth * rounds / spent

    name = f"noop{concurrency or ''}"
    url, arn = queue(sqs, f"bench-throughput-{name}")
    function(lam, name, f"SINK = {sink.url!r}\n" + COUNT)
    lam.invoke(FunctionName=name, Payload=b'{"Records": []}')
    extra = {"ScalingConfig": {"MaximumConcurrency": concurrency}} if concurrency else {}
    uuid = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, BatchSize=10, Enabled=False,
                                           **extra)["UUID"]
    spent = 0.0
    for _ in range(rounds):
        fill(sqs, url, depth)
        with sink.cond:
            sink.count = 0
        t = time.perf_counter()
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        sink.wait_count(depth)  # the handler counts what it got (not polling moto, which would slow it)
        spent += time.perf_counter() - t
        lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        wait_state(lam, uuid, "Disabled")
        if not drained(sqs, url):
            raise SystemExit("messages left on the queue after their batches succeeded")
    return depth * rounds / spent, baseline


def wait_state(lam, uuid: str, state: str) -> None:
    while lam.get_event_source_mapping(UUID=uuid)["State"] != state:
        time.sleep(0.05)


def poller_alone(sqs, moto_url: str, depth: int, rounds: int) -> float:
    """Lamb's SqsPoller in this process with a no-op ``invoke``: the poller's own rate."""
    import asyncio

    from lamb.sources.sqs import SqsPoller, Timings
    from lamb.sources.sqs_client import Clients, DaemonExecutor, QueueClient

    os.environ.update(AWS_ENDPOINT_URL_SQS=moto_url, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    url, arn = queue(sqs, "bench-poller-alone")
    clients, executor = Clients(), DaemonExecutor(64)
    clients.sqs("us-east-1")

    class Done:
        payload, function_error = b"null", None

    async def one_round() -> float:
        seen = [0]

        async def invoke(function, qualifier, payload, trace=None):
            seen[0] += len(json.loads(payload)["Records"])
            return Done()

        p = SqsPoller({"EventSourceArn": arn, "BatchSize": 10, "_Function": "none"},
                      QueueClient(arn, clients, executor), invoke, lambda r: None, region="us-east-1",
                      timings=Timings(), max_concurrency=1250)
        t = time.perf_counter()
        p.start()
        while seen[0] < depth:
            await asyncio.sleep(0.001)
        spent = time.perf_counter() - t
        await p.stop()
        return spent

    spent = 0.0
    for _ in range(rounds):
        fill(sqs, url, depth)
        spent += asyncio.run(one_round())
    return depth * rounds / spent


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle(lam, sqs, pid: int, n: int, seconds: float) -> float:
    function(lam, "idle", NOOP)
    uuids = []
    for i in range(n):
        _, arn = queue(sqs, f"bench-idle-{i}")
        uuids.append(lam.create_event_source_mapping(FunctionName="idle", EventSourceArn=arn)["UUID"])
    for u in uuids:
        enabled(lam, u)
    time.sleep(2)
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=200)
    ap.add_argument("--depth", type=int, default=100, help="messages per backlog (moto slows down with depth)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--idle", type=int, default=100)
    ap.add_argument("--idle-seconds", type=float, default=30)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMB_"))}
    moto_port, lamb_port = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="lamb-bench-esm-")
    moto_url, lamb_url = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{lamb_port}"
    moto = lamb = None
    try:
        moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                                env=clean, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(moto_url + "/moto-api/")
        env = {**clean, "AWS_ENDPOINT_URL_SQS": moto_url, "AWS_ACCESS_KEY_ID": "bench",
               "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
        lamb = subprocess.Popen([sys.executable, "-m", "lamb", "serve", "--port", str(lamb_port), "--data-dir", data],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(lamb_url + "/_lamb/health")
        KEYS[lamb_url] = root_key(data)  # authentication is on: the root key from the credentials file
        create_role(lamb_url)  # the functions' role, in Lamb's IAM
        lam = boto3.client("lambda", **boto_kw(lamb_url))
        sqs = boto3.client("sqs", endpoint_url=moto_url, **CREDS)
        sink = Sink()

        lat = sorted(latency(lam, sqs, sink, args.latency))
        print(f"latency SendMessage -> handler start ({len(lat)} messages): p50 {statistics.median(lat):.1f} ms, "
              f"p99 {lat[int(len(lat) * 0.99) - 1]:.1f} ms, max {lat[-1]:.1f} ms")
        for concurrency in (None, 2):
            lamb_rate, base_rate = throughput(lam, sqs, sink, args.depth, args.rounds, concurrency)
            print(f"throughput BatchSize 10 ({args.rounds} backlogs of {args.depth}, "
                  f"MaximumConcurrency {concurrency or 'default'}): "
                  f"Lamb mapping {lamb_rate:.0f} msg/s, plain boto3 receive/delete loop {base_rate:.0f} msg/s, "
                  f"ratio {lamb_rate / base_rate:.2f}")
        alone = poller_alone(sqs, moto_url, args.depth, args.rounds)
        print(f"throughput of the poller alone (no-op invoke, in this process): {alone:.0f} msg/s, "
              f"ratio {alone / base_rate:.2f} to the last plain loop")
        pct = idle(lam, sqs, lamb.pid, args.idle, args.idle_seconds)
        print(f"idle: {args.idle} enabled mappings on empty queues use {pct:.2f} % of one core "
              f"(Lamb process, {args.idle_seconds:.0f} s)")
    finally:
        for proc in (lamb, moto):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
