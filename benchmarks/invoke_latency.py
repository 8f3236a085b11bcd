"""Warm invoke latency and throughput against a running Lamb.

    python benchmarks/invoke_latency.py [--endpoint http://127.0.0.1:9000] [--requests 5000] [--clients 8] [--seconds 5]
                                        [--auth off|on|both|control-on|control-off] [--tracing both]
                                        [--observability both]

Without --endpoint it starts its own ``lamb serve`` on a free loopback port with
a temporary data dir (and stops it afterwards). It creates a hello-world
python3.12 function, warms it, then measures:

* sequential latency: one client, one keep-alive connection (TCP_NODELAY),
  ``--requests`` Invoke calls; p50/p90/p99/max in milliseconds;
* throughput: ``--clients`` processes, each with its own keep-alive connection,
  invoking back-to-back for ``--seconds``; invocations per second.

Raw HTTP (http.client) is used instead of boto3 so the numbers measure Lamb,
not botocore's ~1 ms of client-side request building and signing.

Lamb checks signatures by default (``--auth on``): requests are signed with the root key from
its credentials file (with ``--endpoint``, with ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``
as ``eval "$(lamb env)"`` sets them); ``--auth off`` starts it without. Requests to a server
with ``--auth off`` are signed too (with AWS's example key, which it does not check), as boto3,
the CLI and every SDK sign whatever the server does with it: so ``--auth both``, a server with
``--auth off`` and one with ``--auth on`` measured in the same run, differ only in what Lamb does. ``--tracing both`` does the same for tracing: one server
exporting over OTLP (to a sink this script runs) with the function's ``TracingConfig``
Active, one without. ``--observability both`` (issue 15's overhead target): the "on" server
traces as ``--tracing both`` does, and while it is measured a reader in this process uses
every observability API as a user's tools would, each every ``--poll`` seconds (5: the AWS
CLI's ``logs tail --follow`` interval): FilterLogEvents of the function's log group from the
last poll on (``aws logs tail --follow``), GetMetricData for Invocations/Errors/Duration p99
(a CloudWatch graph) and a Prometheus scrape of ``/metrics``. Both servers write their logs and
keep their per-minute metrics (neither can be turned off), so the difference is tracing plus
the APIs' readers; ``--observability readers`` runs the readers without tracing. Each distinct request is signed once (botocore's SigV4Auth)
and its headers reused, as a client may within the 5-minute window, so the numbers hold
Lamb's verification (every request fully verified) but not the client's signing.

``--compare SRC`` (``pairs.py``) measures the sequential latency and the throughput (``--throughput-rounds``
alternating slices) of this build and of another
(its src folder; ``.`` for this tree with ``--compare-args``) in alternating slices, e.g. network
isolation against the host's network: ``--compare . --serve-args "--network isolated"
--compare-args "--network host"``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import signal
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from urllib.parse import urlparse

HANDLER = "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"
PATH = "/2015-03-31/functions/{name}/invocations"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(auth: str = "on", env: dict | None = None, extra: tuple[str, ...] | list[str] = (),
                 src: str | None = None) -> tuple[subprocess.Popen, str, str]:
    """Start ``lamb serve`` on a free loopback port; callers stop it in ``finally``.

    With authentication on (Lamb's default) the root key comes from the server's credentials
    file (``KEYS``: ``call`` signs with it) and the functions' role ``bench`` is created in
    Lamb's IAM, as a user does. ``env``: more variables for the server; ``extra``: more
    ``lamb serve`` options; ``src``: the ``src`` folder of another build of Lamb to run instead
    of the one on PYTHONPATH (``--compare``). SIGTERM (e.g. from ``timeout``) is turned into
    SystemExit so that ``finally`` runs and the server does not outlive the benchmark.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data = tempfile.mkdtemp(prefix="lamb-bench-")
    port = free_port()
    env = {**os.environ, **(env or {})}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.abspath(src), os.environ.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lamb", "serve", "--port", str(port), "--data-dir", data, "--auth", auth, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if auth == "on":
                    KEYS[endpoint] = root_key(data)
                    create_role(endpoint)
                else:  # clients sign either way (boto3, the CLI): with a key this server does not check
                    KEYS[endpoint] = UNCHECKED_KEY
                return proc, endpoint, data
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("lamb serve did not start")


def stop_server(proc: subprocess.Popen | None, data: str | None, timeout: float = 30) -> None:
    """Stop a server ``start_server`` started and remove its data folder."""
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if data:
        shutil.rmtree(data, ignore_errors=True)


def zip_of(source: str) -> str:
    """A deployment package holding ``app.py``, base64-encoded for CreateFunction's ZipFile."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return base64.b64encode(buf.getvalue()).decode()


def connect(endpoint: str) -> http.client.HTTPConnection:
    u = urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


# (endpoint -> (key, secret)) that requests are signed with; filled by start_server().
KEYS: dict[str, tuple[str, str]] = {}
# What a client signs with against ``--auth off`` (which checks no signature): AWS's example key.
UNCHECKED_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
_SIGNED: dict[tuple, dict] = {}


def use_endpoint(endpoint: str) -> str:
    """A Lamb someone else started (--endpoint): sign with the keys in the environment, if any."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        KEYS[endpoint] = (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    return endpoint


def boto_kw(endpoint: str) -> dict:
    """boto3.client(...) arguments for a Lamb: its endpoint and the keys ``call`` signs with."""
    key, secret = KEYS.get(endpoint, ("unsigned", "unsigned"))
    return dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)


def signed_headers(endpoint: str, method: str, path: str, body: bytes, extra: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json", **(extra or {})}
    if endpoint not in KEYS:
        return headers
    cache = (endpoint, method, path, body, tuple(sorted(headers.items())))
    if cache not in _SIGNED:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        req = AWSRequest(method, endpoint + path, data=body, headers=headers)
        SigV4Auth(Credentials(*KEYS[endpoint]), "lambda", "us-east-1").add_auth(req)
        _SIGNED[cache] = dict(req.headers.items())
    return _SIGNED[cache]


def call(conn: http.client.HTTPConnection, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    endpoint = f"http://{conn.host}:{conn.port}"
    conn.request(method, path, body=body, headers=signed_headers(endpoint, method, path, body))
    resp = conn.getresponse()
    return resp.status, resp.read()


def create_function(endpoint: str, name: str, runtime: str, extra: dict | None = None) -> None:
    body = json.dumps({
        "FunctionName": name, "Runtime": runtime, "Handler": "app.handler",
        "Role": "arn:aws:iam::000000000000:role/bench", "Code": {"ZipFile": zip_of(HANDLER)}, **(extra or {}),
    }).encode()
    conn = connect(endpoint)
    status, out = call(conn, "POST", "/2015-03-31/functions", body)
    if status not in (201, 409):
        raise SystemExit(f"CreateFunction failed: {status} {out[:300]!r}")
    wait_active(conn, name)


def wait_active(conn: http.client.HTTPConnection, name: str, timeout: float = 120) -> None:
    """Poll GetFunction until the function is Active (its runtime is ready)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, out = call(conn, "GET", f"/2015-03-31/functions/{name}")
        if status == 200 and json.loads(out)["Configuration"].get("State") == "Active":
            return
        time.sleep(0.1)
    raise SystemExit(f"function {name} never became Active")


def sequential(endpoint: str, name: str, n: int, warm: int = 200) -> list[float]:
    conn = connect(endpoint)
    path = PATH.format(name=name)
    for _ in range(warm):  # warm-up (the measured request itself, so it is signed before the clock starts)
        call(conn, "POST", path, b'{"n": 1}')
    out = []
    body = b'{"n": 1}'
    for _ in range(n):
        t = time.perf_counter()
        status, _ = call(conn, "POST", path, body)
        out.append((time.perf_counter() - t) * 1000)
        assert status == 200, status
    return out


def _worker(endpoint: str, name: str, seconds: float, start: float, q, keys: dict) -> None:
    KEYS.update(keys)
    conn = connect(endpoint)
    path = PATH.format(name=name)
    call(conn, "POST", path, b'{"n": 2}')  # the same request as measured: signed (and botocore loaded) before the clock
    while time.time() < start:
        time.sleep(0.001)
    end = start + seconds
    count = 0
    while time.time() < end:
        status, _ = call(conn, "POST", path, b'{"n": 2}')
        if status == 200:
            count += 1
    q.put(count)


def throughput(endpoint: str, name: str, clients: int, seconds: float) -> float:
    q = multiprocessing.Queue()
    start = time.time() + 1.0
    procs = [multiprocessing.Process(target=_worker, args=(endpoint, name, seconds, start, q, dict(KEYS))) for _ in range(clients)]
    for p in procs:
        p.start()
    total = sum(q.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def measure(endpoint: str, args, label: str) -> None:
    name = f"bench-{os.getpid()}"
    create_function(endpoint, name, args.runtime)
    lat = sequential(endpoint, name, args.requests)
    print(json.dumps({
        "auth": label,
        "sequential_ms": {
            "n": len(lat), "p50": round(pct(lat, 0.50), 3), "p90": round(pct(lat, 0.90), 3),
            "p99": round(pct(lat, 0.99), 3), "max": round(max(lat), 3), "mean": round(statistics.mean(lat), 3),
        }
    }), flush=True)
    rate = throughput(endpoint, name, args.clients, args.seconds)
    print(json.dumps({"auth": label, "throughput": {"clients": args.clients, "seconds": args.seconds,
                                                     "invocations_per_s": round(rate)}}), flush=True)


def create_role(endpoint: str) -> None:
    """With authentication on, the function's role must exist in Lamb's IAM and trust Lambda."""
    import boto3

    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    boto3.client("iam", **boto_kw(endpoint)).create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(trust))


def root_key(data: str) -> tuple[str, str]:
    import configparser

    cp = configparser.ConfigParser(interpolation=None)
    deadline = time.time() + 30
    while time.time() < deadline:
        cp.read(os.path.join(data, "credentials"))
        if cp.has_section("default"):
            return cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"]
        time.sleep(0.05)
    raise SystemExit("no credentials file")


def latency_args() -> argparse.ArgumentParser:
    """The options every latency benchmark takes (this one, function_url.py, http_api.py)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint")
    ap.add_argument("--runtime", default="python3.12")
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    return ap


def main() -> None:
    import pairs

    ap = latency_args()
    ap.add_argument("--auth", choices=["off", "on", "both", "control-on", "control-off"], default="on",
                    help="both: --auth off against on in the same run; control-on/-off: an A/A control, two "
                         "servers alike, interleaved the same way (the noise the comparison has)")
    ap.add_argument("--tracing", choices=["both"], help="tracing (OTLP export, TracingConfig Active) off vs on")
    ap.add_argument("--observability", choices=["both", "readers"],
                    help="tracing plus readers of the logs, metrics and Prometheus APIs, off vs on "
                         "(readers: the readers without tracing)")
    ap.add_argument("--poll", type=float, default=5.0, help="--observability: seconds between the readers' polls")
    ap.add_argument("--throughput-rounds", type=int, default=2,
                    help="--auth/--tracing/--observability both: alternating throughput slices of --seconds/2 per server")
    pairs.add_args(ap)
    args = ap.parse_args()
    if args.observability:
        compare(args, variants=("off", "on"), key="observability" if args.observability == "both" else "readers")
        return
    if args.tracing:
        compare(args, variants=("off", "on"), key="tracing")
        return
    if args.endpoint is not None:
        measure(use_endpoint(args.endpoint), args, "as configured")
        return
    if args.compare:
        compare_builds(args)
        return
    if args.auth == "both":
        compare(args)
        return
    if args.auth.startswith("control-"):
        control(args, args.auth.split("-", 1)[1])
        return
    proc = data = None
    try:
        proc, endpoint, data = start_server(args.auth)
        measure(endpoint, args, args.auth)
    finally:
        stop_server(proc, data)


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def otlp_sink() -> str:
    """An OTLP/HTTP endpoint that accepts and drops every export (the tracing comparison's collector)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def control(args, auth: str, rounds: int = 12) -> None:
    """An A/A control for ``--auth both``: two servers started alike, sequential slices and
    throughput windows alternated in the same order; the difference between them is the
    comparison's noise."""
    servers = []
    try:
        for i in range(2):
            proc, endpoint, data = start_server(auth)
            servers.append((proc, data))
            create_function(endpoint, f"bench-{os.getpid()}-{i}", args.runtime)
            servers[-1] = (proc, data, endpoint, f"bench-{os.getpid()}-{i}")
        lat: list[list[float]] = [[], []]
        for r in range(rounds):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                lat[i] += sequential(servers[i][2], servers[i][3], args.requests // rounds, warm=50)
        rate: list[list[float]] = [[], []]
        for r in range(args.throughput_rounds):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                rate[i].append(throughput(servers[i][2], servers[i][3], args.clients, args.seconds / 2))
        p50 = [pct(v, 0.5) for v in lat]
        print(json.dumps({"control": auth, "p50_ms": [round(x, 3) for x in p50], "p50_delta_ms": round(p50[1] - p50[0], 3),
                          "invocations_per_s": [round(statistics.mean(v)) for v in rate],
                          "throughput_ratio": round(statistics.mean(rate[1]) / statistics.mean(rate[0]), 3)}))
    finally:
        for s in servers:
            stop_server(s[0], s[1])


def compare(args, rounds: int = 10, variants=("off", "on"), key: str = "auth") -> None:
    """Both servers at once; measurements alternate between them in ``rounds`` slices, so
    the load of the host (other work) weighs on both alike. ``key``: what differs (``auth``, or
    ``tracing``: OTLP export and the function's TracingConfig Active)."""
    procs: list = []
    pids: dict[str, int] = {}
    readers = None
    try:
        endpoints = {}
        for auth in variants:
            traced = key in ("tracing", "observability") and auth == "on"
            proc, endpoint, data = start_server(auth if key == "auth" else "off",
                                                {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_sink()} if traced else None)
            procs.append((proc, data))
            pids[auth] = proc.pid
            name = f"bench-{os.getpid()}"
            create_function(endpoint, name, args.runtime, {"TracingConfig": {"Mode": "Active"}} if traced else None)
            endpoints[auth] = (endpoint, name)
            if key in ("observability", "readers") and auth == "on":
                readers = ObservabilityReaders(endpoint, name, args.poll)
        lat: dict[str, list[float]] = {"off": [], "on": []}
        rate: dict[str, list[float]] = {"off": [], "on": []}
        for r in range(rounds):
            for auth in (("off", "on") if r % 2 == 0 else ("on", "off")):
                endpoint, name = endpoints[auth]
                lat[auth] += sequential(endpoint, name, args.requests // rounds, warm=50)
        cpu_s = {"off": 0.0, "on": 0.0}  # the server's CPU seconds in the throughput windows
        calls = {"off": 0.0, "on": 0.0}  # and the invocations it answered in them
        for r in range(args.throughput_rounds):
            for auth in (("off", "on") if r % 2 == 0 else ("on", "off")):
                endpoint, name = endpoints[auth]
                before = server_cpu_s(pids[auth])
                rate[auth].append(throughput(endpoint, name, args.clients, args.seconds / 2))
                cpu_s[auth] += server_cpu_s(pids[auth]) - before
                calls[auth] += rate[auth][-1] * args.seconds / 2
        for auth in ("off", "on"):
            v = lat[auth]
            print(json.dumps({key: auth, "sequential_ms": {
                "n": len(v), "p50": round(pct(v, 0.50), 3), "p90": round(pct(v, 0.90), 3), "p99": round(pct(v, 0.99), 3),
                "mean": round(statistics.mean(v), 3)},
                "throughput": {"clients": args.clients, "invocations_per_s": round(statistics.mean(rate[auth])),
                               # Lamb's server process (user + system) per invocation in the throughput windows
                               "server_cpu_us_per_invocation": round(cpu_s[auth] / calls[auth] * 1e6)}}),
                flush=True)
        summary = {"p50_delta_ms": round(pct(lat["on"], 0.5) - pct(lat["off"], 0.5), 3),
                   "p50_ratio": round(pct(lat["on"], 0.5) / pct(lat["off"], 0.5), 3),
                   "throughput_ratio": round(statistics.mean(rate["on"]) / statistics.mean(rate["off"]), 3)}
        if readers is not None:
            summary["reader_polls"] = readers.polls
            summary["log_events_read"] = readers.events
        print(json.dumps(summary))
    finally:
        if readers is not None:
            readers.stop()
        for proc, data in procs:
            stop_server(proc, data)


class ObservabilityReaders:
    """``--observability``: the logs, metrics and Prometheus APIs used as tools use them, from a
    thread, every ``poll`` seconds, for as long as the comparison runs."""

    def __init__(self, endpoint: str, name: str, poll: float):
        import threading

        import boto3

        self.endpoint, self.name, self.poll = endpoint, name, poll
        self.logs = boto3.client("logs", **boto_kw(endpoint))
        self.cloudwatch = boto3.client("cloudwatch", **boto_kw(endpoint))
        self.polls = self.events = 0
        self.since_ms = int(time.time() * 1000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import datetime as dt
        import urllib.request

        group = f"/aws/lambda/{self.name}"
        dims = [{"Name": "FunctionName", "Value": self.name}]
        while not self._stop.wait(self.poll):
            now = int(time.time() * 1000)
            kw = {"logGroupName": group, "startTime": self.since_ms, "endTime": now}
            while True:  # aws logs tail --follow: every event since the last poll, page by page
                page = self.logs.filter_log_events(**kw)
                self.events += len(page["events"])
                if not page.get("nextToken"):
                    break
                kw["nextToken"] = page["nextToken"]
            self.since_ms = now
            end = dt.datetime.now(dt.timezone.utc)
            self.cloudwatch.get_metric_data(StartTime=end - dt.timedelta(hours=1), EndTime=end, MetricDataQueries=[
                {"Id": f"m{i}", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                                                          "Dimensions": dims}, "Period": 60, "Stat": stat}}
                for i, (metric, stat) in enumerate((("Invocations", "Sum"), ("Errors", "Sum"), ("Duration", "p99")))])
            with urllib.request.urlopen(self.endpoint + "/metrics") as r:
                r.read()
            self.polls += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def compare_builds(args, rounds: int = 10) -> None:
    """``--compare`` (pairs.py): warm latency of two servers (another build, or other options),
    alternating slices of sequential invokes as ``compare`` does for --auth both."""
    import pairs

    sides = pairs.start(args)
    try:
        name = f"bench-{os.getpid()}"
        for side in sides:
            create_function(side.endpoint, name, args.runtime)
        lat: dict[str, list[float]] = {s.label: [] for s in sides}
        for r in range(rounds):
            for side in pairs.order(sides, r):
                lat[side.label] += sequential(side.endpoint, name, args.requests // rounds, warm=50)
        # Throughput: --clients concurrent callers, alternating slices of --seconds/2 per server.
        rate: dict[str, list[float]] = {s.label: [] for s in sides}
        for r in range(args.throughput_rounds):
            for side in pairs.order(sides, r):
                rate[side.label].append(throughput(side.endpoint, name, args.clients, args.seconds / 2))
        for side in sides:
            v = lat[side.label]
            print(json.dumps({"server": side.label, "args": args.serve_args if side.label == "this" else args.compare_args,
                              "sequential_ms": {"n": len(v), "p50": round(pct(v, 0.50), 3), "p90": round(pct(v, 0.90), 3),
                                                "p99": round(pct(v, 0.99), 3)},
                              "throughput": {"clients": args.clients,
                                             "invocations_per_s": round(statistics.mean(rate[side.label]))}}), flush=True)
        print(json.dumps({"p50_this_minus_compare_ms": round(pct(lat["this"], 0.5) - pct(lat["compare"], 0.5), 3),
                          "throughput_ratio": round(statistics.mean(rate["this"]) / statistics.mean(rate["compare"]), 3)}))
    finally:
        pairs.stop(sides)


if __name__ == "__main__":
    # pairs.py (--compare) imports this module by name: one module, so one KEYS for both.
    sys.modules["invoke_latency"] = sys.modules[__name__]
    main()
