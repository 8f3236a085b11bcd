"""Lamb's Runtime API transport for awslambdaric (``runtimes/lamb_runtime_client.py``) against a Runtime
API served here, driven in a runtime's own interpreter as awslambdaric drives ``runtime_client``: the
requests (byte for byte what awslambdaric's native module sent to the same server in the same test),
results, exceptions and their messages, and a post with the ``next`` behind it in one write."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
from pathlib import Path

from lamb.config import Settings
from lamb.runtimes import python

from .runtime_api_fakes import requests_of

RUNTIME = "python3.12"
LAMB = Path(python.__file__).parent / python.CLIENT

# Drives a runtime_client module as awslambdaric does; prints one JSON line per call.
DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "lamb":
    import lamb_runtime_client
    lamb_runtime_client.install()
import runtime_client as rc

def call(fn, *args):
    try:
        out = fn(*args)
        if isinstance(out, tuple):
            out = [out[0].decode("latin-1"), out[1]]
        print(json.dumps({"ok": out}), flush=True)
    except Exception as e:
        print(json.dumps({"error": [type(e).__name__, str(e)]}), flush=True)

call(rc.post_invocation_result, "r0", b"x", "application/json", None)
rc.initialize_client("aws-lambda-python/3.12.0-4.2.2")
call(rc.next)
call(rc.post_invocation_result, "rid-1", '{"ok":"\\u00e9"}'.encode(), "application/json", "inv-1")
call(rc.next)
call(rc.post_error, "rid-2", '{"errorType":"E"}', '{"xray":1}', None)
call(rc.next)
call(rc.post_invocation_result, "rid-3", b"", "", None)
call(rc.next)
call(rc.post_invocation_result, "rid-4", "text", "application/json", None)
call(rc.post_invocation_result, "rid-4", b"x", "application/json")
call(rc.post_error, "rid-4", b"e", "", None)
call(rc.post_error, "rid-4", "e", "", 5)
call(rc.initialize_client, 1)
call(rc.next, 1)
"""

ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n"


def _event(rid: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: %s\r\n"
            b"Lambda-Runtime-Deadline-Ms: 1796606669619\r\n"
            b"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f\r\n%s"
            b"Content-Length: %d\r\n\r\n%s" % (rid, extra, len(body), body))


ANSWERS = [
    _event(b"rid-1", b'{"n":1}', b"Lambda-Runtime-Invocation-Id: inv-1\r\n"),
    ACCEPTED,
    _event(b"rid-2", b'{"n":2}\x00tail', b"Lambda-Runtime-Trace-Id: Root=1-a-b\r\nLambda-Runtime-Client-Context: "
           b"{\"custom\":{}}\r\nLambda-Runtime-Cognito-Identity: \r\nLambda-Runtime-Aws-Tenant-Id: t-1\r\n"),
    ACCEPTED,
    _event(b"rid-3", b"{}"),
    b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    _event(b"rid-4", b"{}"),
]


class FakeRuntimeApi:
    """Answers requests with ``answers``, in order, on any connection (curl closes a connection that a
    post's non-2xx answer came on); records every read and request."""

    def __init__(self, answers: list[bytes]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.answers = list(answers)
        self.reads: list[bytes] = []
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.sock.getsockname()[1]

    def _serve(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        for head, body in requests_of(conn, self.reads, 1 << 20):
            self.requests.append(head + b"\r\n\r\n" + body)
            if self.answers:
                conn.sendall(self.answers.pop(0))
            else:
                conn.close()
                return


def _root() -> Path:
    return python.resolve(RUNTIME, Settings().runtime_cache).root


def _drive(client: str, address: str) -> tuple[list[dict], str]:
    rt = python.resolve(RUNTIME, Settings().runtime_cache)
    proc = subprocess.run([rt.interpreter, "-I", "-c", DRIVER, str(rt.root), client], capture_output=True,
                          text=True, timeout=60, env={"AWS_LAMBDA_RUNTIME_API": address})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")], "\n".join(
        line for line in lines if not line.startswith("{"))


def test_results_errors_and_requests_are_the_native_modules():
    runs = {}
    for client in ("native", "lamb"):
        api = FakeRuntimeApi(ANSWERS)
        results, printed = _drive(client, api.address)
        runs[client] = (results, printed, [r.replace(api.address.encode(), b"HOST") for r in api.requests], api.reads)
    native, lamb = runs["native"], runs["lamb"]
    # The native module raises the 413 to a post from that post; Lamb's transport sends the post with
    # the next behind it, logs the refusal as aws-lambda-cpp does and hands over the next's event.
    assert native[0][6] == {"error": ["RuntimeError", "Failed to post invocation response"]}
    assert lamb[0][6] == {"ok": None}
    assert lamb[0][:6] + lamb[0][7:] == native[0][:6] + native[0][7:], (lamb[0], native[0])
    assert lamb[2] == native[2], (lamb[2], native[2])
    # aws-lambda-cpp's lines on standard output, but for their millisecond timestamps.
    strip = [re.sub(r"\[\d+\] ", "", line) for line in native[1].splitlines()]
    assert [re.sub(r"\[\d+\] ", "", line) for line in lamb[1].splitlines()] == strip
    assert strip == ["[ERROR] LAMBDA_RUNTIME Failed to post handler success response. Http response code: 413. {}"]
    results = lamb[0]
    assert results[0] == {"error": ["RuntimeError", "Client not yet initalized"]}
    body, headers = results[1]["ok"]
    assert body == '{"n":1}'
    assert headers == {
        "Lambda-Runtime-Aws-Request-Id": "rid-1", "Lambda-Runtime-Trace-Id": None,
        "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "Lambda-Runtime-Deadline-Ms": 1796606669619, "Lambda-Runtime-Client-Context": None,
        "Content-Type": "application/json", "Lambda-Runtime-Cognito-Identity": None,
        "Lambda-Runtime-Aws-Tenant-Id": None, "Lambda-Runtime-Invocation-Id": "inv-1"}
    assert results[2] == {"ok": None}
    body, headers = results[3]["ok"]
    assert body == '{"n":2}\x00tail'  # the payload whole (bytes), the headers as C strings
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-a-b"
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom":{}}'
    assert headers["Lambda-Runtime-Cognito-Identity"] is None and headers["Lambda-Runtime-Aws-Tenant-Id"] == "t-1"
    assert results[4] == {"ok": None}
    assert results[7]["ok"][1]["Lambda-Runtime-Aws-Request-Id"] == "rid-4"
    assert results[8:] == [{"error": ["RuntimeError", "Wrong arguments"]}] * 5 + [
        {"error": ["TypeError", "runtime.next() takes no arguments (1 given)"]}]
    get = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: HOST\r\nAccept: */*\r\n" \
          b"User-Agent: aws-lambda-python/3.12.0-4.2.2\r\n\r\n"
    body = '{"ok":"é"}'.encode()
    post = (b"POST /2018-06-01/runtime/invocation/rid-1/response HTTP/1.1\r\nHost: HOST\r\nAccept: */*\r\n"
            b"content-type: application/json\r\nUser-Agent: aws-lambda-python/3.12.0-4.2.2\r\n"
            b"lambda-runtime-invocation-id: inv-1\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
    error = (b"POST /2018-06-01/runtime/invocation/rid-2/error HTTP/1.1\r\nHost: HOST\r\nAccept: */*\r\n"
             b"content-type: application/json\r\nlambda-runtime-function-xray-error-cause: {\"xray\":1}\r\n"
             b"User-Agent: aws-lambda-python/3.12.0-4.2.2\r\ncontent-length: 17\r\n\r\n{\"errorType\":\"E\"}")
    empty = (b"POST /2018-06-01/runtime/invocation/rid-3/response HTTP/1.1\r\nHost: HOST\r\nAccept: */*\r\n"
             b"content-type: text/html\r\nUser-Agent: aws-lambda-python/3.12.0-4.2.2\r\ncontent-length: 0\r\n\r\n")
    assert lamb[2] == [get, post, get, error, get, empty, get]
    # A post and the next that follows it leave in one write (one read here, on loopback).
    host = [r for r in lamb[3]]
    assert [r.count(b" HTTP/1.1\r\n") for r in host] == [1, 2, 2, 2], host


def test_no_runtime_api_fails_next_as_the_native_module_does():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = "127.0.0.1:%d" % s.getsockname()[1]  # nothing listens once closed
    for client in ("native", "lamb"):
        results, printed = _drive(client, address)
        assert results[1] == {"error": ["RuntimeError", "Failed to get next"]}, (client, results)
        assert "LAMBDA_RUNTIME Failed to get next invocation. No Response from endpoint" in printed, (client, printed)


@contextlib.contextmanager
def _scripted(script: str):
    """``script`` run in the runtime's interpreter against a socket of the test's: (the accepted
    connection, the process); both are ended on the way out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    address = "127.0.0.1:%d" % sock.getsockname()[1]
    rt = python.resolve(RUNTIME, Settings().runtime_cache)
    proc = subprocess.Popen([rt.interpreter, "-I", "-c", script, str(rt.root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={"AWS_LAMBDA_RUNTIME_API": address})
    try:
        conn, _ = sock.accept()
        conn.settimeout(60)
        with conn:
            yield conn, proc
    finally:
        proc.kill()
        proc.wait()
        sock.close()


def test_a_post_leaves_with_the_next_and_its_answer_is_not_awaited():
    """The Runtime API answers a post only once the next behind it has arrived (as Lamb's listeners
    keep a post's 202 back): the post returns without it, and next() gets both."""
    script = """
import sys
sys.path.insert(0, sys.argv[1])
import lamb_runtime_client as rc
rc.initialize_client("ua")
body, headers = rc.next()
rc.post_invocation_result(headers["Lambda-Runtime-Aws-Request-Id"], b"{}", "application/json", None)
print("posted", flush=True)
body, headers = rc.next()
print(headers["Lambda-Runtime-Aws-Request-Id"], flush=True)
"""
    with _scripted(script) as (conn, proc):
        first = conn.recv(65536)
        assert first.startswith(b"GET /2018-06-01/runtime/invocation/next ")
        conn.sendall(_event(b"rid-1", b"{}"))
        assert proc.stdout.readline() == "posted\n"  # nothing answered the post yet
        data = b""
        while data.count(b" HTTP/1.1\r\n") < 2:
            chunk = conn.recv(65536)
            assert chunk
            data += chunk
        assert data.startswith(b"POST /2018-06-01/runtime/invocation/rid-1/response ")
        assert b"\r\n\r\n{}GET /2018-06-01/runtime/invocation/next " in data
        conn.sendall(ACCEPTED + _event(b"rid-2", b"{}"))
        assert proc.stdout.readline() == "rid-2\n"


def test_after_a_next_from_a_worker_thread_a_post_leaves_at_once():
    """awslambdaric on python3.12+ calls next() from a new thread each time: the post does not wait for
    that thread to start; the next() on it reads the post's answer, then its event."""
    script = """
import sys, threading
sys.path.insert(0, sys.argv[1])
import lamb_runtime_client as rc
rc.initialize_client("ua")
def polled():
    out = []
    t = threading.Thread(target=lambda: out.append(rc.next()))
    t.start()
    t.join()
    return out[0]
body, headers = polled()
rc.post_invocation_result(headers["Lambda-Runtime-Aws-Request-Id"], b"{}", "application/json", None)
print("posted", flush=True)
sys.stdin.readline()
body, headers = polled()
print(headers["Lambda-Runtime-Aws-Request-Id"], flush=True)
"""
    with _scripted(script) as (conn, proc):
        assert conn.recv(65536).startswith(b"GET /2018-06-01/runtime/invocation/next ")
        conn.sendall(_event(b"rid-1", b"{}"))
        assert proc.stdout.readline() == "posted\n"
        data = b""
        while not data.endswith(b"\r\n\r\n{}"):
            chunk = conn.recv(65536)
            assert chunk
            data += chunk
        assert data.startswith(b"POST /2018-06-01/runtime/invocation/rid-1/response ")  # before any next()
        conn.sendall(ACCEPTED)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert conn.recv(65536).startswith(b"GET /2018-06-01/runtime/invocation/next ")
        conn.sendall(_event(b"rid-2", b"{}"))
        assert proc.stdout.readline() == "rid-2\n"
