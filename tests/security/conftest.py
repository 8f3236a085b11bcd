"""Harness of tests/security.

The bad-input tests: one real ``lamb serve``, raw HTTP, AWS's answer shape, counts.

Requests go out with ``http.client`` (or a bare socket where http.client refuses to
send the bytes), SigV4-signed like a real SDK's with the server's own root key (authentication
is on, so an unsigned request would only ever reach the 403 of the signature check; the few
that botocore cannot sign, and those sent with ``sign=False``, get that 403). Every answer is judged
by ``problem_with``: a 2xx, or an error in AWS's REST-JSON shape whose status is the
model's for that error code. The counts (requests sent, answers by class) are printed
in the terminal summary and written to ``<pytest basetemp>/security-counts.json``.

The sandbox-promise tests (issue 18): ``server_for`` runs a test against one ``lamb serve`` per
sandbox backend (``linux``, and ``process`` where the promise means something there). A backend
the host cannot run makes the test FAIL (the server refuses ``--sandbox linux`` where it cannot
isolate). Lamb's own environment carries ``MARKERS``: nothing inside an environment may see them.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.integration.conftest import LambServer, create, invoke, make_zip, signing_path, unique  # noqa: F401 - re-exported for the tests

from .model_requests import RawRequest, lambda_model, model_error_status

SEED = int(os.environ.get("LAMB_SECURITY_SEED", "18"))
# The public port's header timeout for these tests (LAMB_HEADER_TIMEOUT_S), short so slow-client tests end soon.
HEADER_TIMEOUT_S = 1.0
ANSWER_TIMEOUT_S = 30.0  # an answer slower than this is a hang

# Codes Lambda returns that are not error shapes of the model, with their statuses.
GENERIC = {
    "ValidationException": 400,
    "SerializationException": 400,
    "UnknownOperationException": 404,
    "UnrecognizedClientException": 403,
    "AccessDeniedException": 403,
    # authentication's answers (lamb.identity.authn), for what is sent unsigned or cannot be signed
    "MissingAuthenticationTokenException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 403,
    "RequestEntityTooLargeException": 413,
    # Lamb's answers at the HTTP layer (lamb.http_guards), where AWS's edge names none.
    "RequestTimeoutException": 408,
    "RequestHeaderFieldsTooLargeException": 431,
}
# Operations Lamb does not implement yet answer this (docs/status.md); counted on their own.
NOT_IMPLEMENTED = ("UnsupportedOperationException", 501)

COUNTS: Counter = Counter()
_MODEL = lambda_model()
_MODEL_STATUS = model_error_status()


def _op_statuses(op_name: str | None) -> set[int]:
    if op_name is None or op_name not in _MODEL.operation_names:
        return set()
    op = _MODEL.operation_model(op_name)
    return {s.metadata.get("error", {}).get("httpStatusCode") for s in op.error_shapes} - {None}


def problem_with(op_name: str | None, status: int, headers: dict[str, str], body: bytes) -> str | None:
    """Why this answer is not AWS's shape (None when it is)."""
    if 200 <= status < 300:
        if body and "json" in headers.get("content-type", "") and op_name not in ("Invoke",):
            try:
                json.loads(body)
            except ValueError:
                return f"{status} with a JSON content type and a body that is not JSON: {body[:200]!r}"
        return None
    code = (headers.get("x-amzn-errortype") or "").split(":")[0]
    if not code:
        return f"{status} without x-amzn-ErrorType: {body[:200]!r}"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"{status} {code} with a body that is not JSON: {body[:200]!r}"
    if not isinstance(doc, dict) or not isinstance(doc.get("message", doc.get("Message")), str):
        return f"{status} {code} without a message: {body[:200]!r}"
    if (code, status) == NOT_IMPLEMENTED:
        return None
    if code in _MODEL_STATUS:
        expected = _MODEL_STATUS[code]
    elif code in GENERIC:
        expected = GENERIC[code]
    else:
        return f"{status} {code}: not an error of the model"
    if status != expected:
        return f"{status} {code}: the model says {expected}"
    if status >= 500 and (status == 500 or status not in _op_statuses(op_name)):
        return f"{status} {code}: a server error outside what the model lists for {op_name}: {doc}"
    return None


def count(status: int | str) -> None:
    COUNTS["requests"] += 1
    if isinstance(status, int):
        COUNTS[f"{status // 100}xx"] += 1
        COUNTS[f"status {status}"] += 1
    else:
        COUNTS[status] += 1


class Client:
    """Raw HTTP to one Lamb server."""

    def __init__(self, server: LambServer):
        self.server = server
        self.port = server.port
        keys = server.credentials()
        self.creds = Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"])
        self.n = 0

    def send(self, req: RawRequest, sign: bool | None = None, record: bool = True) -> tuple[int, dict[str, str], bytes]:
        self.n += 1
        headers = dict(req.headers)
        if req.body or req.method in ("POST", "PUT"):
            headers.setdefault("Content-Length", str(len(req.body)))
        if sign is not False:
            aws = AWSRequest(req.method, f"http://127.0.0.1:{self.port}{signing_path(req.path)}", data=req.body,
                             headers=headers)
            try:
                SigV4Auth(self.creds, "lambda", "us-east-1").add_auth(aws)
                headers = dict(aws.headers.items())
            except Exception:  # noqa: BLE001 - a path botocore cannot sign goes unsigned
                pass
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=ANSWER_TIMEOUT_S)
        try:
            conn.putrequest(req.method, req.path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v.encode("utf-8") if isinstance(v, str) else v)
            conn.endheaders(req.body if req.body else None)
            resp = conn.getresponse()
            body = resp.read()
            out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        except socket.timeout:
            if record:
                count("hang")
            raise AssertionError(f"no answer within {ANSWER_TIMEOUT_S}s to {req.method} {req.path[:200]} ({req.kind})")
        finally:
            conn.close()
        if record:
            count(out[0])
            if out[0] == 403:  # which 403: authentication's (a request not signed as sent) or authorization's
                COUNTS[f"403 {(out[1].get('x-amzn-errortype') or '?').split(':')[0]}"] += 1
            if out[0] == NOT_IMPLEMENTED[1]:
                COUNTS["501 not implemented"] += 1
        return out

    def raw(self, data: bytes | list[bytes], *, pause: float = 0.0, read_timeout: float = ANSWER_TIMEOUT_S,
            shut: bool = False) -> bytes:
        """Send bytes (in pieces, ``pause`` seconds apart) and read until the server closes."""
        pieces = [data] if isinstance(data, bytes) else data
        with socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout) as s:
            try:
                for i, piece in enumerate(pieces):
                    if i and pause:
                        time.sleep(pause)  # a slow client, on purpose
                    s.sendall(piece)
                if shut:
                    s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server stopped reading: what it answered is still to be read
            out = []
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out.append(chunk)
            except ConnectionResetError:
                pass
            except socket.timeout:
                count("hang")
                raise AssertionError(f"no end of answer within {read_timeout}s; got {b''.join(out)[:300]!r}")
        data = b"".join(out)
        for status, _, _ in responses(data):
            count(status)
        return data


def responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a byte stream of Content-Length responses."""
    out = []
    while data.startswith(b"HTTP/1.1 "):
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out


def assert_alive(server: LambServer) -> None:
    """The server process lives and answers."""
    assert server.proc is not None and server.proc.poll() is None, f"lamb died: {server.log_tail()}"
    with urllib.request.urlopen(server.url + "/_lamb/health", timeout=10) as r:
        assert r.status == 200 and json.loads(r.read())["status"] == "ok"


@pytest.fixture(scope="session")
def sec_server():
    server = LambServer(env={"LAMB_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S)}).start()
    try:
        server.ensure_role("arn:aws:iam::000000000000:role/sec")  # the Role of the generated requests
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def sec_targets(sec_server):
    """A function and a layer the generated requests name, so baselines reach the handlers."""
    from .model_requests import Targets

    lam = sec_server.client()
    create(lam, "sec-target", "def handler(event, context):\n    return {'ok': True}\n")
    lam.publish_layer_version(LayerName="sec-layer", Content={"ZipFile": make_zip({"python/x.py": "X = 1\n"})})
    return Targets(function="sec-target", layer="sec-layer")


@pytest.fixture(scope="session")
def raw_http(sec_server) -> Client:
    return Client(sec_server)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not COUNTS:
        return
    classes = {k: v for k, v in sorted(COUNTS.items()) if k.endswith("xx") or k in ("hang", "501 not implemented")}
    terminalreporter.write_sep("-", "bad-input counts (tests/security)")
    terminalreporter.write_line(f"seed {SEED}: {COUNTS['requests']} answers read; by class: {classes}")
    statuses = {k: v for k, v in sorted(COUNTS.items()) if k.startswith("status ")}
    terminalreporter.write_line(f"by status: {statuses}")
    refusals = {k: v for k, v in sorted(COUNTS.items()) if k.startswith("403 ")}
    terminalreporter.write_line(f"403s by error: {refusals}")
    try:
        path = Path(config._tmp_path_factory.getbasetemp()) / "security-counts.json"  # noqa: SLF001
        path.write_text(json.dumps({"seed": SEED, **COUNTS}, indent=1, sort_keys=True))
        terminalreporter.write_line(f"written to {path}")
    except Exception:  # noqa: BLE001 - the summary is a report, never a failure
        pass


# ---------------------------------------------------------------- sandbox promises (issue 18)
MARKERS = {"LAMB_TEST_SECRET": "marker-5f1c2b7e", "HOST_ONLY_MARKER": "marker-9a04d3c1"}

_SERVERS: dict[str, LambServer] = {}


@pytest.fixture(scope="session")
def _server_pool():
    yield _SERVERS
    for server in _SERVERS.values():
        server.close()
    _SERVERS.clear()


def server_for(pool: dict, mode: str, *extra: str) -> LambServer:
    """One shared server per backend (and extra flags), started on first use (with ``MARKERS`` in its environment)."""
    key = " ".join((mode, *extra))
    if key not in pool:
        # No host service allowed to environments (the integration tests allow their own).
        pool[key] = LambServer(extra_args=["--sandbox", mode, *extra],
                               env=dict(MARKERS, LAMB_NETWORK_HOST_PORTS="")).start()
    server = pool[key]
    assert server.get_json("/_lamb/health")["sandbox"] == mode
    return server


@pytest.fixture
def linux_server(_server_pool) -> LambServer:
    """The linux backend with every promise on (``--network isolated``)."""
    return server_for(_server_pool, "linux", "--network", "isolated")


@pytest.fixture
def disk_tmp_server(_server_pool) -> LambServer:
    """The linux backend with /tmp on disk (the default, ``--tmp disk``)."""
    return server_for(_server_pool, "linux", "--network", "isolated")


@pytest.fixture
def process_server(_server_pool) -> LambServer:
    return server_for(_server_pool, "process")


@pytest.fixture(params=["linux", "process"])
def any_server(request, _server_pool) -> LambServer:
    """Both backends, one after the other."""
    return server_for(_server_pool, *(("linux", "--network", "isolated") if request.param == "linux" else ("process",)))
