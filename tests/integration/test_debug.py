"""``lamb serve --debug NAME[:PORT]``: a debugger attaches to a function's environment (issue 16).

Python runs under debugpy (a real Debug Adapter Protocol exchange is made with it), Node.js
under ``--inspect`` (its inspector lists the target over HTTP). On the host's network the
environment listens on the announced port itself; with a network of its own Lamb forwards
the host's port to the environment's loopback.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .conftest import create, free_port, invoke, unique, wait_for

SLOW = "import time\n\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return {'slept': event.get('sleep', 0)}\n"
NODE = "exports.handler = async (event) => ({ node: process.version, argv: process.execArgv });\n"


def dap_initialize(port: int) -> dict:
    """Send DAP's ``initialize`` and return debugpy's response to it."""
    body = json.dumps({"seq": 1, "type": "request", "command": "initialize",
                       "arguments": {"clientID": "lamb-test", "adapterID": "debugpy"}}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, f"debugpy closed the connection: {buf!r}"
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = int(head.split(b":")[1])
            while len(buf) < length:
                buf += s.recv(65536)
            message, buf = json.loads(buf[:length]), buf[length:]
            if message.get("type") == "response" and message.get("command") == "initialize":
                return message


@pytest.mark.parametrize("network", ["host", "isolated"])
def test_python_function_runs_under_debugpy(fresh_server, network):
    port = free_port()
    name = unique("dbg")
    server = fresh_server(extra_args=["--debug", f"{name}:{port}", "--network", network])
    assert f"debug: {name} runs under a debugger on 127.0.0.1:{port}" in server.log_tail()  # announced
    lam = server.client()
    create(lam, name, {"fn.py": SLOW}, Timeout=1)
    # No timeout while debugged: 2 s in a function whose Timeout is 1 s ends normally.
    resp, out = invoke(lam, name, {"sleep": 2})
    assert resp.get("FunctionError") is None and out == {"slept": 2}, out
    # debugpy listened before the handler ran (a probe connection would take debugpy's one client slot).
    answer = dap_initialize(port)
    assert answer["success"] is True and "supportsConfigurationDoneRequest" in answer["body"], answer

    # One environment at a time: a concurrent invocation is throttled as reserved concurrency 1 would be.
    results: list = []
    busy = threading.Thread(target=lambda: results.append(invoke(lam, name, {"sleep": 3})))
    busy.start()
    try:
        wait_for(lambda: any(e["function"] == name and e["state"] == "busy"
                             for e in server.get_json("/_lamb/environments")), 30, 0.05, "the first invocation to run")
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=name, Payload=b"{}")
        err = e.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("TooManyRequestsException", 429)
        assert err["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    finally:
        busy.join(60)
    assert results and results[0][1] == {"slept": 3}
    assert invoke(lam, name, {})[1] == {"slept": 0}  # and the same environment serves again


def test_other_functions_are_not_debugged(fresh_server):
    port = free_port()
    server = fresh_server(extra_args=["--debug", f"{unique('other')}:{port}"])
    lam = server.client()
    name = unique("plain")
    create(lam, name, {"fn.py": SLOW}, Timeout=1)
    resp, out = invoke(lam, name, {"sleep": 2})
    assert resp["FunctionError"] == "Unhandled" and out["errorType"] == "Sandbox.Timedout"
    # Not started under a debugger either (with isolation the announced port is Lamb's forwarder, so
    # the environment itself is asked).
    probe = unique("probe")
    create(lam, probe, {"fn.py": "import os\n\ndef handler(event, context):\n    return os.environ.get('LAMB_DEBUG_PORT')\n"})
    assert invoke(lam, probe, {})[1] is None


def test_node_function_runs_under_the_inspector(fresh_server):
    port = free_port()
    name = unique("dbgnode")
    server = fresh_server(extra_args=["--debug", f"{name}:{port}"])
    lam = server.client()
    create(lam, name, {"index.js": NODE}, handler="index.handler", runtime="nodejs20.x")
    out = invoke(lam, name, {})[1]
    assert out["argv"] == [f"--inspect=127.0.0.1:{port}"], out
    targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
    assert targets and targets[0]["webSocketDebuggerUrl"].startswith(f"ws://127.0.0.1:{port}/")
