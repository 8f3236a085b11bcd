"""CPU placement (lamb/cpus.py) in a running Lamb: a lone busy runtime beside the event loop.

Each function reports the CPUs its runtime may use (``Cpus_allowed_list`` of its own process, read
inside its sandbox) at the end of its invocation; the test reads the loop's (Lamb's main thread) and
the other threads' from /proc.
"""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path

from .conftest import create, descendants, invoke, unique

NODE = """
const fs = require('fs');
exports.handler = async (event) => {
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\\n').find((l) => l.startsWith('Cpus_allowed_list'));
  return line.split(':')[1].trim();
};
"""
PYTHON = """
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0) / 1000)
    for line in open("/proc/self/status"):
        if line.startswith("Cpus_allowed_list"):
            return line.split(":")[1].strip()
"""
ALL = frozenset(os.sched_getaffinity(0))


def cpus(text: str) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        out.update(range(int(first), int(last or first) + 1))
    return frozenset(out)


def allowed(pid: int, tid: int | None = None) -> frozenset[int]:
    status = Path(f"/proc/{pid}/task/{tid or pid}/status").read_text()
    return cpus(next(line for line in status.splitlines() if line.startswith("Cpus_allowed_list")).split(":")[1].strip())


def other_threads(pid: int) -> dict[str, frozenset[int]]:
    return {f"{tid} {Path(f'/proc/{pid}/task/{tid}/comm').read_text().strip()}": allowed(pid, int(tid))
            for tid in os.listdir(f"/proc/{pid}/task") if int(tid) != pid}


def reported(client, name: str, **event) -> frozenset[int]:
    _resp, payload = invoke(client, name, event)
    return cpus(payload)


def test_a_lone_runtime_shares_the_loops_cpu_and_concurrency_spreads_them(fresh_server):
    assert len(ALL) >= 2, "CPU placement needs a host with two CPUs or more"
    server = fresh_server()
    lam = server.client()
    node, py312, py311 = unique("place-node"), unique("place-py312"), unique("place-py311")
    create(lam, node, {"index.js": NODE}, handler="index.handler", runtime="nodejs20.x", Timeout=10)
    create(lam, py312, PYTHON, Timeout=10)
    create(lam, py311, PYTHON, runtime="python3.11", Timeout=10)
    # Node.js with Lamb's transport: after a run of lone invocations, runtime and loop on one CPU.
    seen = [reported(lam, node) for _ in range(6)]
    one = allowed(server.pid)
    assert seen[0] == ALL  # its cold start, and the first lone ones
    assert len(one) == 1 and seen[-1] == one, (seen, one)
    assert server.get_json("/_lamb/health")["cpu_placement"] == f"colocate (loop on CPU {min(one)} of {len(ALL)})"
    # Nothing else of Lamb's inherits the loop's CPU: its threads, the zygotes and helper processes.
    assert all(mask == ALL for mask in other_threads(server.pid).values()), other_threads(server.pid)
    helpers = {pid: allowed(pid) for pid in descendants(server.pid)
               if "zygote" in Path(f"/proc/{pid}/cmdline").read_text() or "lamb.sandbox" in Path(f"/proc/{pid}/cmdline").read_text()}
    assert helpers and all(mask == ALL for mask in helpers.values()), helpers

    # An invocation longer than the placement's 2 ms gets all CPUs back.
    assert reported(lam, node, sleep=50) == ALL

    # Two at once: both runtimes, and the loop, where the scheduler finds room. Each reads its CPUs after 1.5 s,
    # long after the other (a cold start) became busy too.
    clients = [server.client() for _ in range(2)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda c: reported(c, node, sleep=1500), clients))
    assert both == [ALL, ALL]
    assert allowed(server.pid) == ALL

    # python3.11 polls /next on the thread that posted: placed. python3.12 polls from a new thread: never.
    placed = [reported(lam, py311) for _ in range(6)][-1]
    assert len(placed) == 1 and placed == allowed(server.pid)
    assert [reported(lam, py312) for _ in range(6)] == [ALL] * 6
    assert allowed(server.pid) == ALL


def test_placement_off_pins_nothing(fresh_server):
    server = fresh_server(env={"LAMB_CPU_PLACEMENT": "off"})
    lam = server.client()
    name = unique("place-off")
    create(lam, name, {"index.js": NODE}, handler="index.handler", runtime="nodejs20.x", Timeout=10)
    assert [reported(lam, name) for _ in range(6)] == [ALL] * 6
    assert allowed(server.pid) == ALL
    assert server.get_json("/_lamb/health")["cpu_placement"] == "off"
