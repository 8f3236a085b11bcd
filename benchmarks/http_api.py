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

Issue 20 asks for a comparison with serverless-offline's API Gateway emulation for the
same handler; that needs npm and is not part of this script yet (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function_url import _request, make_url, summary, throughput  # noqa: E402
from invoke_latency import boto_kw, connect, create_function, latency_args, start_server, stop_server, use_endpoint  # noqa: E402


def make_api(endpoint: str, name: str) -> str:
    """Quick-create an HTTP API for ``name``; its Host."""
    import boto3

    kw = boto_kw(endpoint)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    api = boto3.client("apigatewayv2", **kw).create_api(Name="bench", ProtocolType="HTTP", Target=arn)
    boto3.client("lambda", **kw).add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                                Principal="apigateway.amazonaws.com")
    return api["ApiEndpoint"].split("://", 1)[1]


def sequential(endpoint: str, name: str, hosts: dict[str, str], n: int, block: int = 500) -> dict[str, list[float]]:
    conn = connect(endpoint)
    reqs = {k: _request("url", name, h, endpoint) for k, h in hosts.items()}
    for one in reqs.values():
        for _ in range(200):
            assert one(conn) == 200
    out: dict[str, list[float]] = {k: [] for k in hosts}
    while min(len(v) for v in out.values()) < n:
        for kind, one in reqs.items():
            for _ in range(block):
                t = time.perf_counter()
                status = one(conn)
                out[kind].append((time.perf_counter() - t) * 1000)
                assert status == 200, (kind, status)
    return out


def main() -> None:
    ap = latency_args()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    proc = data = None
    endpoint = args.endpoint and use_endpoint(args.endpoint)
    if endpoint is None:
        proc, endpoint, data = start_server()
    try:
        name = f"bench-api-{os.getpid()}"
        create_function(endpoint, name, args.runtime)
        hosts = {"api": make_api(endpoint, name), "url": make_url(endpoint, name).split("://", 1)[1].rstrip("/")}
        lat = sequential(endpoint, name, hosts, args.requests)
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
