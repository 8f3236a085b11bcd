"""Response streaming end to end (issue 14): InvokeWithResponseStream read with boto3 as the
chunks arrive, custom runtimes that stream through the Runtime API (a Python bootstrap with
http.client, a shell bootstrap with curl), errors in trailers, Node's streamifyResponse, and
function URLs in RESPONSE_STREAM mode read incrementally with http.client and curl.

"As they arrive" is shown with a handshake, never a clock: the function writes its first
chunk, then blocks on a TCP gate the test opens only after it has read that chunk."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import stat
import subprocess
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from .conftest import create, make_zip, unique

# Streams what the event asks: parts before the gate, waits on the gate, parts after,
# then ends well or with the error trailers.
PY_BOOTSTRAP = r'''#!/usr/bin/env python3
import base64, http.client, json, os, socket
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
while True:
    c = http.client.HTTPConnection(host, int(port))
    c.request("GET", "/2018-06-01/runtime/invocation/next")
    r = c.getresponse()
    event = json.loads(r.read())
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    if "rawPath" in event:  # a function URL's request: the instructions are its body
        body = event.get("body") or "{}"
        event = json.loads(base64.b64decode(body) if event.get("isBase64Encoded") else body)
    c.putrequest("POST", "/2018-06-01/runtime/invocation/%s/response" % rid)
    c.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    c.putheader("Transfer-Encoding", "chunked")
    c.putheader("Content-Type", event.get("contentType", "text/plain"))
    c.putheader("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
    c.endheaders()
    def chunk(b):
        c.send(b"%x\r\n%s\r\n" % (len(b), b))
    if event.get("prelude"):
        chunk(json.dumps(event["prelude"]).encode() + b"\0" * 8)
    for part in event.get("before", []):
        chunk(part.encode())
    if event.get("gate"):
        g = socket.create_connection((event.get("gate_host", "host.lamb.internal"), event["gate"]))
        g.recv(1)
        g.close()
    for part in event.get("after", []):
        chunk(part.encode())
    if event.get("fail"):
        body = base64.b64encode(json.dumps({"errorMessage": "broke mid-stream", "errorType": "Stream.Broken"}).encode())
        c.send(b"0\r\nLambda-Runtime-Function-Error-Type: Stream.Broken\r\nLambda-Runtime-Function-Error-Body: "
               + body + b"\r\n\r\n")
    else:
        c.send(b"0\r\n\r\n")
    c.getresponse().read()
    c.close()
'''

SHELL_BOOTSTRAP = r'''#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -D "$HEADERS" -o /dev/null "$API/invocation/next"
  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  { printf 'one,'; printf 'two,'; printf 'three'; } | curl -sS -o /dev/null -X POST -T - \
    -H 'Lambda-Runtime-Function-Response-Mode: streaming' -H 'Content-Type: text/csv' \
    "$API/invocation/$ID/response"
done
'''

NODE_HANDLER = r'''
const net = require("net");
const gate = (port) => new Promise((resolve) => {
  const s = net.connect(port, "host.lamb.internal");
  s.once("data", () => { s.destroy(); resolve(); });
});
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  if (event.rawPath !== undefined) {  // a function URL's request: the instructions are its body
    event = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, "base64").toString() : event.body);
  }
  if (event.http) {
    responseStream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 201, headers: { "Content-Type": "text/plain", "X-Custom": "yes" }, cookies: ["a=1", "b=2"],
    });
  }
  responseStream.write("first;");
  if (event.gate) await gate(event.gate);
  responseStream.write("second;");
  if (event.fail) throw new Error("node broke mid-stream");
  responseStream.end("last");
});
'''


@pytest.fixture(scope="module")
def server(lamb_server):
    return lamb_server  # the shared server; ``lam`` is its client


@contextmanager
def gate():
    """A TCP gate on loopback: ``open()`` lets the function waiting on it go on. Functions reach it as
    they reach any service of the host's: at host.lamb.internal (its port is allowed), or at
    127.0.0.1 with the plain-process backend (``gate_host``)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(60)

    class Gate:
        port = srv.getsockname()[1]

        @staticmethod
        def open():
            conn, _ = srv.accept()
            conn.sendall(b"!")
            conn.close()

    try:
        yield Gate
    finally:
        srv.close()


def py_function(lam, **kw) -> str:
    name = unique("stream")
    code = make_zip({"bootstrap": PY_BOOTSTRAP}, modes={"bootstrap": stat.S_IFREG | 0o755})
    create(lam, name, code, handler="unused", runtime="provided.al2023", **kw)
    return name


def events_of(resp):
    for e in resp["EventStream"]:
        yield e


def test_boto3_reads_chunks_as_the_function_writes_them(lam):
    name = py_function(lam)
    with gate() as g:
        resp = lam.invoke_with_response_stream(
            FunctionName=name, Payload=json.dumps({"before": ["alpha"], "gate": g.port, "after": ["beta", "gamma"]}),
            LogType="Tail")
        assert resp["StatusCode"] == 200
        assert resp["ExecutedVersion"] == "$LATEST"
        assert resp["ResponseStreamContentType"] == "application/vnd.amazon.eventstream"
        stream = events_of(resp)
        # The first chunk is here while the function is still blocked on the gate.
        assert next(stream) == {"PayloadChunk": {"Payload": b"alpha"}}
        g.open()
        rest = list(stream)
    payload = b"".join(e["PayloadChunk"]["Payload"] for e in rest if "PayloadChunk" in e)
    assert payload == b"betagamma"
    complete = rest[-1]["InvokeComplete"]
    assert "ErrorCode" not in complete
    assert "START RequestId" in base64.b64decode(complete["LogResult"]).decode()


def test_error_trailers_end_the_stream_with_the_error(lam):
    name = py_function(lam)
    resp = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"before": ["partial"], "fail": True}))
    events = list(events_of(resp))
    assert events[0] == {"PayloadChunk": {"Payload": b"partial"}}
    assert events[-1]["InvokeComplete"]["ErrorCode"] == "Stream.Broken"
    assert events[-1]["InvokeComplete"]["ErrorDetails"] == "broke mid-stream"


def test_plain_invoke_reads_a_streamed_response_whole(lam):
    name = py_function(lam)
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"before": ["a", "b"], "after": ["c"]}))
    assert out["Payload"].read() == b"abc"
    assert "FunctionError" not in out


def test_timeout_while_streaming(lam):
    name = py_function(lam, Timeout=1)
    with gate() as g:  # never opened: the function waits until its timeout
        resp = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"before": ["x"], "gate": g.port}))
        events = list(events_of(resp))
    assert events[0] == {"PayloadChunk": {"Payload": b"x"}}
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Sandbox.Timedout"
    assert complete["ErrorDetails"].endswith("Task timed out after 1.00 seconds")


def test_a_buffered_function_answers_with_one_chunk(lam):
    name = unique("buffered")
    create(lam, name, "def handler(e, c):\n    return {'ok': e['v']}\n")
    events = list(events_of(lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"v": 3}')))
    assert events == [{"PayloadChunk": {"Payload": b'{"ok": 3}'}}, {"InvokeComplete": {}}]
    create(lam, name + "x", "def handler(e, c):\n    raise ValueError('nope')\n")
    events = list(events_of(lam.invoke_with_response_stream(FunctionName=name + "x")))
    assert events[-1]["InvokeComplete"]["ErrorCode"] == "ValueError"
    assert events[-1]["InvokeComplete"]["ErrorDetails"] == "nope"


def test_shell_bootstrap_streams_with_curl(lam):
    name = unique("shstream")
    code = make_zip({"bootstrap": SHELL_BOOTSTRAP}, modes={"bootstrap": stat.S_IFREG | 0o755})
    create(lam, name, code, handler="unused", runtime="provided.al2023")
    events = list(events_of(lam.invoke_with_response_stream(FunctionName=name)))
    assert b"".join(e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e) == b"one,two,three"
    assert events[-1] == {"InvokeComplete": {}}


def node_function(lam) -> str:
    name = unique("nodestream")
    create(lam, name, {"index.js": NODE_HANDLER}, handler="index.handler", runtime="nodejs20.x")
    return name


def test_node_streamify_response(lam):
    name = node_function(lam)
    with gate() as g:
        resp = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"gate": g.port}))
        stream = events_of(resp)
        assert next(stream) == {"PayloadChunk": {"Payload": b"first;"}}
        g.open()
        rest = list(stream)
    assert b"".join(e["PayloadChunk"]["Payload"] for e in rest if "PayloadChunk" in e) == b"second;last"
    assert rest[-1] == {"InvokeComplete": {}}
    events = list(events_of(lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"fail": true}')))
    assert events[-1]["InvokeComplete"]["ErrorCode"] == "Error"
    assert events[-1]["InvokeComplete"]["ErrorDetails"] == "node broke mid-stream"
    # Invoke reads a streaming function's response whole (AWS buffers it for Invoke).
    out = lam.invoke(FunctionName=name, Payload=b"{}")
    assert out["Payload"].read() == b"first;second;last" and "FunctionError" not in out


def test_errors_before_the_function_runs_are_invokes(lam):
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke_with_response_stream(FunctionName=unique("missing"))
    name = py_function(lam)
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke_with_response_stream(FunctionName=name, Payload=b"{not json")
    assert lam.invoke_with_response_stream(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    resp = lam.invoke_with_response_stream(FunctionName=name, Qualifier="live", Payload=b'{"before": ["v"]}')
    assert resp["ExecutedVersion"] == "1"
    assert list(events_of(resp)) == [{"PayloadChunk": {"Payload": b"v"}}, {"InvokeComplete": {}}]


# ------------------------------------------------------------------ function URLs
def grant(lam, name):
    lam.add_permission(FunctionName=name, StatementId=unique("url"), Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    lam.add_permission(FunctionName=name, StatementId=unique("inv"), Action="lambda:InvokeFunction",
                       Principal="*", InvokedViaFunctionUrl=True)


def stream_url(lam, name) -> str:
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="RESPONSE_STREAM")
    grant(lam, name)
    return url["FunctionUrl"]


def url_connection(server, url: str, body: dict):
    """POST ``body`` to the URL (explicit Host: Python does not resolve *.localhost)."""
    host = urlsplit(url).hostname
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("POST", "/", body=json.dumps(body), headers={"Host": host, "Content-Type": "application/json"})
    return conn.getresponse()


def test_url_streams_chunks_as_written_with_the_prelude(lam, server):
    name = node_function(lam)
    url = stream_url(lam, name)
    with gate() as g:
        resp = url_connection(server, url, {"http": True, "gate": g.port})
        assert resp.status == 201
        assert resp.getheader("Transfer-Encoding") == "chunked"
        assert resp.getheader("X-Custom") == "yes"
        assert resp.getheader("Content-Type") == "text/plain"
        assert resp.msg.get_all("Set-Cookie") == ["a=1", "b=2"]
        assert resp.read1() == b"first;"  # before the function can go on
        g.open()
        assert resp.read() == b"second;last"


def test_url_stream_without_prelude_and_with_curl(lam, server):
    name = py_function(lam)
    url = stream_url(lam, name)
    resp = url_connection(server, url, {"before": ["a", "b"], "contentType": "text/x-custom"})
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/x-custom"
    assert resp.read() == b"ab"
    out = subprocess.run(["curl", "-sS", "-i", "-X", "POST", "--data", json.dumps({"before": ["x", "y", "z"]}),
                          url], capture_output=True, timeout=60)
    text = out.stdout.decode()
    assert "transfer-encoding: chunked" in text.lower()
    assert text.endswith("xyz")


def test_url_stream_with_a_custom_runtime_prelude(lam, server):
    name = py_function(lam)
    url = stream_url(lam, name)
    resp = url_connection(server, url, {"contentType": "application/vnd.awslambda.http-integration-response",
                                        "prelude": {"statusCode": 404, "headers": {"X-A": "b"}}, "before": ["gone"]})
    assert resp.status == 404
    assert resp.getheader("X-A") == "b"
    assert resp.read() == b"gone"


def test_url_stream_error_before_and_during(lam, server):
    name = py_function(lam)
    url = stream_url(lam, name)
    resp = url_connection(server, url, {"fail": True})  # nothing written: 502, as a buffered error
    assert (resp.status, resp.read()) == (502, b"Internal Server Error")
    resp = url_connection(server, url, {"before": ["half"], "fail": True})
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead) as e:
        resp.read()  # the body is cut: no last chunk
    assert e.value.partial == b"half"


def test_streamed_response_size_limit(fresh_server):
    """Past Limits.stream_response_max_bytes (AWS: 200 MB; lowered here) the stream ends failed."""
    s = fresh_server(env={"LAMB_LIMIT_STREAM_RESPONSE_MAX_BYTES": "1000"})
    lam = s.client()
    name = py_function(lam)
    events = list(events_of(lam.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps({"before": ["x" * 600, "y" * 600, "z" * 600]}))))
    assert events[0] == {"PayloadChunk": {"Payload": b"x" * 600}}
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Function.ResponseSizeTooLarge"
    assert complete["ErrorDetails"] == "Response payload size exceeded maximum allowed payload size (1000 bytes)."
    # The environment goes on serving.
    events = list(events_of(lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"before": ["ok"]}')))
    assert events == [{"PayloadChunk": {"Payload": b"ok"}}, {"InvokeComplete": {}}]


def test_streaming_with_the_plain_process_backend(sandbox_server):
    """Without isolation each environment has a Runtime API listener of its own: it streams too."""
    lam = sandbox_server("process").client()
    name = py_function(lam)
    with gate() as g:
        stream = events_of(lam.invoke_with_response_stream(
            FunctionName=name, Payload=json.dumps({"before": ["one"], "gate": g.port, "after": ["two"],
                                                   "gate_host": "127.0.0.1"})))  # the host's network
        assert next(stream) == {"PayloadChunk": {"Payload": b"one"}}
        g.open()
        assert list(stream) == [{"PayloadChunk": {"Payload": b"two"}}, {"InvokeComplete": {}}]
