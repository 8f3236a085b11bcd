"""The cost of waking a process on another vCPU: a loopback TCP ping-pong, same vCPU against two.

    python benchmarks/host_wakeups.py [--round-trips 20000]

Two processes exchange 300-byte messages over a loopback TCP connection (TCP_NODELAY), one round trip
at a time: unpinned (where the scheduler puts them), both pinned to vCPU 0, and pinned to vCPUs 0 and
1. The difference between the last two is what one cross-vCPU wake-up costs on this host (an
inter-processor interrupt; on a VM, a hypervisor exit). Lamb's request crosses more processes than an
in-process emulator's (docs/performance.md, "HTTP APIs"), so this number bounds how close its median
can come to one. Needs two CPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import time


def ping_pong(cpus: tuple[int, int] | None, round_trips: int) -> dict:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    address = srv.getsockname()
    pid = os.fork()
    if pid == 0:  # the echo side
        if cpus is not None:
            os.sched_setaffinity(0, {cpus[1]})
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = conn.recv(4096)
            if not data:
                os._exit(0)
            conn.sendall(data)
    srv.close()
    if cpus is not None:
        os.sched_setaffinity(0, {cpus[0]})
    s = socket.create_connection(address)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg, times = b"x" * 300, []
    for _ in range(round_trips):
        t = time.perf_counter_ns()
        s.sendall(msg)
        s.recv(4096)
        times.append(time.perf_counter_ns() - t)
    s.close()
    os.waitpid(pid, 0)
    times = times[round_trips // 10:]  # warm-up left out
    return {"p50_us": round(statistics.median(times) / 1000, 1),
            "p90_us": round(statistics.quantiles(times, n=10)[8] / 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--round-trips", type=int, default=20000)
    args = ap.parse_args()
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        raise SystemExit("needs two CPUs")
    a, b = allowed[:2]
    for label, cpus in (("unpinned", None), ("same vCPU", (a, a)), ("two vCPUs", (a, b))) * 2:
        os.sched_setaffinity(0, set(allowed))
        print(json.dumps({"placement": label, **ping_pong(cpus, args.round_trips)}))


if __name__ == "__main__":
    main()
