"""Errors from function code: exceptions, init failures, exits and timeouts."""

from __future__ import annotations

import base64
import time
import uuid

import pytest

from .conftest import create, invoke, make_zip, unique

COUNTER_FN = """
import os, time
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    time.sleep(event.get("sleep", 0))
    return {"count": COUNT, "pid": os.getpid(), "stream": context.log_stream_name}
"""


def _update_code(lam, name, src):
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": src}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_handler_exception(lam):
    name = unique("raise")
    src = ("class MyError(Exception):\n    pass\n"
           "def handler(event, context):\n    raise MyError('boom: ' + event['why'])\n")
    create(lam, name, src)
    resp, out = invoke(lam, name, {"why": "testing"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert resp["ExecutedVersion"] == "$LATEST"
    assert out["errorMessage"] == "boom: testing"
    assert out["errorType"] == "MyError"
    assert str(uuid.UUID(out["requestId"])) == out["requestId"]
    assert isinstance(out["stackTrace"], list) and out["stackTrace"]
    assert any("raise MyError" in line for line in out["stackTrace"]), out["stackTrace"]
    # the environment stays usable (the exception does not kill it)
    resp2, out2 = invoke(lam, name, {"why": "again"})
    assert out2["errorMessage"] == "boom: again" and out2["requestId"] != out["requestId"]


@pytest.mark.parametrize(
    "files,handler,error_type,message",
    [
        ({"fn.py": "import no_such_module_xyz\ndef handler(e, c):\n    return 1\n"}, "fn.handler",
         "Runtime.ImportModuleError", "Unable to import module 'fn': No module named 'no_such_module_xyz'"),
        ({"fn.py": "def other(e, c):\n    return 1\n"}, "fn.handler",
         "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'fn'"),
        ({"fn.py": "def handler(e, c)\n    return 1\n"}, "fn.handler",
         "Runtime.UserCodeSyntaxError", "Syntax error in module 'fn'"),
        ({"fn.py": "def handler(e, c):\n    return 1\n"}, "missing.handler",
         "Runtime.ImportModuleError", "Unable to import module 'missing'"),
    ],
    ids=["import-error", "handler-missing", "syntax-error", "module-missing"],
)
def test_init_errors_then_fix(lam, files, handler, error_type, message):
    name = unique("init")
    create(lam, name, files, handler=handler)
    resp, out = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == error_type, out
    assert out["errorMessage"].startswith(message), out
    # the runtime's /init/error body (awslambdaric sends requestId "" at init; a platform may fill it in)
    assert out["requestId"] == "" or str(uuid.UUID(out["requestId"])) == out["requestId"], out
    assert isinstance(out.get("stackTrace", []), list)
    # it fails the same way again (each invocation retries init)
    _, again = invoke(lam, name, {})
    assert again["errorType"] == error_type and again["errorMessage"] == out["errorMessage"]
    # fixing the code makes the next invocation succeed
    fixed = "def handler(e, c):\n    return {'fixed': True}\n"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({handler.split(".")[0] + ".py": fixed}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    resp, out = invoke(lam, name, {})
    assert "FunctionError" not in resp
    assert out == {"fixed": True}


@pytest.mark.parametrize("how", ["sys.exit(3)", "os._exit(3)"])
def test_exit_in_handler(lam, how):
    name = unique("exit")
    src = ("import os, sys\nCOUNT = 0\n"
           "def handler(event, context):\n"
           "    global COUNT\n    COUNT += 1\n"
           f"    if event.get('exit'):\n        {how}\n"
           "    return {'count': COUNT, 'env': context.log_stream_name}\n")
    create(lam, name, src)
    _, warm = invoke(lam, name, {})
    assert warm["count"] == 1
    resp, out = invoke(lam, name, {"exit": True})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError", out
    assert out["errorMessage"].endswith("Runtime exited with error: exit status 3"), out
    assert out["errorMessage"].startswith("RequestId: "), out
    # the next invocation runs in a new environment
    resp, out = invoke(lam, name, {})
    assert "FunctionError" not in resp
    assert out["count"] == 1 and out["env"] != warm["env"]


def test_timeout(lam):
    name = unique("timeout")
    create(lam, name, COUNTER_FN, Timeout=1)
    _, first = invoke(lam, name, {"sleep": 0})
    assert first["count"] == 1
    t0 = time.monotonic()
    resp, out = invoke(lam, name, {"sleep": 5})
    elapsed = time.monotonic() - t0
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Sandbox.Timedout", out
    assert out["errorMessage"].endswith("Task timed out after 1.00 seconds"), out
    assert elapsed < 3.0, elapsed
    # a fresh environment serves the next invocation
    resp, out = invoke(lam, name, {"sleep": 0.1})
    assert "FunctionError" not in resp
    assert out["count"] == 1
    assert out["stream"] != first["stream"]


def test_timeout_tail_log(lam):
    name = unique("timeout-log")
    create(lam, name, "import time\ndef handler(e, c):\n    print('going to sleep')\n    time.sleep(5)\n", Timeout=1)

    resp, out = invoke(lam, name, {}, LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "going to sleep" in log
    assert "Task timed out after 1.00 seconds" in log
    assert "Status: timeout" in log
