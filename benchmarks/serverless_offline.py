"""An HTTP API route on Lamb against serverless-offline's API Gateway emulation, same handler, same run.

    python benchmarks/serverless_offline.py [--requests 5000] [--clients 8] [--seconds 5] [--rounds 3] [--native]

Issue 20's comparison: request-to-response p50/p99 and throughput through an HTTP API
route, Lamb against serverless-offline (the tool people use to run API Gateway + Lambda
locally), for one Node.js handler:

* serverless-offline 13 with serverless 3 (the last Framework that runs without a login),
  installed once with npm into ``~/.cache/lamb/bench/serverless-offline``; a project with
  that handler behind an ``httpApi: '*'`` event; ``sls offline start``. It runs handlers in
  worker threads of its own Node process, without isolation, and keeps them loaded.
* Lamb (started here, default sandbox: namespaces, cgroups, seccomp; the network mode is
  Lamb's default) with the same handler as a nodejs20.x function behind a quick-created
  HTTP API (``$default`` route, payload 2.0), reached by the API's ``Host``.

``--native`` adds a second Lamb whose Node.js runtime reaches the Runtime API through
aws-lambda-ric's native addon (``LAMB_NODE_RUNTIME_CLIENT=native``) instead of Lamb's transport,
measured in the same alternation. All warmed, then sequential latency on one keep-alive connection
each, in alternating blocks of 500; throughput with ``--clients`` processes in alternating windows (``--rounds``
each, median window). Targets (issue 20): Lamb p50 <= 0.7x serverless-offline's, throughput
>= 1.3x.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function_url import sequential_hosts, summary, throughput  # noqa: E402
from http_api import make_api  # noqa: E402
from invoke_latency import call, connect, free_port, latency_args, start_server, stop_server, wait_active  # noqa: E402

HANDLER_JS = ("exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' },\n"
              "  body: JSON.stringify({ ok: true, n: (event.queryStringParameters || {}).n }) });\n")
PACKAGES = ("serverless@3.40.0", "serverless-offline@13.10.1")
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lamb" / "bench" / "serverless-offline"
SERVERLESS_YML = """\
service: lamb-bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
functions:
  hello:
    handler: index.handler
    events:
      - httpApi: '*'
plugins:
  - serverless-offline
"""


def install() -> Path:
    """serverless + serverless-offline from npm, once; the Framework's entry script."""
    entry = CACHE / "node_modules" / "serverless" / "bin" / "serverless.js"
    if not entry.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text('{"name": "lamb-bench-sls", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *PACKAGES], cwd=CACHE, check=True,
                       stdout=subprocess.DEVNULL)
    return entry


def start_offline(entry: Path) -> tuple[subprocess.Popen, str, str]:
    """``sls offline start`` in a new project folder; (process, endpoint, folder)."""
    project = tempfile.mkdtemp(prefix="lamb-bench-sls-")
    (Path(project) / "serverless.yml").write_text(SERVERLESS_YML)
    (Path(project) / "index.js").write_text(HANDLER_JS)
    os.symlink(CACHE / "node_modules", Path(project) / "node_modules")
    port, lambda_port = free_port(), free_port()
    env = dict(os.environ, SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off", SLS_DEPRECATION_DISABLE="*",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    proc = subprocess.Popen(["node", str(entry), "offline", "start", "--httpPort", str(port), "--lambdaPort",
                             str(lambda_port), "--host", "127.0.0.1", "--noTimeout"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}", project
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    stop_offline(proc, project)
    raise SystemExit("serverless-offline did not start")


def stop_offline(proc: subprocess.Popen, project: str) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    shutil.rmtree(project, ignore_errors=True)


def create_node_function(endpoint: str, name: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", HANDLER_JS)
    body = json.dumps({"FunctionName": name, "Runtime": "nodejs20.x", "Handler": "index.handler",
                       "Role": "arn:aws:iam::000000000000:role/bench",
                       "Code": {"ZipFile": base64.b64encode(buf.getvalue()).decode()}}).encode()
    conn = connect(endpoint)
    status, out = call(conn, "POST", "/2015-03-31/functions", body)
    if status != 201:
        raise SystemExit(f"CreateFunction failed: {status} {out[:300]!r}")
    wait_active(conn, name)


def main() -> None:
    ap = latency_args()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--native", action="store_true", help="also Lamb with aws-lambda-ric's native addon")
    args = ap.parse_args()
    entry = install()
    proc = data = sls = project = None
    native = native_data = None
    try:
        proc, endpoint, data = start_server()
        name = f"bench-sls-{os.getpid()}"
        create_node_function(endpoint, name)
        sls, sls_endpoint, project = start_offline(entry)
        targets = {"lamb": (endpoint, make_api(endpoint, name)),
                   "serverless_offline": (sls_endpoint, sls_endpoint.split("://", 1)[1])}
        if args.native:
            native, native_endpoint, native_data = start_server(env={"LAMB_NODE_RUNTIME_CLIENT": "native"})
            create_node_function(native_endpoint, name)
            targets["lamb_native_addon"] = (native_endpoint, make_api(native_endpoint, name))
        lat = sequential_hosts(targets, args.requests)
        lamb, offline = summary(lat["lamb"]), summary(lat["serverless_offline"])
        out = {"lamb_http_api": lamb, "serverless_offline": offline,
               "lamb_over_offline_p50": round(lamb["p50"] / offline["p50"], 3)}
        if args.native:
            out["lamb_native_addon"] = summary(lat["lamb_native_addon"])
            out["native_addon_over_offline_p50"] = round(out["lamb_native_addon"]["p50"] / offline["p50"], 3)
        print(json.dumps({"sequential_ms": out}))
        windows: dict[str, list[float]] = {k: [] for k in targets}
        for _ in range(args.rounds):
            for kind, (ep, host) in targets.items():
                windows[kind].append(throughput("url", ep, "", host, args.clients, args.seconds))
        rates = {k: statistics.median(v) for k, v in windows.items()}
        rate_out = {"clients": args.clients, "seconds": args.seconds, "lamb_per_s": round(rates["lamb"]),
                    "serverless_offline_per_s": round(rates["serverless_offline"]),
                    "lamb_over_offline": round(rates["lamb"] / rates["serverless_offline"], 3)}
        if args.native:
            rate_out["lamb_native_addon_per_s"] = round(rates["lamb_native_addon"])
            rate_out["native_addon_over_offline"] = round(rates["lamb_native_addon"] / rates["serverless_offline"], 3)
        print(json.dumps({"throughput": rate_out}))
    finally:
        if sls is not None:
            stop_offline(sls, project)
        if native is not None:
            stop_server(native, native_data)
        stop_server(proc, data)


if __name__ == "__main__":
    main()
