"""The Shutdown phase with an external extension, in AWS's order (issue 15).

AWS (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, Shutdown
phase; aws-samples/graceful-shutdown-with-aws-lambda): the runtime gets SIGTERM first and up to
300 ms to end; then each external extension registered for it gets the SHUTDOWN event
(``shutdownReason``, ``deadlineMs``); whatever still runs at 2,000 ms is killed.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest

from .conftest import SANDBOXES, create, invoke, make_zip, start_sandboxed, unique, wait_for
from .test_extensions import log_messages

SHUTDOWN_EXTENSION = r'''#!/usr/bin/env python3
"""Registers for SHUTDOWN; on it prints the event and whether the runtime had its SIGTERM
(the handler's marker file), then exits, or (STUBBORN) never exits."""
import json, os, time, urllib.request

base = "http://%s/2020-01-01/extension" % os.environ["AWS_LAMBDA_RUNTIME_API"]
tmp = os.environ.get("TMPDIR", "/tmp")
req = urllib.request.Request(base + "/register", method="POST", data=json.dumps({"events": ["INVOKE", "SHUTDOWN"]}).encode(),
                             headers={"Lambda-Extension-Name": os.path.basename(__file__)})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
while True:
    req = urllib.request.Request(base + "/event/next", headers={"Lambda-Extension-Identifier": ext_id})
    with urllib.request.urlopen(req) as r:
        event = json.load(r)
    if event["eventType"] == "SHUTDOWN":
        termed = os.path.exists(os.path.join(tmp, "runtime-sigterm"))
        print("EXT shutdown %s runtime-termed=%s" % (json.dumps(event), termed), flush=True)
        if os.environ.get("STUBBORN"):
            while True:
                time.sleep(1)
        print("EXT shutdown done", flush=True)
        raise SystemExit(0)
'''

SIGTERM_FUNCTION = '''
import os, signal

def _term(signum, frame):
    open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "runtime-sigterm"), "w").close()
    print("RUNTIME SIGTERM", flush=True)
    os._exit(0)

signal.signal(signal.SIGTERM, _term)

def handler(event, context):
    return {"id": context.aws_request_id}
'''


@pytest.fixture
def server_for(fresh_server):
    """The runtime's share of the Shutdown phase raised from 300 ms to 1,500 ms, so that on a
    loaded machine the order does not depend on how fast the runtime's handler runs."""
    env = {"LAMB_FREEZE_AFTER_S": "-1", "LAMB_LIMIT_RUNTIME_SHUTDOWN_SHARE_MS": "1500"}
    return lambda sandbox: start_sandboxed(lambda **kw: fresh_server(env=env, **kw), sandbox)


def processes_named(fragment: str) -> list[int]:
    """Host pids whose command line contains ``fragment``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if fragment in cmdline:
            out.append(int(entry))
    return out


def deploy(server, stubborn: bool) -> tuple[str, str, str]:
    lam = server.client()
    ext_name = f"shutdown-{uuid.uuid4().hex[:10]}"
    path = f"extensions/{ext_name}"
    layer = lam.publish_layer_version(LayerName=unique("ext"), Content={"ZipFile": make_zip({path: SHUTDOWN_EXTENSION},
                                                                                            {path: 0o755})})
    name = unique("shut")
    variables = {"STUBBORN": "1"} if stubborn else {}
    create(lam, name, {"fn.py": SIGTERM_FUNCTION}, Layers=[layer["LayerVersionArn"]], Timeout=30,
           Environment={"Variables": variables})
    resp, out = invoke(lam, name, {})
    assert "FunctionError" not in resp, out
    group = f"/aws/lambda/{name}"
    wait_for(lambda: f"END RequestId: {out['id']}" in log_messages(server, group), 30, what="the invoke phase's end")
    assert processes_named(f"/extensions/{ext_name}"), "the extension runs beside the runtime"
    return name, group, ext_name


def shutdown_lines(server, group: str) -> list[str]:
    return [m for m in log_messages(server, group) if m.startswith("EXT shutdown {")]


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_runtime_gets_sigterm_then_the_extension_gets_shutdown(server_for, sandbox):
    server = server_for(sandbox)
    name, group, ext_name = deploy(server, stubborn=False)
    server.client().delete_function(FunctionName=name)  # the environment is shut down: spindown

    lines = wait_for(lambda: shutdown_lines(server, group), 30, what="the SHUTDOWN event at the extension")
    event = json.loads(lines[0][len("EXT shutdown "):].rsplit(" runtime-termed=", 1)[0])
    assert event["eventType"] == "SHUTDOWN"
    assert event["shutdownReason"] == "spindown"
    assert isinstance(event["deadlineMs"], int)
    # The runtime had its SIGTERM (and ended) before the extension had its event.
    assert lines[0].endswith("runtime-termed=True"), lines[0]
    messages = wait_for(lambda: (lambda m: m if "EXT shutdown done" in m else None)(log_messages(server, group)), 30,
                        what="the extension's last line")
    assert messages.index("RUNTIME SIGTERM") < messages.index(lines[0]) < messages.index("EXT shutdown done")
    wait_for(lambda: not processes_named(f"/extensions/{ext_name}"), 30, what="the extension's end")


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_an_extension_that_never_exits_is_killed_at_the_deadline(server_for, sandbox):
    server = server_for(sandbox)
    name, group, ext_name = deploy(server, stubborn=True)
    server.client().delete_function(FunctionName=name)

    lines = wait_for(lambda: shutdown_lines(server, group), 30, what="the SHUTDOWN event at the extension")
    event = json.loads(lines[0][len("EXT shutdown "):].rsplit(" runtime-termed=", 1)[0])
    assert event["shutdownReason"] == "spindown"
    # The extension ignores it; the Shutdown phase ends at its deadline with a SIGKILL for what is left.
    wait_for(lambda: not processes_named(f"/extensions/{ext_name}"), 30, what="the stubborn extension's end")
    assert time.time() * 1000 >= event["deadlineMs"] - 50  # not before its deadline (clocks of one host)
    assert "EXT shutdown done" not in log_messages(server, group)


TELEMETRY_SHUTDOWN_EXTENSION = r'''#!/usr/bin/env python3
"""A Telemetry API subscriber with a 30 s buffer: the function's lines reach it only when Lamb
flushes the buffer, which it does before SHUTDOWN."""
import json, os, threading, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

port = int(os.environ["TELEMETRY_PORT"])

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        for event in batch:
            if event["type"] == "function" and "MARKER" in str(event["record"]):
                print("TEL-BATCH " + str(event["record"]).strip(), flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass

server = HTTPServer(("sandbox.localdomain", port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
req = urllib.request.Request("http://%s/2020-01-01/extension/register" % api, method="POST",
                             data=json.dumps({"events": ["SHUTDOWN"]}).encode(),
                             headers={"Lambda-Extension-Name": os.path.basename(__file__)})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
sub = {"schemaVersion": "2022-12-13", "types": ["function"],
       "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 30000},
       "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:%d" % port}}
req = urllib.request.Request("http://%s/2022-07-01/telemetry" % api, method="PUT", data=json.dumps(sub).encode(),
                             headers={"Lambda-Extension-Identifier": ext_id})
urllib.request.urlopen(req).read()
req = urllib.request.Request("http://%s/2020-01-01/extension/event/next" % api,
                             headers={"Lambda-Extension-Identifier": ext_id})
with urllib.request.urlopen(req) as r:
    print("TEL-SHUTDOWN " + r.read().decode(), flush=True)
threading.Event().wait(1.0)  # the flushed batch may still be on its way
'''

MARKER_FUNCTION = '''
def handler(event, context):
    print("MARKER " + context.aws_request_id)
    return {"id": context.aws_request_id}
'''


def test_buffered_telemetry_is_flushed_before_shutdown(server_for):
    server = server_for("linux")
    lam = server.client()
    path = f"extensions/tel-{uuid.uuid4().hex[:10]}"
    layer = lam.publish_layer_version(LayerName=unique("ext"), Content={"ZipFile": make_zip(
        {path: TELEMETRY_SHUTDOWN_EXTENSION}, {path: 0o755})})
    name = unique("telshut")
    create(lam, name, {"fn.py": MARKER_FUNCTION}, Layers=[layer["LayerVersionArn"]], Timeout=30,
           Environment={"Variables": {"TELEMETRY_PORT": "4321"}})
    resp, out = invoke(lam, name, {})
    assert "FunctionError" not in resp, out
    group = f"/aws/lambda/{name}"
    wait_for(lambda: f"END RequestId: {out['id']}" in log_messages(server, group), 30, what="the invoke phase's end")
    assert not [m for m in log_messages(server, group) if m.startswith("TEL-BATCH")]  # still in the 30 s buffer
    lam.delete_function(FunctionName=name)
    wait_for(lambda: f"TEL-BATCH MARKER {out['id']}" in log_messages(server, group), 30,
             what="the buffered function line at the subscriber")
    assert any(m.startswith("TEL-SHUTDOWN ") and '"spindown"' in m for m in log_messages(server, group))
