"""What each of Lamb's secure defaults costs a warm Invoke: servers with one default turned off each,
measured side by side.

    python benchmarks/defaults_cost.py [--runtime python3.11] [--rounds 20] [--per-round 500]

Starts five ``lamb serve`` (``invoke_latency.start_server``): the defaults (authentication on,
an isolated network and an on-disk /tmp per environment), then ``--auth off``, ``--network host``,
``--tmp tmpfs``, and all three off. Each gets the same hello-world function, warmed. Then
``--rounds`` rounds of ``--per-round`` sequential raw-HTTP Invoke calls on each server in turn (the
order reversed every other round, so the host's load weighs on all alike). Prints, per server,
p50/p90 in milliseconds and the server's CPU (user + system, ``/proc/<pid>/stat``) per invocation.
"""

from __future__ import annotations

import argparse
import json
import os

import invoke_latency as il

VARIANTS = {
    "defaults": ("on", []),
    "auth off": ("off", []),
    "network host": ("on", ["--network", "host"]),
    "tmp tmpfs": ("on", ["--tmp", "tmpfs"]),
    "all three off": ("off", ["--network", "host", "--tmp", "tmpfs"]),
}
WARM = 30  # per round and server, not timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", default="python3.11")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--per-round", type=int, default=500)
    args = ap.parse_args()
    name = f"defaults-{os.getpid()}"
    live: dict[str, tuple] = {}
    try:
        for variant, (auth, extra) in VARIANTS.items():
            proc, endpoint, data = il.start_server(auth, None, extra)
            live[variant] = (proc, endpoint, data)
            il.create_function(endpoint, name, args.runtime)
            il.sequential(endpoint, name, 300, warm=100)
        lat: dict[str, list[float]] = {k: [] for k in live}
        cpu = {k: 0.0 for k in live}
        for r in range(args.rounds):
            for variant in (list(live) if r % 2 == 0 else list(reversed(live))):
                proc, endpoint, _ = live[variant]
                before = il.server_cpu_s(proc.pid)
                lat[variant] += il.sequential(endpoint, name, args.per_round, warm=WARM)
                cpu[variant] += il.server_cpu_s(proc.pid) - before
        for variant, v in lat.items():
            print(json.dumps({"server": variant, "n": len(v), "p50_ms": round(il.pct(v, 0.5), 3),
                              "p90_ms": round(il.pct(v, 0.9), 3),
                              "server_cpu_us_per_invocation": round(cpu[variant] / (len(v) + WARM * args.rounds) * 1e6)}),
                  flush=True)
    finally:
        for proc, _, data in live.values():
            il.stop_server(proc, data)


if __name__ == "__main__":
    main()
