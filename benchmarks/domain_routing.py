"""What custom domain names (apis/domains.py) cost per request, in-process (no server).

    python benchmarks/domain_routing.py [--number 100000]

``Domains.route`` is asked for every request that names no execute-api host, Lambda's own API calls
(Invoke) included, so its cost without a match is on the hot path. Timed with ``timeit`` over
``--number`` calls, best of 3, in microseconds per call, for:

* no custom domain at all (the usual case);
* one custom domain, an Invoke request (``Host: 127.0.0.1:<port>``): not its host;
* a request to the domain whose path matches one of 20 two-level mappings (the longest key is found);
* with routing rules (``routing_rules.py``; rows left out on a build without them): a domain in
  ``ROUTING_RULE_THEN_API_MAPPING`` with 20 header-and-base-path rules, a request matching the last rule by
  priority, and one no rule matches (the mappings then); an Invoke request while a private domain name exists.

``--base SRC`` runs the same rows against another build's ``src`` too (e.g. ``git archive <rev> src``), in the
same process run, one after the other.
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


def rows_of(n: int) -> list[tuple[str, float]]:
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
        if not hasattr(domains, "put_rule"):
            return rows
        ruled = domains.create("rules.example.com", endpoint_type="REGIONAL", certificate_arn=CERT,
                               certificate_name=None, security_policy=None, ip_address_type=None, tags=None,
                               routing_mode="ROUTING_RULE_THEN_API_MAPPING")
        domains.put_mapping(ruled, key="", api_id="m", stage="s")
        for i in range(20):
            domains.put_rule(ruled, priority=i + 1, actions=[{"InvokeApi": {"ApiId": "r", "Stage": "s"}}],
                             conditions=[{"MatchHeaders": {"AnyOf": [{"Header": "x-version", "ValueGlob": f"v{i}*"}]}},
                                         {"MatchBasePaths": {"AnyOf": [f"b{i}"]}}])
        last = Request("GET", "/b19/items/1", "", {"host": "rules.example.com", "x-version": "v19-beta"}, b"", None)
        rows.append(("20 rules, the last matches", best(lambda: domains.route(last), n)))
        none = Request("GET", "/items/1", "", {"host": "rules.example.com", "x-version": "other"}, b"", None)
        rows.append(("20 rules, none matches: the mappings", best(lambda: domains.route(none), n)))
        domains.create("private.example.com", endpoint_type="PRIVATE", certificate_arn=CERT, certificate_name=None,
                       security_policy=None, ip_address_type=None, tags=None,
                       policy='{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}')
        rows.append(("a private name exists, an Invoke request", best(lambda: domains.route(invoke), n)))
        rows.append(("a private name exists, the mapped domain", best(lambda: domains.route(hit), n)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=100000)
    parser.add_argument("--base", help="another build's src folder, measured after this one")
    args = parser.parse_args()
    for name, us in rows_of(args.number):
        print(f"{name:<50} {us:8.3f} us")
    if args.base:
        import subprocess
        import sys
        print(f"--- {args.base}")
        subprocess.run([sys.executable, __file__, "--number", str(args.number)], check=True,
                       env={"PYTHONPATH": args.base, "PATH": "/usr/bin:/bin"})


if __name__ == "__main__":
    main()
