"""Metering (issue 15): `lamb usage` (table and --json) and /_lamb/usage count requests and
billed duration as REPORT shows them (Init billed on cold starts), GB-seconds by MemorySize,
a cost from the price table, per function, version and architecture; kept across a restart."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys

from .conftest import create, unique

HELLO = "def handler(event, context):\n    return 'hi'\n"


def billed_of(resp: dict) -> tuple[int, float, float | None]:
    report = base64.b64decode(resp["LogResult"]).decode().split("REPORT ", 1)[1]
    duration = float(re.search(r"\tDuration: ([\d.]+) ms", report).group(1))
    init = re.search(r"Init Duration: ([\d.]+) ms", report)
    return int(re.search(r"Billed Duration: (\d+) ms", report).group(1)), duration, float(init.group(1)) if init else None


def lamb_usage(server, *args) -> subprocess.CompletedProcess:
    """``lamb usage`` as the operator runs it, after ``eval "$(lamb env)"``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(server.aws_env(), AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return subprocess.run([sys.executable, "-m", "lamb", "usage", "--endpoint", server.url, *args],
                          capture_output=True, text=True, timeout=60, check=True, env=env)


def test_usage_counts_what_report_bills(fresh_server):
    server = fresh_server()
    lam = server.client()
    x86, arm = unique("meter"), unique("meter-big")  # (arm64 functions need an arm64 host: x86_64 both)
    create(lam, x86, HELLO, MemorySize=256)
    create(lam, arm, HELLO, MemorySize=1024, EphemeralStorage={"Size": 1024}, Publish=True)
    billed = {x86: 0, arm: 0}
    init_seen = False
    for name in (x86, x86, x86, arm):
        resp = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail", **({"Qualifier": "1"} if name == arm else {}))
        ms, duration, init = billed_of(resp)
        if init is not None:  # a cold start bills its Init too
            init_seen = True
            assert ms == max(1, -(-(duration + init) // 1)) and ms > duration + init - 1
        billed[name] += ms
    assert init_seen

    doc = json.loads(lamb_usage(server, "--json").stdout)
    rows = {r["function"]: r for r in doc["usage"]}
    assert rows[x86]["requests"] == 3 and rows[arm]["requests"] == 1
    assert rows[x86]["billed_ms"] == billed[x86] and rows[arm]["billed_ms"] == billed[arm]
    assert rows[x86]["init_billed_ms"] > 0
    assert (rows[x86]["architecture"], rows[x86]["memory_mb"], rows[x86]["version"]) == ("x86_64", 256, "$LATEST")
    assert (rows[arm]["architecture"], rows[arm]["version"], rows[arm]["ephemeral_mb"]) == ("x86_64", "1", 1024)
    assert abs(rows[x86]["gb_seconds"] - 0.25 * billed[x86] / 1000) < 1e-6
    expected = 3 * 0.20 / 1e6 + 0.25 * billed[x86] / 1000 * 0.0000166667
    assert abs(rows[x86]["cost"] - expected) < 1e-9
    arm_cost = 0.20 / 1e6 + billed[arm] / 1000 * 0.0000166667 + 0.5 * billed[arm] / 1000 * 0.0000000309
    assert abs(rows[arm]["cost"] - arm_cost) < 1e-9
    (month,) = doc["months"]
    assert month["requests"] == 4 and doc["currency"] == "USD"

    table = lamb_usage(server, "--function", x86).stdout
    assert x86 in table and arm not in table and "REQUESTS" in table.splitlines()[0]

    server.terminate()
    server.restart()  # flushed at stop, read back after the restart
    again = json.loads(lamb_usage(server, "--json", "--function", arm).stdout)
    assert [(r["function"], r["requests"], r["billed_ms"]) for r in again["usage"]] == [(arm, 1, billed[arm])]
