"""The plain-process fallback backend, forced by configuration: what it still enforces."""

from __future__ import annotations

import pytest

from .conftest import create, invoke, unique

PROBE = r'''
import errno, os, tempfile
def handler(event, context):
    op = event["op"]
    if op == "fds":
        fds = []
        try:
            while len(fds) < 5000:
                fds.append(os.open("/dev/null", os.O_RDONLY))
        except OSError as e:
            return {"opened": len(fds), "error": errno.errorcode[e.errno]}
        finally:
            for f in fds:
                os.close(f)
    if op == "tmpdir":
        path = tempfile.mkdtemp()
        return {"tmpdir": os.environ.get("TMPDIR"), "made": path}
    if op == "alloc":
        hog = [bytearray(8 << 20) for _ in range(event["mb"] // 8)]
        return len(hog)
    return {"task_root": os.environ["LAMBDA_TASK_ROOT"], "cwd": os.getcwd()}
'''


@pytest.fixture(scope="module")
def server():
    from .conftest import LambServer

    s = LambServer(extra_args=["--sandbox", "process"]).start()
    yield s
    s.close()


def test_backend_is_announced(server):
    health = server.get_json("/_lamb/health")
    assert health["sandbox"] == "process"
    assert "forced by configuration" in health["sandbox_detail"]
    assert "sandbox: process" in server.log_tail()


def test_invocations_work_and_limits_hold(server):
    lam = server.client()
    name = unique("proc")
    create(lam, name, PROBE, MemorySize=128, Timeout=10)
    out = invoke(lam, name, {"op": "where"})[1]
    assert out["cwd"] == out["task_root"]
    fds = invoke(lam, name, {"op": "fds"})[1]
    assert fds["error"] == "EMFILE" and 1000 <= fds["opened"] <= 1024
    tmp = invoke(lam, name, {"op": "tmpdir"})[1]
    assert tmp["tmpdir"] and tmp["made"].startswith(tmp["tmpdir"])
    assert str(server.data_dir) in tmp["tmpdir"]  # a private folder under Lamb's data dir
    # The data-size limit turns a runaway allocation into a MemoryError.
    resp, out = invoke(lam, name, {"op": "alloc", "mb": 2048})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "MemoryError"


def test_timeout_in_fallback(server):
    lam = server.client()
    name = unique("proct")
    create(lam, name, "import time\ndef handler(e, c):\n    time.sleep(5)\n", Timeout=1)
    resp, out = invoke(lam, name)
    assert out["errorType"] == "Sandbox.Timedout"
