"""Execution environment lifecycle: init, freeze/thaw, keep-alive shutdown, cleanup after kill -9."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

from lamb.sandbox.cgroups import SpareGroups

from .conftest import create, invoke, unique, wait_for

TICKER = r'''
import os, threading, time
TICKS = {"n": 0}
def _tick():
    while True:
        TICKS["n"] += 1
        time.sleep(0.01)
threading.Thread(target=_tick, daemon=True).start()

def handler(event, context):
    return {"ticks": TICKS["n"], "type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
'''


def _lamb_cgroups(pid: int) -> list[Path]:
    """Every cgroup folder Lamb server ``pid`` created (any controller, any depth up to 4)."""
    found = []
    root = Path("/sys/fs/cgroup")
    for pattern in ("lamb-%d", "*/lamb-%d", "*/*/lamb-%d", "*/*/*/lamb-%d"):
        found += list(root.glob(pattern % pid))
    return found


def _linux(server) -> bool:
    return server.get_json("/_lamb/health")["sandbox"] == "linux"


def test_idle_environment_is_frozen_and_thawed(fresh_server):
    server = fresh_server(env={"LAMB_FREEZE_AFTER_S": "0.05"})
    if not _linux(server):
        pytest.fail("freezing needs the linux sandbox")
    lam = server.client()
    name = unique("freeze")
    create(lam, name, TICKER)
    first = invoke(lam, name)[1]["ticks"]
    time.sleep(1.0)  # idle: a background thread ticks every 10 ms only while not frozen
    second = invoke(lam, name)[1]["ticks"]
    assert second - first < 40, (first, second)  # ~5-10 ticks before the freeze, not ~100
    time.sleep(0.02)
    third = invoke(lam, name)[1]["ticks"]
    assert third >= second  # thawed: the same warm environment goes on


def test_unfrozen_when_freezing_is_disabled(fresh_server):
    server = fresh_server(env={"LAMB_FREEZE_AFTER_S": "-1"})
    lam = server.client()
    name = unique("nofreeze")
    create(lam, name, TICKER)
    first = invoke(lam, name)[1]["ticks"]
    time.sleep(1.0)
    assert invoke(lam, name)[1]["ticks"] - first > 50


def test_keep_alive_shuts_down_idle_environments_leaving_nothing(fresh_server):
    server = fresh_server(extra_args=["--keep-alive", "1"])
    lam = server.client()
    name = unique("keep")
    create(lam, name, "def handler(e, c):\n    open('/tmp/x', 'w').write('x')\n    return 1\n")
    before = server.tree()  # the runtime's zygote, started at CreateFunction
    assert invoke(lam, name)[1] == 1
    assert len(server.get_json("/_lamb/environments")) == 1
    assert len(server.tree()) > len(before)
    wait_for(lambda: server.get_json("/_lamb/environments") == [], 10, 0.1, "the idle environment to shut down")
    # Only the zygote remains in Lamb's process tree; no environment process.
    wait_for(lambda: server.tree() == before, 5, 0.1, "environment processes to exit")
    if _linux(server):
        def groups():
            return [c for p in _lamb_cgroups(server.pid) for c in p.iterdir() if c.is_dir()]

        def env_groups():
            """Groups with processes in them; the rest are the empty spares made ahead of demand."""
            return [c for c in groups() if (c / "cgroup.procs").read_text().strip()]
        wait_for(lambda: env_groups() == [], 5, 0.1, "environment cgroups to be emptied")
        hierarchies = len(_lamb_cgroups(server.pid))
        wait_for(lambda: len(groups()) <= SpareGroups.keep_default * hierarchies, 5, 0.1,
                 "only spare cgroups to be left")
    # Another invocation is a cold start again.
    resp, out = invoke(lam, name, LogType="Tail")
    assert out == 1
    assert "Init Duration" in base64.b64decode(resp["LogResult"]).decode()


def test_kill9_then_restart_leaves_nothing_behind(fresh_server):
    server = fresh_server()
    lam = server.client()
    names = [unique("k9") for _ in range(2)]
    for n in names:
        create(lam, n, "def handler(e, c):\n    return 'ok'\n")
        assert invoke(lam, n)[1] == "ok"
    old_pid = server.pid
    linux = _linux(server)
    assert server.tree(), "environments and zygotes should be running"
    server.kill9()
    server.assert_no_survivors(timeout=10)
    server.restart()
    if linux:
        wait_for(lambda: _lamb_cgroups(old_pid) == [], 10, 0.1, "the dead server's cgroups to be removed")
    lam = server.client()
    for n in names:
        assert invoke(lam, n)[1] == "ok"


def test_init_timeout_is_retried_within_the_first_invocation(fresh_server):
    """AWS: an Init past its limit (10 s; 1 s here) runs again during the first invocation,
    bounded by the function's timeout; that invocation's REPORT has no Init Duration."""
    server = fresh_server(env={"LAMB_LIMIT_INIT_TIMEOUT_S": "1"})
    lam = server.client()
    slow = "import time\nprint('init ran')\ntime.sleep(2)\ndef handler(e, c):\n    return c.get_remaining_time_in_millis()\n"
    name = unique("slowinit")
    create(lam, name, slow, Timeout=10)
    t = time.monotonic()
    resp, out = invoke(lam, name, LogType="Tail")
    took = time.monotonic() - t
    assert resp.get("FunctionError") is None, out
    assert 3.0 <= took < 8, took  # 1 s of the first Init, then 2 s of the second
    assert 6000 < out < 9000  # the function's timeout counts from the second Init's start
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "INIT_REPORT Init Duration: 1000.00 ms\tPhase: init\tStatus: timeout" in log
    start, report = log.index("START RequestId:"), log.index("REPORT RequestId:")
    assert start < log.rindex("init ran") < report  # Init ran again inside the invocation
    assert "Init Duration" not in log[report:]
    # The environment stays: the next invocation is warm.
    assert isinstance(invoke(lam, name)[1], int)

    # A second Init that outlives the function's timeout ends the invocation as a timeout.
    short = unique("slowinit")
    create(lam, short, "import time\ntime.sleep(5)\ndef handler(e, c):\n    return 1\n", Timeout=2)
    t = time.monotonic()
    resp, out = invoke(lam, short, LogType="Tail")
    assert time.monotonic() - t < 4.5
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Sandbox.Timedout"
    assert out["errorMessage"].endswith("Task timed out after 2.00 seconds")
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "Phase: init\tStatus: timeout" in log and "Phase: invoke\tStatus: timeout" in log
    assert "Status: timeout" in log[log.index("REPORT RequestId:"):]


def test_init_error_then_next_invocation_retries_init(lam):
    name = unique("initerr")
    create(lam, name, "raise RuntimeError('boom at init')\ndef handler(e, c):\n    return 1\n")
    for _ in range(2):
        resp, out = invoke(lam, name, LogType="Tail")
        assert resp["FunctionError"] == "Unhandled"
        assert out["errorType"] == "RuntimeError"
        assert out["errorMessage"] == "boom at init"
        log = base64.b64decode(resp["LogResult"]).decode()
        assert "INIT_REPORT Init Duration:" in log and "Phase: init\tStatus: error\tError Type: RuntimeError" in log


def test_environment_variables(lam, lamb_server):
    name = unique("envs")
    create(lam, name, "import os\ndef handler(e, c):\n    return dict(os.environ)\n",
           Environment={"Variables": {"MY_SETTING": "on", "LANG": "C.UTF-8"}}, MemorySize=256)
    resp, env = invoke(lam, name)
    linux = lamb_server.get_json("/_lamb/health")["sandbox"] == "linux"
    expected = {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": "fn.handler",
        "TZ": ":UTC",
        "MY_SETTING": "on",
        "LANG": "C.UTF-8",  # not reserved: the function's value wins
    }
    for k, v in expected.items():
        assert env.get(k) == v, k
    for k in ("AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "PATH",
              "LD_LIBRARY_PATH", "PYTHONPATH", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "_X_AMZN_TRACE_ID",
              "AWS_ENDPOINT_URL_LAMBDA"):
        assert env.get(k), k
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert "AWS_ENDPOINT_URL" not in env  # Lamb sets only the Lambda endpoint
    if linux:
        assert env["LAMBDA_TASK_ROOT"] == "/var/task" and env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
        assert env["PATH"].endswith("/usr/local/bin:/usr/bin/:/bin:/opt/bin")


def test_function_calls_lamb_with_boto3(lam):
    """boto3 inside a function reaches Lamb itself (AWS_ENDPOINT_URL_LAMBDA)."""
    target = unique("target")
    create(lam, target, "def handler(e, c):\n    return {'got': e}\n")
    caller = unique("caller")
    create(lam, caller, f"""
import boto3, json
def handler(e, c):
    r = boto3.client('lambda').invoke(FunctionName='{target}', Payload=json.dumps({{'x': 1}}))
    return json.loads(r['Payload'].read())
""", Timeout=30, MemorySize=512)
    resp, out = invoke(lam, caller)
    assert resp.get("FunctionError") is None, out
    assert out == {"got": {"x": 1}}


def test_kill9_with_frozen_environments_leaves_nothing_behind(fresh_server):
    """Frozen tasks ignore even SIGKILL: the zygote thaws them when Lamb dies."""
    server = fresh_server(env={"LAMB_FREEZE_AFTER_S": "0.05"})
    if not _linux(server):
        pytest.fail("freezing needs the linux sandbox")
    lam = server.client()
    name = unique("frozen9")
    create(lam, name, TICKER)
    invoke(lam, name)
    time.sleep(0.5)  # idle long enough to be frozen
    server.kill9()
    server.assert_no_survivors(timeout=10)
