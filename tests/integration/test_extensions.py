"""The Extensions API and the Telemetry API with real extensions in layers (issue 15).

An external extension is an executable in a layer's ``extensions/`` folder (``/opt/extensions``
in the environment). These run in the environment beside the runtime and speak the APIs over
plain HTTP with the standard library, as AWS's sample extensions do.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from .conftest import SANDBOXES, create, invoke, make_zip, start_sandboxed, unique, wait_for

PROBE_EXTENSION = r'''#!/usr/bin/env python3
"""Registers for INVOKE and SHUTDOWN; after each INVOKE waits for the test's gate, then
writes a file (post-runtime work), prints what it saw, and only then asks for the next event."""
import json, os, sys, time, urllib.request

base = "http://%s/2020-01-01/extension" % os.environ["AWS_LAMBDA_RUNTIME_API"]
tmp = os.environ.get("TMPDIR", "/tmp")
name = os.path.basename(__file__)
req = urllib.request.Request(base + "/register", method="POST", data=json.dumps({"events": ["INVOKE", "SHUTDOWN"]}).encode(),
                             headers={"Lambda-Extension-Name": name, "Lambda-Extension-Accept-Feature": "accountId"})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
    print("EXT registered " + r.read().decode(), flush=True)
open(os.path.join(tmp, "ext-registered"), "w").close()
while True:
    req = urllib.request.Request(base + "/event/next", headers={"Lambda-Extension-Identifier": ext_id})
    with urllib.request.urlopen(req) as r:
        event = json.load(r)
    print("EXT event " + json.dumps(event), flush=True)
    if event["eventType"] == "SHUTDOWN":
        sys.exit(0)
    rid = event["requestId"]
    while True:  # post-runtime work: hold the invoke until the test opens the gate for this request
        try:
            urllib.request.urlopen(os.environ["GATE_URL"] + rid).read()
            break
        except Exception:
            time.sleep(0.01)
    with open(os.path.join(tmp, "ext-" + rid), "w") as f:
        f.write("post-invoke work for " + rid)
    print("EXT finished " + rid, flush=True)
'''

PROBE_FUNCTION = '''
import os

def handler(event, context):
    tmp = os.environ.get("TMPDIR", "/tmp")
    prev = event.get("prev")
    seen = open(os.path.join(tmp, "ext-" + prev)).read() if prev else None
    registered = os.path.exists(os.path.join(tmp, "ext-registered"))
    return {"id": context.aws_request_id, "seen": seen, "registered": registered}
'''

TELEMETRY_EXTENSION = r'''#!/usr/bin/env python3
"""A Telemetry API subscriber listening on sandbox.localdomain, printing the platform events it receives."""
import json, os, threading, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

port = int(os.environ["TELEMETRY_PORT"])

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        for event in batch:
            if event["type"].startswith("platform."):
                print("TEL " + json.dumps(event), flush=True)
            elif event["type"] == "function" and event["record"] == "hello from the handler":
                print("TEL-FUNCTION " + json.dumps(event), flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass

server = HTTPServer(("sandbox.localdomain", port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
req = urllib.request.Request("http://%s/2020-01-01/extension/register" % api, method="POST",
                             data=json.dumps({"events": ["INVOKE"]}).encode(),
                             headers={"Lambda-Extension-Name": os.path.basename(__file__)})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
sub = {"schemaVersion": "2022-12-13", "types": ["platform", "function"],
       "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
       "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:%d" % port}}
req = urllib.request.Request("http://%s/2022-07-01/telemetry" % api, method="PUT", data=json.dumps(sub).encode(),
                             headers={"Lambda-Extension-Identifier": ext_id})
with urllib.request.urlopen(req) as r:
    print("TEL subscribed %d" % r.status, flush=True)
while True:
    req = urllib.request.Request("http://%s/2020-01-01/extension/event/next" % api,
                                 headers={"Lambda-Extension-Identifier": ext_id})
    with urllib.request.urlopen(req) as r:
        r.read()
'''


def layer_with_extension(lam, name: str, source: str) -> str:
    path = f"extensions/{name}"
    zipped = make_zip({path: source}, {path: 0o755})
    return lam.publish_layer_version(LayerName=unique("ext"), Content={"ZipFile": zipped})["LayerVersionArn"]


def log_messages(server, group: str) -> list[str]:
    out: list[str] = []
    for stream in server.get_json(f"/_lamb/logs?group={quote(group, safe='')}")["streams"]:
        events = server.get_json(f"/_lamb/logs?group={quote(group, safe='')}&stream={quote(stream, safe='')}")["events"]
        out.extend(m for _, m in events)
    return out


@pytest.fixture
def server_for(fresh_server):
    """A server of its own per sandbox backend (idle environments are not frozen, so an
    extension's listener answers between invocations)."""
    return lambda sandbox: start_sandboxed(lambda **kw: fresh_server(env={"LAMB_FREEZE_AFTER_S": "-1"}, **kw), sandbox)


class Gate:
    """An HTTP server on the host's loopback: ``/go/<request id>`` answers 200 once opened for that id."""

    def __init__(self):
        opened: set[str] = set()
        self.opened = opened

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                ok = self.path.rsplit("/", 1)[-1] in opened
                self.send_response(200 if ok else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_external_extension_sees_invoke_and_shutdown_and_holds_the_invoke(server_for, sandbox):
    server = server_for(sandbox)
    gate = Gate()
    try:
        run_probe(server, gate)
    finally:
        gate.close()


def run_probe(server, gate: Gate) -> None:
    lam = server.client()
    name = unique("ext")
    layer = layer_with_extension(lam, "probe-ext", PROBE_EXTENSION)
    create(lam, name, {"fn.py": PROBE_FUNCTION}, Layers=[layer], Timeout=60,
           Environment={"Variables": {"GATE_URL": server.host_url(gate.port, "/go/")}})
    group = f"/aws/lambda/{name}"

    first, out1 = invoke(lam, name, {})
    assert "FunctionError" not in first, out1
    # Init waited for the extension to register (and call next) before the handler ran.
    assert out1["registered"] is True
    id1 = out1["id"]
    # The caller has its response, but the invoke phase goes on while the extension works:
    # the extension has its INVOKE event, and no END/REPORT is written yet.
    wait_for(lambda: any(m.startswith("EXT event ") and id1 in m for m in log_messages(server, group)), 30,
             what="the INVOKE event at the extension")
    assert f"END RequestId: {id1}" not in log_messages(server, group)
    gate.opened.add(id1)
    wait_for(lambda: f"END RequestId: {id1}" in log_messages(server, group), 30, what="the end of the invoke phase")
    messages = log_messages(server, group)
    assert messages.index(f"EXT finished {id1}") < messages.index(f"END RequestId: {id1}")
    # The environment went back to the pool only then: the next invocation is warm and sees the
    # extension's post-invoke work.
    second, out2 = invoke(lam, name, {"prev": id1})
    id2 = out2["id"]
    assert out2["seen"] == f"post-invoke work for {id1}"
    gate.opened.add(id2)
    wait_for(lambda: f"END RequestId: {id2}" in log_messages(server, group), 30, what="the second invoke phase")

    messages = log_messages(server, group)
    registered = json.loads(next(m for m in messages if m.startswith("EXT registered "))[len("EXT registered "):])
    assert registered == {"functionName": name, "functionVersion": "$LATEST", "handler": "fn.handler",
                          "accountId": server.account_id}
    invokes = [json.loads(m[len("EXT event "):]) for m in messages if m.startswith("EXT event ")]
    assert [e["requestId"] for e in invokes] == [id1, id2]
    for event in invokes:
        assert event["eventType"] == "INVOKE"
        assert event["invokedFunctionArn"] == server.arn(name)
        assert event["tracing"]["type"] == "X-Amzn-Trace-Id"
        assert isinstance(event["deadlineMs"], int)
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]  # one environment, reused

    # A configuration change retires the environment: Shutdown with reason spindown.
    lam.update_function_configuration(FunctionName=name, Description="retire the environment")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    shutdown = wait_for(lambda: [json.loads(m[len("EXT event "):]) for m in log_messages(server, group)
                                 if m.startswith("EXT event ") and "SHUTDOWN" in m], 30, what="the SHUTDOWN event")
    assert shutdown[0]["shutdownReason"] == "spindown"
    assert isinstance(shutdown[0]["deadlineMs"], int)


def test_telemetry_subscriber_receives_platform_report(server_for):
    server = server_for("linux")
    lam = server.client()
    name = unique("tel")
    layer = layer_with_extension(lam, "telemetry-ext", TELEMETRY_EXTENSION)
    port = 20000 + int(name[-4:], 16) % 20000
    create(lam, name, {"fn.py": "def handler(event, context):\n    print('hello from the handler')\n    return 'ok'\n"},
           Layers=[layer], MemorySize=256, Environment={"Variables": {"TELEMETRY_PORT": str(port)}})
    group = f"/aws/lambda/{name}"
    resp, out = invoke(lam, name, {})
    assert out == "ok"
    rid = resp["ResponseMetadata"]["RequestId"]

    def events() -> dict:
        found: dict = {}
        for m in log_messages(server, group):
            if m.startswith("TEL {"):
                e = json.loads(m[4:])
                found.setdefault(e["type"], []).append(e)
            elif m.startswith("TEL-FUNCTION "):
                found.setdefault("function", []).append(json.loads(m[len("TEL-FUNCTION "):]))
        return found if "platform.report" in found and "function" in found else {}

    seen = wait_for(events, 30, what="platform.report at the subscriber")
    for kind in ("platform.initStart", "platform.initRuntimeDone", "platform.initReport", "platform.start",
                 "platform.runtimeDone", "platform.report"):
        assert kind in seen, (kind, sorted(seen))
    report = seen["platform.report"][0]["record"]
    assert report["requestId"] == rid and report["status"] == "success"
    metrics = report["metrics"]
    assert metrics["memorySizeMB"] == 256
    assert metrics["billedDurationMs"] >= metrics["durationMs"] > 0
    assert metrics["maxMemoryUsedMB"] > 0
    assert metrics["initDurationMs"] > 0  # a cold start
    done = seen["platform.runtimeDone"][0]["record"]
    assert done["requestId"] == rid and done["status"] == "success"
    # The invoke phase (report) covers the runtime's part (runtimeDone) and the extensions' after it.
    assert metrics["durationMs"] >= done["metrics"]["durationMs"]
    assert seen["platform.start"][0]["record"]["requestId"] == rid
    assert seen["platform.initStart"][0]["record"]["phase"] == "init"
    assert seen["platform.extension"][0]["record"] == {"name": "telemetry-ext", "state": "Ready", "events": ["INVOKE"]}
    assert seen["function"][0]["record"] == "hello from the handler"
    # REPORT in the log stream says the same as platform.report.
    line = next(m for m in log_messages(server, group) if m.startswith(f"REPORT RequestId: {rid}"))
    assert f"Billed Duration: {metrics['billedDurationMs']} ms" in line


INTERNAL_FUNCTION = '''
import json, os, threading, urllib.request

SEEN = []
API = os.environ["AWS_LAMBDA_RUNTIME_API"]

def _register():
    req = urllib.request.Request("http://%s/2020-01-01/extension/register" % API, method="POST",
                                 data=json.dumps({"events": ["INVOKE"]}).encode(),
                                 headers={"Lambda-Extension-Name": "in-process"})
    with urllib.request.urlopen(req) as r:
        return r.headers["Lambda-Extension-Identifier"]

EXT_ID = _register()  # during Init, from the runtime process: an internal extension

def _loop():
    while True:
        req = urllib.request.Request("http://%s/2020-01-01/extension/event/next" % API,
                                     headers={"Lambda-Extension-Identifier": EXT_ID})
        with urllib.request.urlopen(req) as r:
            SEEN.append(json.load(r)["requestId"])

threading.Thread(target=_loop, daemon=True).start()

def handler(event, context):
    return {"id": context.aws_request_id, "seen": list(SEEN), "wrapped": os.environ.get("WRAPPED")}
'''

WRAPPER = '#!/bin/sh\nexport WRAPPED="yes: $1"\nexec "$@"\n'


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_internal_extension_through_the_exec_wrapper(server_for, sandbox):
    server = server_for(sandbox)
    lam = server.client()
    name = unique("int")
    layer = lam.publish_layer_version(LayerName=unique("wrap"), Content={"ZipFile": make_zip({"wrapper": WRAPPER},
                                                                                             {"wrapper": 0o755})})
    create(lam, name, {"fn.py": INTERNAL_FUNCTION}, Layers=[layer["LayerVersionArn"]],
           Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrapper"}})
    group = f"/aws/lambda/{name}"
    resp, out1 = invoke(lam, name, {})
    assert "FunctionError" not in resp, out1
    assert out1["wrapped"].startswith("yes: ")  # the wrapper ran, with the runtime's command line as arguments
    wait_for(lambda: f"END RequestId: {out1['id']}" in log_messages(server, group), 30, what="the first invoke phase")
    _, out2 = invoke(lam, name, {})
    # The internal extension had the first INVOKE event before that invoke phase ended.
    assert out1["id"] in out2["seen"]


FAILING_EXTENSION = r'''#!/usr/bin/env python3
import json, os, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
req = urllib.request.Request("http://%s/2020-01-01/extension/register" % api, method="POST",
                             data=b'{"events": ["INVOKE"]}', headers={"Lambda-Extension-Name": os.path.basename(__file__)})
with urllib.request.urlopen(req) as r:
    ident = r.headers["Lambda-Extension-Identifier"]
req = urllib.request.Request("http://%s/2020-01-01/extension/init/error" % api, method="POST", data=b'{}',
                             headers={"Lambda-Extension-Identifier": ident,
                                      "Lambda-Extension-Function-Error-Type": "Extension.ConfigInvalid"})
urllib.request.urlopen(req).read()
'''


def test_extension_init_error_fails_the_invocation(server_for):
    server = server_for("linux")
    lam = server.client()
    name = unique("bad")
    create(lam, name, "def handler(event, context):\n    return 'never'\n",
           Layers=[layer_with_extension(lam, "bad-ext", FAILING_EXTENSION)])
    resp, out = invoke(lam, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Extension.InitError"
    assert "bad-ext" in out["errorMessage"] and "Extension.ConfigInvalid" in out["errorMessage"]
    messages = log_messages(server, f"/aws/lambda/{name}")
    assert any(m.startswith("INIT_REPORT") and "Error Type: Extension.InitError" in m for m in messages)


CRASHING_EXTENSION = r'''#!/usr/bin/env python3
"""Registers for INVOKE, and dies (exit 3, no exit/error) on its first INVOKE event."""
import json, os, sys, urllib.request

base = "http://%s/2020-01-01/extension" % os.environ["AWS_LAMBDA_RUNTIME_API"]
req = urllib.request.Request(base + "/register", method="POST", data=json.dumps({"events": ["INVOKE"]}).encode(),
                             headers={"Lambda-Extension-Name": os.path.basename(__file__)})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
if os.environ.get("CRASH_AT") == "init":
    sys.exit(3)
req = urllib.request.Request(base + "/event/next", headers={"Lambda-Extension-Identifier": ext_id})
with urllib.request.urlopen(req) as r:
    json.load(r)
os._exit(3)
'''


@pytest.mark.parametrize("sandbox", SANDBOXES)
@pytest.mark.parametrize("phase", ["init", "invoke"])
def test_an_extension_that_dies_is_extension_crash(server_for, sandbox, phase):
    server = server_for(sandbox)
    lam = server.client()
    name = unique("crash")
    # the handler is still at work when the extension dies during its INVOKE
    create(lam, name, "import time\ndef handler(event, context):\n    time.sleep(50)\n", Timeout=60,
           Layers=[layer_with_extension(lam, "crasher", CRASHING_EXTENSION)],
           Environment={"Variables": {"CRASH_AT": phase}})
    resp, out = invoke(lam, name, {})  # without crash detection this waits for the 60 s timeout
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Extension.Crash" and "crasher" in out["errorMessage"]
    messages = log_messages(server, f"/aws/lambda/{name}")
    assert any(m.startswith("EXTENSION") and "State: Crash" in m for m in messages)
    if phase == "init":
        assert any(m.startswith("INIT_REPORT") and "Error Type: Extension.Crash" in m for m in messages)
    # the environment was reset: the next invocation starts a new one (and fails the same way)
    _, again = invoke(lam, name, {})
    assert again["errorType"] == "Extension.Crash"
