"""Promise: an environment starts from a minimal, explicit environment; nothing of Lamb's is inside.

AWS defines the variables a runtime gets
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
a function sees those and its own, never the platform's. The function below makes itself
dumpable (so /proc/<pid>/environ is readable even after a uid change) and reads the start-up
environment block of every process it can see, including one it started itself.
"""

from __future__ import annotations

import json
import os

from .conftest import MARKERS, create, invoke, unique

READER = r'''
import ctypes, errno, os, subprocess

PR_SET_DUMPABLE = 4

def blocks(pids):
    out = {}
    for pid in pids:
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                data = f.read()
        except OSError as e:
            out[pid] = errno.errorcode.get(e.errno, str(e.errno))
            continue
        out[pid] = [kv.decode("utf-8", "replace") for kv in data.split(b"\0") if kv]
    return out

def handler(event, context):
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    child = subprocess.Popen(["/bin/sleep", "30"])
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        if event.get("own_session_only"):
            sid = os.getsid(0)
            def same(p):
                try:
                    return os.getsid(p) == sid
                except OSError:
                    return False
            pids = [p for p in pids if same(p)]
        return {"self": os.getpid(), "child": child.pid, "environ": blocks(pids), "own": dict(os.environ)}
    finally:
        child.kill()
        child.wait()
'''

# What AWS sets in every runtime's environment (plus TMPDIR, which the process backend sets).
AWS_DEFINED = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM",  # Lamb serves STS and IAM too
    "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",  # and WebSocket APIs' @connections API
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH",
    "LD_LIBRARY_PATH", "PYTHONPATH",
}
OWN = {"FUNCTION_OWN": "mine"}


def _read(server, own_session_only: bool) -> dict:
    lam = server.client()
    name = unique("environ")
    create(lam, name, READER, Timeout=30, Environment={"Variables": OWN})
    resp, out = invoke(lam, name, {"own_session_only": own_session_only})
    assert resp.get("FunctionError") is None, out
    return out


def _assert_nothing_of_lambs(out: dict, allowed_extra: set[str] = frozenset()) -> None:
    own = out["own"]
    blocks = {int(pid): block for pid, block in out["environ"].items()}
    readable = {pid: block for pid, block in blocks.items() if isinstance(block, list)}
    assert out["self"] in readable and out["child"] in readable, blocks
    text = json.dumps(out)
    for key, value in MARKERS.items():
        assert key not in text and value not in text, f"{key} is visible inside the environment"
    assert set(own) <= AWS_DEFINED | set(OWN) | set(allowed_extra), set(own) - AWS_DEFINED - set(OWN)
    for pid, block in readable.items():
        names = {kv.split("=", 1)[0] for kv in block}
        assert names <= set(own), f"process {pid} started with variables the function was not given: {names - set(own)}"
    assert own["FUNCTION_OWN"] == "mine"


def test_linux_environments_hold_nothing_of_lambs_environment(linux_server):
    out = _read(linux_server, own_session_only=False)
    # Every process in the environment's PID namespace: its init (root: unreadable) and the function's.
    _assert_nothing_of_lambs(out)


def test_process_environments_hold_nothing_of_lambs_environment(process_server):
    # The process backend shares the host's PID space (Lamb itself is visible there; see
    # docs/architecture.md): only the environment's own processes are checked.
    out = _read(process_server, own_session_only=True)
    _assert_nothing_of_lambs(out, allowed_extra={"TMPDIR"})


def test_credentials_include_a_session_token(any_server):
    own = _read(any_server, own_session_only=True)["own"]
    # The execution role's temporary credentials (issue 17): all three, a temporary key id, never Lamb's own.
    creds = [own[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]
    assert all(creds) and own["AWS_ACCESS_KEY_ID"].startswith("ASIA"), creds
    assert own["AWS_ACCESS_KEY_ID"] != os.environ.get("AWS_ACCESS_KEY_ID")
