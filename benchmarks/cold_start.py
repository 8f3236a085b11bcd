"""Cold start: create a function, then time its first invocation (client-observed).

    python benchmarks/cold_start.py [--endpoint URL] [--n 40] [--runtime python3.12] [--extension]

Without --endpoint it starts its own ``lamb serve`` (temporary data dir). For
each of ``--n`` fresh hello-world functions it measures, over one keep-alive
connection with raw HTTP (no botocore overhead):

* ``invoke_ms``: the first Invoke, which starts a new execution environment;
* ``create_plus_invoke_ms``: CreateFunction (zip upload, store, unpack) plus that Invoke;
* ``init_ms``: the Init Duration Lamb reports in the REPORT line (LogType Tail);
* ``create_active_invoke_ms``: CreateFunction (answered Pending, issue 19), one GetFunction
  (what boto3's ``function_active_v2`` waiter sends first; it must already see Active), then
  the first Invoke -- the sequence users run, over the same raw connection.

Then ``--waiter-runs`` more functions go through boto3 itself: create_function,
``get_waiter("function_active_v2").wait(...)``, invoke. ``waiter_first_look_active`` counts
the runs whose waiter returned after one GetFunction, i.e. without its one-second sleep;
``boto3_sequence_ms`` is that whole sequence as boto3 sees it.

One function at a time, so the numbers are latency, not throughput.

``--extension [python|sh]`` gives every function a layer with one external extension
(``/opt/extensions/bench-ext`` registering for INVOKE and SHUTDOWN and calling next at
once: a Python program, or a sh script using curl): Init then waits for it to start and register.
When the extension's next arrives after the runtime's response the REPORT line is
written after the response, so ``init_ms`` counts only the invocations whose tail has it.

``--compare SRC`` (``pairs.py``) also starts another build (or, with ``--compare .``, this tree
with ``--compare-args``) and interleaves: function *i* is created and cold-started on one
server, then on the other, alternating which goes first. Per server: ``invoke_ms`` and
``init_ms``; then ``invoke_ms_this_minus_compare``, the median of the per-pair differences.
E.g. network isolation against the host's network::

    python benchmarks/cold_start.py --n 100 --compare . --serve-args "--network isolated" --compare-args "--network host"
"""

from __future__ import annotations

import argparse
import base64
import io
import zipfile
import json
import os
import re
import time

import pairs
from invoke_latency import (boto_kw, call, connect, pct, signed_headers, start_server, stop_server,  # noqa: E402
                            use_endpoint, wait_active, zip_of)

HANDLER = "def handler(event, context):\n    return {'hello': 'world'}\n"
EXTENSION = """#!/usr/bin/env python3
import json, os, urllib.request
api = "http://%s/2020-01-01/extension" % os.environ["AWS_LAMBDA_RUNTIME_API"]
req = urllib.request.Request(api + "/register", method="POST", data=b'{"events": ["INVOKE", "SHUTDOWN"]}',
                             headers={"Lambda-Extension-Name": "bench-ext"})
ident = urllib.request.urlopen(req).headers["Lambda-Extension-Identifier"]
while True:
    event = json.load(urllib.request.urlopen(urllib.request.Request(
        api + "/event/next", headers={"Lambda-Extension-Identifier": ident})))
    if event["eventType"] == "SHUTDOWN":
        break
"""


SH_EXTENSION = """#!/bin/sh
api="http://${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
id=$(curl -s -D - -o /dev/null -X POST -H "Lambda-Extension-Name: bench-ext" -d '{"events": ["INVOKE", "SHUTDOWN"]}' \\
     "$api/register" | tr -d '\\r' | sed -n 's/^[Ll]ambda-[Ee]xtension-[Ii]dentifier: //p')
while true; do
    case "$(curl -s -H "Lambda-Extension-Identifier: $id" "$api/event/next")" in *SHUTDOWN*) exit 0;; esac
done
"""
EXTENSIONS = {"python": EXTENSION, "sh": SH_EXTENSION}


def extension_layer(conn, source: str) -> str:
    """Publish a layer holding one external extension; its version ARN."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("extensions/bench-ext")
        info.external_attr = 0o100755 << 16
        info.create_system = 3
        z.writestr(info, source)
    body = {"Content": {"ZipFile": base64.b64encode(buf.getvalue()).decode()}}
    status, out = call(conn, "POST", f"/2018-10-31/layers/bench-ext-{os.getpid()}/versions", json.dumps(body).encode())
    assert status == 201, out
    return json.loads(out)["LayerVersionArn"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--runtime", default="python3.12")
    ap.add_argument("--waiter-runs", type=int, default=100)
    ap.add_argument("--memory", type=int, default=128, help="MemorySize (the CPU share follows it)")
    ap.add_argument("--extension", nargs="?", const="python", choices=("python", "sh"),
                    help="one external extension in a layer: a Python program (default) or a sh script using curl")
    ap.add_argument("--settle", type=float, default=0,
                    help="with --compare: seconds to wait after the warm-up (pools made ahead of demand fill up)")
    pairs.add_args(ap)
    args = ap.parse_args()
    if args.compare:
        compare(args)
        return
    proc = data = None
    endpoint = args.endpoint and use_endpoint(args.endpoint)
    if endpoint is None:
        proc, endpoint, data = start_server()
    try:
        conn = connect(endpoint)
        code = zip_of(HANDLER)
        # Warm the runtime (zygote) once, as a running server would have it.
        body = {"Runtime": args.runtime, "Handler": "app.handler", "Role": "arn:aws:iam::000000000000:role/bench",
                "Code": {"ZipFile": code}, "MemorySize": args.memory}
        if args.extension:
            body["Layers"] = [extension_layer(conn, EXTENSIONS[args.extension])]
        warm = f"cold-warmup-{os.getpid()}"
        call(conn, "POST", "/2015-03-31/functions", json.dumps({**body, "FunctionName": warm}).encode())
        wait_active(conn, warm)
        invoke_ms, total_ms, init_ms, sequence_ms = [], [], [], []
        for i in range(2 * args.n):
            # alternate: even runs create + invoke, odd runs create + one GetFunction + invoke
            name = f"cold-{os.getpid()}-{i}"
            t0 = time.perf_counter()
            status, out = call(conn, "POST", "/2015-03-31/functions", json.dumps({**body, "FunctionName": name}).encode())
            assert status == 201, out
            assert json.loads(out)["State"] == "Pending"  # as AWS answers (issue 19)
            if i % 2:
                status, out = call(conn, "GET", f"/2015-03-31/functions/{name}")
                assert status == 200 and json.loads(out)["Configuration"]["State"] == "Active", out
            t1 = time.perf_counter()
            path = f"/2015-03-31/functions/{name}/invocations"
            conn.request("POST", path, body=b"{}",
                         headers=signed_headers(endpoint, "POST", path, b"{}", {"X-Amz-Log-Type": "Tail"}))
            resp = conn.getresponse()
            payload = resp.read()
            t2 = time.perf_counter()
            assert resp.status == 200 and payload == b'{"hello": "world"}', payload
            log = base64.b64decode(resp.getheader("X-Amz-Log-Result")).decode()
            if i % 2:
                sequence_ms.append((t2 - t0) * 1000)
                continue
            found = re.search(r"Init Duration: ([\d.]+) ms", log)
            if found:
                init_ms.append(float(found.group(1)))
            invoke_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        first_look, boto3_ms = waiter_runs(endpoint, args.runtime, code, args.waiter_runs)

        def summary(xs):
            if not xs:
                return None
            return {"p50": round(pct(xs, 0.5), 2), "p90": round(pct(xs, 0.9), 2), "max": round(max(xs), 2)}

        print(json.dumps({"runtime": args.runtime, "n": args.n, "memory_mb": args.memory, "extension": args.extension,
                          "invoke_ms": summary(invoke_ms), "create_plus_invoke_ms": summary(total_ms),
                          "init_ms": summary(init_ms), "init_ms_count": len(init_ms),
                          "create_active_invoke_ms": summary(sequence_ms),
                          "waiter_first_look_active": f"{first_look}/{args.waiter_runs}",
                          "boto3_sequence_ms": summary(boto3_ms) if boto3_ms else None}))
    finally:
        stop_server(proc, data)


def function_body(conn, args) -> dict:
    body = {"Runtime": args.runtime, "Handler": "app.handler", "Role": "arn:aws:iam::000000000000:role/bench",
            "Code": {"ZipFile": zip_of(HANDLER)}, "MemorySize": args.memory}
    if args.extension:
        body["Layers"] = [extension_layer(conn, EXTENSIONS[args.extension])]
    return body


def cold_invoke(conn, body: dict, name: str) -> tuple[float, float | None]:
    """Create ``name`` and invoke it once: (invoke ms, the Init Duration of its REPORT line)."""
    status, out = call(conn, "POST", "/2015-03-31/functions", json.dumps({**body, "FunctionName": name}).encode())
    assert status == 201, out
    wait_active(conn, name)
    path = f"/2015-03-31/functions/{name}/invocations"
    headers = signed_headers(f"http://{conn.host}:{conn.port}", "POST", path, b"{}", {"X-Amz-Log-Type": "Tail"})
    t0 = time.perf_counter()
    conn.request("POST", path, body=b"{}", headers=headers)
    resp = conn.getresponse()
    payload = resp.read()
    took = (time.perf_counter() - t0) * 1000
    assert resp.status == 200 and payload == b'{"hello": "world"}', payload
    found = re.search(r"Init Duration: ([\d.]+) ms", base64.b64decode(resp.getheader("X-Amz-Log-Result")).decode())
    return took, float(found.group(1)) if found else None


def compare(args) -> None:
    """``--compare``: the same cold starts on two servers, interleaved (pairs.py)."""
    sides = pairs.start(args)
    try:
        conns = {s.label: connect(s.endpoint) for s in sides}
        bodies = {s.label: function_body(conns[s.label], args) for s in sides}
        for s in sides:  # each server's zygote warm, as a running server has it
            cold_invoke(conns[s.label], bodies[s.label], f"cold-warmup-{os.getpid()}")
        time.sleep(args.settle)
        invoke_ms: dict[str, list[float]] = {s.label: [] for s in sides}
        init_ms: dict[str, list[float]] = {s.label: [] for s in sides}
        for i in range(args.n):
            for s in pairs.order(sides, i):
                took, init = cold_invoke(conns[s.label], bodies[s.label], f"cold-{os.getpid()}-{i}")
                invoke_ms[s.label].append(took)
                if init is not None:
                    init_ms[s.label].append(init)
        for s in sides:
            xs, ys = invoke_ms[s.label], init_ms[s.label]
            print(json.dumps({"server": s.label, "args": args.serve_args if s.label == "this" else args.compare_args,
                              "runtime": args.runtime, "n": args.n,
                              "invoke_ms": {"p50": round(pct(xs, 0.5), 2), "p90": round(pct(xs, 0.9), 2)},
                              "init_ms": {"p50": round(pct(ys, 0.5), 2), "p90": round(pct(ys, 0.9), 2)} if ys else None}))
        print(json.dumps({"invoke_ms_this_minus_compare": round(
            pairs.median_of_differences(invoke_ms["this"], invoke_ms["compare"]), 2),
            "p50_this_minus_p50_compare": round(pct(invoke_ms["this"], 0.5) - pct(invoke_ms["compare"], 0.5), 2)}))
    finally:
        pairs.stop(sides)


def waiter_runs(endpoint: str, runtime: str, code: str, n: int) -> tuple[int, list[float]]:
    """create_function -> function_active_v2 waiter -> invoke through boto3, ``n`` times."""
    if n <= 0:
        return 0, []
    import boto3
    from botocore.config import Config

    lam = boto3.client("lambda", **boto_kw(endpoint), config=Config(retries={"max_attempts": 0}))
    looks = []
    lam.meta.events.register("before-call.lambda.GetFunction", lambda **_: looks.append(1))
    zip_bytes = base64.b64decode(code)
    first_look, took = 0, []
    for i in range(n):
        name = f"waiter-{os.getpid()}-{i}"
        looks.clear()
        t0 = time.perf_counter()
        lam.create_function(FunctionName=name, Runtime=runtime, Role="arn:aws:iam::000000000000:role/bench",
                            Handler="app.handler", Code={"ZipFile": zip_bytes})
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        out = lam.invoke(FunctionName=name)["Payload"].read()
        took.append((time.perf_counter() - t0) * 1000)
        assert out == b'{"hello": "world"}', out
        first_look += len(looks) == 1
    return first_look, took


if __name__ == "__main__":
    main()
