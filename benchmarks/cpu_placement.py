"""Lamb's CPU placement on and off, side by side (``LAMB_CPU_PLACEMENT``, lamb/cpus.py).

    python benchmarks/cpu_placement.py [--requests 4000] [--rounds 4] [--clients 8] [--seconds 4]

Two servers of this build at once, one with the default placement (``colocate``: the event loop and
the one busy environment on one CPU), one with ``LAMB_CPU_PLACEMENT=off``, each with the same two
warm functions: a Node.js handler behind a quick-created HTTP API, and a Python hello-world (``--runtime``, python3.12 by default)
called by Invoke. Sequential latency on one keep-alive connection per server and path, in
alternating blocks of 500; then throughput with ``--clients`` processes in alternating windows
(``--rounds`` each, median window).
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from function_url import _request, alternating, summary, throughput  # noqa: E402
from http_api import make_api  # noqa: E402
from invoke_latency import connect, create_function, latency_args, start_server, stop_server  # noqa: E402
from serverless_offline import create_node_function  # noqa: E402

PLACEMENTS = {"colocate": {}, "off": {"LAMB_CPU_PLACEMENT": "off"}}


def main() -> None:
    ap = latency_args()
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    servers: dict[str, tuple] = {}
    try:
        targets = {}
        for kind, env in PLACEMENTS.items():
            proc, endpoint, data = start_server(env=env)
            servers[kind] = (proc, data)
            create_node_function(endpoint, "node-api")
            targets[f"{kind} http_api"] = ("url", endpoint, "", make_api(endpoint, "node-api"))
            create_function(endpoint, "py-invoke", args.runtime)
            targets[f"{kind} invoke"] = ("invoke", endpoint, "py-invoke", "")
        calls = {k: functools.partial(_request(kind, name, host, ep), connect(ep))
                 for k, (kind, ep, name, host) in targets.items()}
        lat = {k: summary(v) for k, v in alternating(calls, args.requests).items()}
        ratios = {path: round(lat[f"colocate {path}"]["p50"] / lat[f"off {path}"]["p50"], 3)
                  for path in ("http_api", "invoke")}
        print(json.dumps({"sequential_ms": lat, "colocate_over_off_p50": ratios}))
        windows: dict[str, list[float]] = {k: [] for k in targets}
        for _ in range(args.rounds):
            for k, (kind, ep, name, host) in targets.items():
                windows[k].append(throughput(kind, ep, name, host, args.clients, args.seconds))
        rates = {k: round(statistics.median(v)) for k, v in windows.items()}
        ratios = {path: round(rates[f"colocate {path}"] / rates[f"off {path}"], 3) for path in ("http_api", "invoke")}
        print(json.dumps({"throughput_per_s": rates, "colocate_over_off": ratios, "clients": args.clients,
                          "windows": {k: [round(x) for x in v] for k, v in windows.items()}}))
    finally:
        for proc, data in servers.values():
            stop_server(proc, data)


if __name__ == "__main__":
    main()
