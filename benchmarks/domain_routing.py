"""What custom domain names (apis/domains.py) cost per request, in-process (no server).

    python benchmarks/domain_routing.py [--number 100000]

``Domains.route`` is asked for every request that names no execute-api host, Lambda's own API calls
(Invoke) included, so its cost without a match is on the hot path. Timed with ``timeit`` over
``--number`` calls, best of 3, in microseconds per call, for:

* no custom domain at all (the usual case);
* one custom domain, an Invoke request (``Host: 127.0.0.1:<port>``): not its host;
* a request to the domain whose path matches one of 20 two-level mappings (the longest key is found).
"""

from __future__ import annotations

import argparse
import tempfile
import timeit
from pathlib import Path

from lamb.apis.domains import Domains
from lamb.apis.store import HttpApiStore
from lamb.http.server import Request
from lamb.store.db import Database

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/x"


def best(fn, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=100000)
    n = parser.parse_args().number
    with tempfile.TemporaryDirectory() as folder:
        domains = Domains(HttpApiStore(Database(Path(folder) / "lamb.db"), "apigateway_domains"), "us-east-1")
        invoke = Request("POST", "/2015-03-31/functions/f/invocations", "", {"host": "127.0.0.1:9001"}, b"", None)
        rows = [("no custom domain, an Invoke request", best(lambda: domains.route(invoke), n))]
        record = domains.create("api.example.com", endpoint_type="REGIONAL", certificate_arn=CERT,
                                certificate_name=None, security_policy=None, ip_address_type=None, tags=None)
        for i in range(20):
            domains.put_mapping(record, key=f"k{i}/v", api_id="a", stage="s")
        rows.append(("one custom domain, an Invoke request", best(lambda: domains.route(invoke), n)))
        hit = Request("GET", "/k7/v/items/1", "", {"host": "api.example.com"}, b"", None)
        rows.append(("a request to the domain, 20 two-level mappings", best(lambda: domains.route(hit), n)))
    for name, us in rows:
        print(f"{name:<50} {us:8.3f} us")


if __name__ == "__main__":
    main()
