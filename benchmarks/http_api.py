"""HTTP API (API Gateway v2) request latency and throughput, side by side with a function URL.

    python benchmarks/http_api.py [--endpoint http://127.0.0.1:9000] [--requests 5000] [--clients 8] [--seconds 5]

Without --endpoint it starts its own ``lamb serve`` (and stops it afterwards). It creates
one hello-world function, a quick-created HTTP API in front of it (``$default`` route,
payload 2.0, the ``apigateway.amazonaws.com`` permission) and a function URL for the
same function, warms both, then measures in the same run on the same warm environment:

* sequential latency, one keep-alive connection: the API (``GET /?n=1`` with the API's
  ``Host``) and the URL, in alternating blocks of 500; p50/p90/p99;
* throughput: ``--clients`` processes back-to-back for ``--seconds``, API and URL in
  alternating windows (``--rounds`` each), the median window of each.

Issue 20's comparison with serverless-offline's API Gateway emulation for the same handler
is ``serverless_offline.py`` (it needs npm).

``--compare SRC`` (``pairs.py``) measures this build's API route against another build's (its
``src`` folder), both servers at once, in 10 alternating rounds of ``--requests``/10 sequential
requests each (``--runtime nodejs20.x``: the Node.js handler ``serverless_offline.py`` uses), with
each server's CPU per request (``/proc/<pid>/stat`` around its blocks: its own process, not the
runtime's).
"""

from __future__ import annotations

import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function_url import make_url, sequential_hosts, summary, throughput  # noqa: E402
from invoke_latency import (boto_kw, create_function, latency_args, server_cpu_s, start_server,  # noqa: E402
                            stop_server, use_endpoint)


def make_api(endpoint: str, name: str) -> str:
    """Quick-create an HTTP API for ``name``; its Host."""
    import boto3

    kw = boto_kw(endpoint)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    api = boto3.client("apigatewayv2", **kw).create_api(Name="bench", ProtocolType="HTTP", Target=arn)
    boto3.client("lambda", **kw).add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                                Principal="apigateway.amazonaws.com")
    return api["ApiEndpoint"].split("://", 1)[1]


def compare_builds(args, rounds: int = 10) -> None:
    """``--compare``: the API route of this build and of another, alternating blocks."""
    import pairs
    from serverless_offline import create_node_function

    sides = pairs.start(args)
    try:
        hosts = {}
        for side in sides:
            name = f"bench-api-{os.getpid()}"
            if args.runtime.startswith("nodejs"):
                create_node_function(side.endpoint, name)
            else:
                create_function(side.endpoint, name, args.runtime)
            hosts[side.label] = (side.endpoint, make_api(side.endpoint, name))
        lat: dict[str, list[float]] = {label: [] for label in hosts}
        cpu = {label: 0.0 for label in hosts}
        for r in range(rounds):
            for side in pairs.order(sides, r):
                before = server_cpu_s(side.proc.pid)
                lat[side.label] += sequential_hosts({side.label: hosts[side.label]}, args.requests // rounds)[side.label]
                cpu[side.label] += server_cpu_s(side.proc.pid) - before
        for label, values in lat.items():
            print(json.dumps({"server": label, "sequential_ms": summary(values),
                              "server_cpu_us_per_request": round(cpu[label] / len(values) * 1e6, 1)}))
        print(json.dumps({"p50_this_over_compare": round(statistics.median(lat["this"]) /
                                                         statistics.median(lat["compare"]), 3)}))
    finally:
        pairs.stop(sides)


def main() -> None:
    import pairs

    ap = latency_args()
    ap.add_argument("--rounds", type=int, default=3)
    pairs.add_args(ap)
    args = ap.parse_args()
    if args.compare:
        compare_builds(args)
        return
    proc = data = None
    endpoint = args.endpoint and use_endpoint(args.endpoint)
    if endpoint is None:
        proc, endpoint, data = start_server()
    try:
        name = f"bench-api-{os.getpid()}"
        create_function(endpoint, name, args.runtime)
        hosts = {"api": make_api(endpoint, name), "url": make_url(endpoint, name).split("://", 1)[1].rstrip("/")}
        lat = sequential_hosts({k: (endpoint, h) for k, h in hosts.items()}, args.requests)
        api, url = summary(lat["api"]), summary(lat["url"])
        print(json.dumps({"sequential_ms": {"api": api, "url": url,
                                            "api_minus_url_p50": round(api["p50"] - url["p50"], 3)}}))
        windows: dict[str, list[float]] = {k: [] for k in hosts}
        for _ in range(args.rounds):
            for kind, host in hosts.items():
                windows[kind].append(throughput("url", endpoint, name, host, args.clients, args.seconds))
        rates = {k: statistics.median(v) for k, v in windows.items()}
        print(json.dumps({"throughput": {"clients": args.clients, "seconds": args.seconds,
                                         "api_per_s": round(rates["api"]), "url_per_s": round(rates["url"]),
                                         "api_over_url": round(rates["api"] / rates["url"], 3)}}))
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
