"""Invoke: payloads, the context object, the environment, warm state, runtimes, size limits."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import create, invoke, make_zip, request_id_of, unique

LOG_STREAM = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
SIX_MB = 6 * 1024 * 1024

CONTEXT_FN = """
import os, sys, time
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    cc = context.client_context
    return {
        "event": event,
        "count": COUNT,
        "pid": os.getpid(),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "client_context": None if cc is None else {"custom": cc.custom, "env": cc.env},
        "python": list(sys.version_info[:2]),
    }
"""

ENV_FN = """
import os
AT_INIT = {"trace": os.environ.get("_X_AMZN_TRACE_ID")}
def handler(event, context):
    return {"env": dict(os.environ), "cwd": os.getcwd(), "at_init": AT_INIT}
"""


@pytest.fixture(scope="module")
def ctx_fn(lam):
    name = unique("ctx")
    create(lam, name, CONTEXT_FN, Timeout=5)
    return name


@pytest.mark.smoke  # CI runs it under every supported Python
def test_event_in_result_out(lam, ctx_fn):
    event = {"string": "héllo ✓", "n": 42, "f": 1.5, "list": [1, None, True], "nested": {"a": {"b": []}}}
    resp, out = invoke(lam, ctx_fn, event)
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp
    assert out["event"] == event
    # non-object events reach the handler as they are
    for value in ([1, 2, 3], "just a string", 7, None):
        _, out = invoke(lam, ctx_fn, None, Payload=json.dumps(value).encode())
        assert out["event"] == value


def test_context_fields(lam, lamb_server, ctx_fn):
    resp1, a = invoke(lam, ctx_fn, {"n": 1})
    resp2, b = invoke(lam, ctx_fn, {"n": 2})
    for out in (a, b):
        assert out["function_name"] == ctx_fn
        assert out["function_version"] == "$LATEST"
        assert out["invoked_function_arn"] == lamb_server.arn(ctx_fn)
        assert out["memory_limit_in_mb"] == "128"
        assert str(uuid.UUID(out["aws_request_id"])) == out["aws_request_id"]
        assert out["log_group_name"] == f"/aws/lambda/{ctx_fn}"
        assert LOG_STREAM.match(out["log_stream_name"]), out["log_stream_name"]
        assert 0 < out["remaining"] <= 5000
        assert out["client_context"] is None
    assert a["aws_request_id"] != b["aws_request_id"]
    # qualified invocations report the qualified ARN
    _, q = invoke(lam, ctx_fn, {}, Qualifier="$LATEST")
    assert q["invoked_function_arn"] == lamb_server.arn(ctx_fn, "$LATEST")
    _, q = invoke(lam, f"{ctx_fn}:$LATEST", {})
    assert q["invoked_function_arn"] == lamb_server.arn(ctx_fn, "$LATEST")
    _, q = invoke(lam, lamb_server.arn(ctx_fn), {})
    assert q["invoked_function_arn"] == lamb_server.arn(ctx_fn)


def test_client_context(lam, ctx_fn):
    cc = {"custom": {"user": "alice", "n": 1}, "env": {"platform": "test"}, "client": {"app_title": "t"}}
    encoded = base64.b64encode(json.dumps(cc).encode()).decode()
    _, out = invoke(lam, ctx_fn, {}, ClientContext=encoded)
    assert out["client_context"] == {"custom": {"user": "alice", "n": 1}, "env": {"platform": "test"}}


def test_warm_state_and_new_environment_after_update(lam, ctx_fn):
    name = unique("warm")
    create(lam, name, CONTEXT_FN)
    outs = [invoke(lam, name, {})[1] for _ in range(4)]
    assert [o["count"] for o in outs] == [1, 2, 3, 4]
    assert len({o["log_stream_name"] for o in outs}) == 1
    # a configuration change retires the environment: the next one starts from scratch
    lam.update_function_configuration(FunctionName=name, Description="changed")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    after = invoke(lam, name, {})[1]
    assert after["count"] == 1
    assert after["log_stream_name"] != outs[0]["log_stream_name"]


def test_standard_environment_variables(lam, lamb_server):
    name = unique("env")
    create(lam, name, ENV_FN, Environment={"Variables": {"MY_VAR": "mine"}})
    resp, out = invoke(lam, name, {})
    env = out["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert LOG_STREAM.match(env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert re.match(r"^127\.0\.0\.1:\d+$", env["AWS_LAMBDA_RUNTIME_API"]), env["AWS_LAMBDA_RUNTIME_API"]
    assert env["AWS_LAMBDA_RUNTIME_API"] != f"127.0.0.1:{lamb_server.port}"
    assert env["LAMBDA_TASK_ROOT"] == out["cwd"]
    assert env["LAMBDA_RUNTIME_DIR"]
    assert env["_HANDLER"] == "fn.handler"
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    assert env["MY_VAR"] == "mine"
    # the trace id is set during an invocation (not at init)
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-"), env["_X_AMZN_TRACE_ID"]
    assert out["at_init"]["trace"] is None
    _, again = invoke(lam, name, {})
    assert again["env"]["_X_AMZN_TRACE_ID"] != env["_X_AMZN_TRACE_ID"]


@pytest.mark.parametrize("runtime,version", [("python3.11", [3, 11]), ("python3.12", [3, 12])])
def test_python_runtimes(lam, runtime, version):
    name = unique(runtime.replace(".", ""))
    src = "import os, sys\ndef handler(e, c):\n    return [list(sys.version_info[:2]), os.environ['AWS_EXECUTION_ENV']]\n"
    created = create(lam, name, src, runtime=runtime)
    assert created["Runtime"] == runtime
    resp, out = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert out == [version, f"AWS_Lambda_{runtime}"]


def test_awslambdaric_is_the_runtime(lam):
    name = unique("ric")
    src = """
import inspect, os, sys
def handler(event, context):
    ric = sys.modules.get("awslambdaric")
    frames = [f.filename for f in inspect.stack()]
    return {
        "loaded": ric is not None,
        "file": getattr(ric, "__file__", None),
        "version": getattr(ric, "__version__", None),
        "bootstrap_in_stack": any(f.replace(os.sep, "/").endswith("awslambdaric/bootstrap.py") for f in frames),
        "runtime_dir": os.environ["LAMBDA_RUNTIME_DIR"],
        "context_class": type(context).__module__ + "." + type(context).__name__,
    }
"""
    create(lam, name, src)
    _, out = invoke(lam, name, {})
    assert out["loaded"] is True
    assert out["file"].endswith("/awslambdaric/__init__.py"), out
    assert re.match(r"^\d+\.\d+\.\d+", out["version"]), out
    assert out["bootstrap_in_stack"] is True
    assert out["context_class"] == "awslambdaric.lambda_context.LambdaContext"


def test_dry_run_executes_nothing(lam, lamb_server):
    name = unique("dry")
    create(lam, name, CONTEXT_FN)
    resp = lam.invoke(FunctionName=name, InvocationType="DryRun", Payload=b'{"x": 1}')
    assert resp["StatusCode"] == 204
    assert resp["Payload"].read() == b""
    assert "FunctionError" not in resp
    assert lamb_server.get_json(f"/_lamb/logs?group=/aws/lambda/{name}")["streams"] == []
    # the first real invocation is the first execution
    _, out = invoke(lam, name, {})
    assert out["count"] == 1
    # DryRun of a missing function is still not found
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=name + "-missing", InvocationType="DryRun")


def test_invalid_json_payload(lam, ctx_fn):
    for bad in (b"{bad", b'{"a": ', b"\xff\xfe", b"undefined"):
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=ctx_fn, Payload=bad)
        err = e.value.response
        assert err["Error"]["Code"] == "InvalidRequestContentException", bad
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err["Error"]["Message"].startswith("Could not parse request body into json"), err["Error"]["Message"]


def test_empty_payload_is_empty_object(lam, ctx_fn):
    resp, out = invoke(lam, ctx_fn, None)
    assert resp["StatusCode"] == 200 and out["event"] == {}
    resp, out = invoke(lam, ctx_fn, None, Payload=b"")
    assert out["event"] == {}


def test_request_payload_too_large(lam, ctx_fn):
    payload = b'"' + b"a" * (SIX_MB - 1) + b'"'  # valid JSON, 6 MB + 1 byte
    assert len(payload) == SIX_MB + 1
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=ctx_fn, Payload=payload)
    err = e.value.response
    assert err["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert err["Error"]["Message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    # exactly 6 MB is accepted (the handler returns only the length)
    name = unique("big")
    create(lam, name, "def handler(e, c):\n    return len(e)\n")
    ok = b'"' + b"a" * (SIX_MB - 2) + b'"'
    resp, out = invoke(lam, name, None, Payload=ok)
    assert resp["StatusCode"] == 200 and out == SIX_MB - 2


def test_response_too_large(lam):
    name = unique("bigresp")
    create(lam, name, "def handler(e, c):\n    return 'x' * (6 * 1024 * 1024 + 100)\n")
    resp, out = invoke(lam, name, {})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Function.ResponseSizeTooLarge"
    # AWS's exact text (its limit counts 6 MB plus 100 bytes)
    assert out["errorMessage"] == "Response payload size exceeded maximum allowed payload size (6291556 bytes).", out
    # the environment survives: the next (small) response is fine
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": "def handler(e, c):\n    return 'small'\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    resp, out = invoke(lam, name, {})
    assert "FunctionError" not in resp and out == "small"


def test_request_ids_differ(lam, ctx_fn):
    ids = set()
    for _ in range(3):
        resp, out = invoke(lam, ctx_fn, {})
        ids.add(out["aws_request_id"])
        assert request_id_of(resp)
    assert len(ids) == 3


@pytest.mark.parametrize("sandbox", ["linux", "process"])
def test_runtime_module_paths_exist_in_environment(sandbox_server, sandbox):
    server = sandbox_server(sandbox)
    lam = server.client()
    name = unique("ricpath")
    src = """
import inspect, os
def handler(event, context):
    import awslambdaric, awslambdaric.bootstrap, boto3
    return {m.__name__: [m.__file__, os.path.exists(m.__file__)] for m in (awslambdaric, awslambdaric.bootstrap, boto3)} | {
        "runtime_dir": os.environ["LAMBDA_RUNTIME_DIR"], "source": len(inspect.getsource(awslambdaric.bootstrap))}
"""
    create(lam, name, src)
    _, out = invoke(lam, name, {})
    runtime_dir = out.pop("runtime_dir")
    assert out.pop("source") > 0
    for module, (path, exists) in out.items():
        assert exists, (module, path)
        assert path.startswith(runtime_dir + "/"), (module, path, runtime_dir)


def test_return_values(lam):
    name = unique("ret")
    src = ("import decimal\n"
           "def handler(event, context):\n"
           "    kind = event['kind']\n"
           "    if kind == 'none':\n        return None\n"
           "    if kind == 'set':\n        return {1, 2}\n"
           "    if kind == 'decimal':\n        return {'d': decimal.Decimal('1.5')}\n"
           "    return 'ok'\n")
    create(lam, name, src)
    resp, _ = invoke(lam, name, {"kind": "none"})
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert resp["RawPayload"] == b"null"
    resp, out = invoke(lam, name, {"kind": "set"})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.MarshalError"
    assert out["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"
    # awslambdaric serializes Decimal (as AWS's Python runtime does)
    _, out = invoke(lam, name, {"kind": "decimal"})
    assert out == {"d": 1.5}


def test_handler_in_package(lam):
    name = unique("pkg")
    files = {"pkg/__init__.py": "", "pkg/sub/__init__.py": "",
             "pkg/sub/mod.py": "from . import helper\ndef entry(e, c):\n    return helper.VALUE\n",
             "pkg/sub/helper.py": "VALUE = 'deep'\n"}
    create(lam, name, files, handler="pkg.sub.mod.entry")
    assert invoke(lam, name, {})[1] == "deep"
    name2 = unique("pkgslash")
    create(lam, name2, files, handler="pkg/sub/mod.entry")
    assert invoke(lam, name2, {})[1] == "deep"


def test_update_while_invocation_in_flight(lam, lamb_server):
    """The running invocation finishes with the old code; new invocations get the new code at once."""
    import threading

    name = unique("inflight")
    create(lam, name, "import time\ndef handler(e, c):\n    time.sleep(e.get('sleep', 0))\n    return 'old'\n",
           Timeout=10)
    slow_client = lamb_server.client()
    result = {}
    t = threading.Thread(target=lambda: result.update(out=invoke(slow_client, name, {"sleep": 2})[1]))
    t.start()
    from .conftest import wait_for

    wait_for(lambda: any(e.get("function") == name and e.get("state") == "busy"
                         for e in lamb_server.get_json("/_lamb/environments")), 5, what="the slow invocation to run")
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"fn.py": "def handler(e, c):\n    return 'new'\n"}))
    t0 = time.monotonic()
    assert invoke(lam, name, {})[1] == "new"
    assert time.monotonic() - t0 < 1.5  # did not wait for the old invocation
    t.join(10)
    assert result["out"] == "old"
    assert invoke(lam, name, {})[1] == "new"


def test_request_id_header_is_the_invocation_request_id(lam):
    """AWS answers Invoke with x-amzn-RequestId equal to the request id the function sees."""
    name = unique("rid")
    create(lam, name, "def handler(e, c):\n    return c.aws_request_id\n")
    resp, out = invoke(lam, name, {})
    assert out == resp["ResponseMetadata"]["RequestId"]
