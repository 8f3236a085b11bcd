"""REST API caching: a cached GET (a stage cache hit) beside the same GET on a stage without a cache.

    python benchmarks/rest_cache.py [--endpoint http://127.0.0.1:9000] [--requests 5000]

Without --endpoint it starts its own ``lamb serve`` (and stops it afterwards). It creates one
function answering a proxy response and a REST API with ``GET /item`` (AWS_PROXY) deployed to two stages of the
same deployment: ``cached`` (``cacheClusterEnabled``, ``*/*`` caching on, TTL 3600 s) and ``plain``
(no cache); warms both, then measures in the same run sequential latency on one keep-alive connection
per stage, in alternating blocks of 500 (p50/p90/p99): the cached stage answers from the cache (its
function is not invoked), the plain one invokes the warm function each time.
"""

from __future__ import annotations

import functools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function_url import alternating, connect, summary  # noqa: E402
from invoke_latency import (boto_kw, create_function, latency_args, start_server, stop_server,  # noqa: E402
                            use_endpoint, zip_of)

PROXY_HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hello'}\n"


def make_api(endpoint: str, name: str) -> str:
    """The REST API's Host, its stages ``cached`` and ``plain`` serving ``GET /item`` from ``name``."""
    import boto3

    kw = boto_kw(endpoint)
    apigw = boto3.client("apigateway", **kw)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    api = apigw.create_rest_api(name="bench-cache")
    res = apigw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="item")
    ids = {"restApiId": api["id"], "resourceId": res["id"], "httpMethod": "GET"}
    apigw.put_method(**ids, authorizationType="NONE")
    apigw.put_integration(**ids, type="AWS_PROXY", integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations")
    dep = apigw.create_deployment(restApiId=api["id"], stageName="plain")
    apigw.create_stage(restApiId=api["id"], stageName="cached", deploymentId=dep["id"], cacheClusterEnabled=True)
    apigw.update_stage(restApiId=api["id"], stageName="cached", patchOperations=[
        {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "3600"}])
    boto3.client("lambda", **kw).add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                                Principal="apigateway.amazonaws.com")
    port = endpoint.rsplit(":", 1)[1]
    return f"{api['id']}.execute-api.us-east-1.localhost:{port}"


def sequential(endpoint: str, host: str, n: int, block: int = 500) -> dict[str, list[float]]:
    conns = {stage: connect(endpoint) for stage in ("cached", "plain")}

    def one(stage: str) -> int:
        conns[stage].request("GET", f"/{stage}/item?n=1", headers={"Host": host})
        r = conns[stage].getresponse()
        r.read()
        return r.status

    return alternating({stage: functools.partial(one, stage) for stage in conns}, n, block)


def main() -> None:
    args = latency_args().parse_args()
    proc = data = None
    endpoint = args.endpoint and use_endpoint(args.endpoint)
    if endpoint is None:
        proc, endpoint, data = start_server()
    try:
        name = f"bench-cache-{os.getpid()}"
        create_function(endpoint, name, args.runtime, {"Code": {"ZipFile": zip_of(PROXY_HANDLER)}})
        lat = sequential(endpoint, make_api(endpoint, name), args.requests)
        cached, plain = summary(lat["cached"]), summary(lat["plain"])
        print(json.dumps({"sequential_ms": {"cached": cached, "plain": plain,
                                            "cached_over_plain_p50": round(cached["p50"] / plain["p50"], 3)}}))
    finally:
        stop_server(proc, data)


if __name__ == "__main__":
    main()
