"""The managed Python runtimes reach the Runtime API through Lamb's transport by default
(runtimes/lamb_runtime_client.py in place of awslambdaric's native ``runtime_client``), and through the
native module with ``LAMB_PYTHON_RUNTIME_CLIENT=native``; a function cannot tell them apart: the same
results, errors with their stack traces, context, client context, limits and timeouts either way."""

from __future__ import annotations


import pytest

from .conftest import create, descendants, invoke, unique
from .runtime_clients import context_round

HANDLER = """
import os, time

def handler(event, context):
    if event.get("fail"):
        raise ValueError("fail \\u00fc " + event["fail"])
    if event.get("big"):
        return "e" * event["big"]
    if event.get("sleep"):
        time.sleep(event["sleep"])
    cc = context.client_context
    return {"echo": event, "id": context.aws_request_id, "arn": context.invoked_function_arn,
            "left": context.get_remaining_time_in_millis(), "name": context.function_name,
            "cc": cc.custom if cc else None, "trace": os.environ.get("_X_AMZN_TRACE_ID")}
"""


def _loaded_native(server_pid: int) -> list[bool]:
    """For each Python runtime process under the server (the zygote and its forks, which map the runtime
    root's simplejson speedups): whether it loaded awslambdaric's native module."""
    out = []
    for pid in descendants(server_pid):
        try:
            with open(f"/proc/{pid}/maps") as f:
                maps = f.read()
        except OSError:
            continue
        if "simplejson/_speedups" in maps:
            out.append("runtime_client.cpython" in maps)
    return out


def _observe(client, name: str) -> dict:
    out = context_round(client, name)
    assert out["name"] == name
    resp, err = invoke(client, name, {"fail": "x"})
    assert resp["FunctionError"] == "Unhandled"
    big = 5_000_000  # 5 MB of JSON: under the 6 MB response limit (ASCII: awslambdaric 4.0 escapes the rest)
    resp, text = invoke(client, name, {"big": big})
    assert "FunctionError" not in resp and text == "e" * big, (name, str(text)[:300])
    resp, slow = invoke(client, name, {"sleep": 30})
    assert resp["FunctionError"] == "Unhandled", slow
    resp, after = invoke(client, name, {"a": 2})  # a new environment after the timeout
    assert "FunctionError" not in resp and after["echo"] == {"a": 2}
    resp, too_big = invoke(client, name, {"big": 6_300_000})
    assert resp["FunctionError"] == "Unhandled" and too_big["errorType"] == "Function.ResponseSizeTooLarge"
    err.pop("requestId", None)  # awslambdaric puts the invocation's id in its error
    return {"cc": out["cc"], "error": err, "too_big": too_big,
            "timeout": (slow["errorType"], slow["errorMessage"][slow["errorMessage"].find("Task"):])}


@pytest.mark.parametrize("runtime", ["python3.12", "python3.9"])
def test_lamb_transport_and_native_module_answer_alike(lamb_server, lam, fresh_server, runtime):
    native_server = fresh_server(env={"LAMB_PYTHON_RUNTIME_CLIENT": "native"})
    seen = {}
    for label, server, client in (("lamb", lamb_server, lam), ("native", native_server, native_server.client())):
        name = unique("pyric")
        create(client, name, HANDLER, runtime=runtime, Timeout=3)
        seen[label] = _observe(client, name)
        if label == "lamb":
            # The native module raises the Runtime API's 413 from its post and the runtime exits (the
            # invocation routed to it meanwhile gets Runtime.ExitError); Lamb's transport logs the 413
            # as aws-lambda-cpp does and the environment goes on.
            resp, again = invoke(client, name, {"a": 1})
            assert "FunctionError" not in resp and again["echo"] == {"a": 1}, again
        loaded = _loaded_native(server.pid)
        assert loaded, f"no Python runtime process under the {label} server"
        if label == "lamb":
            assert not any(loaded), loaded  # the native module is never loaded
        else:
            assert any(loaded), loaded
    assert seen["lamb"] == seen["native"], seen
    assert seen["lamb"]["cc"] == {"k": "v"}
    err = seen["lamb"]["error"]
    assert (err["errorType"], err["errorMessage"]) == ("ValueError", "fail ü x")
    assert any("/var/task/fn.py" in line or "fn.py" in line for line in err["stackTrace"]), err
    assert seen["lamb"]["timeout"][1] == "Task timed out after 3.00 seconds", seen
