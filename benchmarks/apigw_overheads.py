"""What API Gateway's per-request extras cost on the serving path, in-process (no server).

    python benchmarks/apigw_overheads.py [--number 20000]

* ``apis.metrics.record``: one HTTP API request's six CloudWatch points (Count, 4xx, 5xx, Latency,
  IntegrationLatency, DataProcessed) into a ``Metrics`` store;
* ``apis.vtl.render``: a typical non-proxy request template (``$input.params``, ``$input.json('$')``,
  ``$util.urlDecode``) once compiled (templates are compiled once and cached);
* ``apis.mapped.response``: an integration response with a response template and a header mapping;
* ``apis.access_log``: one access log line of 32 variables (``context_values`` from what the request
  met, then ``render``), written after the answer.

Each is timed with ``timeit`` over ``--number`` calls, best of 3, in microseconds per call.
"""

from __future__ import annotations

import argparse
import timeit

from lamb.apis import access_log, mapped, metrics, vtl
from lamb.apis.authorizers import Authorized
from lamb.invoke.metrics import Metrics

TEMPLATE = '{"id": "$input.params(\'id\')", "body": $input.json(\'$\'), "q": "$util.urlDecode($input.params(\'q\'))"}'
SEEN = mapped.Templated({"path": {"id": "7"}, "querystring": {"q": "a+b"}, "header": {"Accept": "*/*"}},
                        {"stage": "prod", "requestId": "r"}, {"env": "dev"})
LOG_FORMAT = "|".join(f"$context.{v}" for v in (
    "requestId", "status", "authorizer.user", "integration.status", "error.message", "identity.sourceIp", "routeKey",
    "integrationErrorMessage")) * 4
LOG_BASE = {"requestId": "r" * 36, "status": 200, "identity.sourceIp": "127.0.0.1", "routeKey": "GET /x"}
AUTHORIZED = Authorized("lambda", {"user": "ann", "n": 1}, "p", 3)
RESPONSE = {"statusCode": "200", "responseTemplates": {"application/json": '{"got": $input.json(\'$.value\')}'},
            "responseParameters": {"method.response.header.X-Stage": "context.stage"}}


def best(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=20000)
    n = parser.parse_args().number
    store = Metrics()
    cases = {
        "metrics.record (HTTP API, 6 points)": lambda: metrics.record(
            store.put, rest=False, api="a1", stage="$default", status=200, latency_ms=5.3, integration_ms=4.1,
            data_bytes=100),
        "vtl.render (request template)": lambda: vtl.render(
            TEMPLATE, body=b'{"a": 1, "b": [1, 2, 3]}', params=SEEN.params, context=SEEN.context),
        "mapped.response (template + header)": lambda: mapped.response(RESPONSE, b'{"value": [1, 2]}', None, SEEN),
        "access_log line (32 variables)": lambda: access_log.render(LOG_FORMAT, access_log.context_values(
            LOG_BASE, rest=False, authorized=AUTHORIZED,
            integration={"status": 200, "integrationStatus": 200, "requestId": "r"})),
    }
    for name, fn in cases.items():
        fn()
        print(f"{name:40s} {best(fn, n):7.1f} µs/call")


if __name__ == "__main__":
    main()
