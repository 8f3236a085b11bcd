"""Validation errors with AWS's exact codes and messages, and robustness against bad requests."""

from __future__ import annotations

import http.client
import io
import json
import socket
import stat
import zipfile

import pytest
from botocore.exceptions import ClientError

from .conftest import ROLE, create, invoke, make_zip, unique

ECHO = "def handler(event, context):\n    return event\n"
UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."


def _create_error(client, name=None, code=None, **kw) -> tuple[str, str, int]:
    params = dict(FunctionName=name or unique("val"), Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                  Code={"ZipFile": code if code is not None else make_zip({"fn.py": ECHO})})
    params.update(kw)
    with pytest.raises(ClientError) as e:
        client.create_function(**params)
    r = e.value.response
    # nothing was created
    if isinstance(params["FunctionName"], str) and params["FunctionName"].replace("-", "").isalnum():
        with pytest.raises(ClientError) as nf:
            client.get_function(FunctionName=params["FunctionName"])
        assert nf.value.response["Error"]["Code"] == "ResourceNotFoundException"
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"MemorySize": 100}, "1 validation error detected: Value '100' at 'memorySize' failed to satisfy constraint: "
                              "Member must have value greater than or equal to 128"),
        ({"MemorySize": 20000}, "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: "
                                "Member must have value less than or equal to 10240"),
        ({"Timeout": 901}, "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
                           "Member must have value less than or equal to 900"),
        ({"Timeout": 0}, "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: "
                         "Member must have value greater than or equal to 1"),
    ],
    ids=["memory-low", "memory-high", "timeout-high", "timeout-low"],
)
def test_number_ranges(raw_lam, kw, message):
    assert _create_error(raw_lam, **kw) == ("ValidationException", message, 400)


def test_number_ranges_on_update(raw_lam):
    name = unique("valup")
    create(raw_lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        raw_lam.update_function_configuration(FunctionName=name, MemorySize=100)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '100' at 'memorySize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 128")
    with pytest.raises(ClientError) as e:
        raw_lam.update_function_configuration(FunctionName=name, Timeout=901)
    assert e.value.response["Error"]["Message"].endswith("Member must have value less than or equal to 900")
    assert raw_lam.get_function_configuration(FunctionName=name)["MemorySize"] == 128


def test_environment_too_large(lam):
    code, message, status = _create_error(lam, Environment={"Variables": {"BIG": "x" * 5000}})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith(
        "Lambda was unable to configure your environment variables because the environment variables you have "
        "provided exceeded the 4KB limit."), message
    # just under the limit is fine: {"BIG":"xxx..."} is 4096 bytes
    name = unique("env4k")
    create(lam, name, ECHO, Environment={"Variables": {"BIG": "x" * (4096 - len('{"BIG":""}'))}})


def test_environment_reserved_key(lam):
    code, message, status = _create_error(lam, Environment={"Variables": {"AWS_REGION": "eu-west-1", "OK": "1"}})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "Reserved keys used in this request: AWS_REGION" in message, message
    name = unique("resv")
    create(lam, name, ECHO)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"AWS_REGION": "x"}})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Reserved keys used in this request: AWS_REGION" in e.value.response["Error"]["Message"]


def test_bad_function_name(raw_lam):
    code, message, status = _create_error(raw_lam, name="bad name!")
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy "
                              "constraint: Member must satisfy regular expression pattern"), message


def test_not_a_zip(lam):
    assert _create_error(lam, code=b"this is not a zip file at all") == ("InvalidParameterValueException", UNZIP_ERROR, 400)


def _raw_zip(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def _entry(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    return info


@pytest.mark.parametrize(
    "evil",
    ["../evil.py", "sub/../../evil.py", "/abs/evil.py"],
    ids=["dotdot", "nested-dotdot", "absolute"],
)
def test_zip_path_escape_rejected(lam, lamb_server, evil):
    data = _raw_zip([(_entry("fn.py"), ECHO.encode()), (_entry(evil), b"x = 1\n")])
    assert evil in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert _create_error(lam, code=data) == ("InvalidParameterValueException", UNZIP_ERROR, 400)
    assert not (lamb_server.data_dir / "evil.py").exists()
    assert not (lamb_server.data_dir / "code" / "evil.py").exists()


@pytest.mark.parametrize(
    "entry,target",
    [
        ("passwd", "/etc/passwd"),
        ("passwd", "../../../../../../../../etc/passwd"),
        ("sub/passwd", "../../../../../../../../etc/passwd"),
        ("sub/up", "../.."),
    ],
    ids=["absolute", "relative-escape", "nested-relative-escape", "parent-of-root"],
)
def test_zip_symlink_out_rejected(lam, entry, target):
    link = _entry(entry, stat.S_IFLNK | 0o777)
    data = _raw_zip([(_entry("fn.py"), ECHO.encode()), (link, target.encode())])
    assert _create_error(lam, code=data) == ("InvalidParameterValueException", UNZIP_ERROR, 400)


def _assert_zip_slip_refused(lam, outside, entries):
    outside.mkdir(exist_ok=True)
    data = _raw_zip([(_entry("fn.py"), ECHO.encode())] + [
        (_entry(name, (stat.S_IFLNK | 0o777) if link else (stat.S_IFREG | 0o644)), content)
        for name, link, content in entries])
    try:
        assert _create_error(lam, code=data) == ("InvalidParameterValueException", UNZIP_ERROR, 400)
    finally:
        written = sorted(p.name for p in outside.iterdir())
    assert written == [], f"the package wrote {written} into {outside}"


def test_zip_slip_through_symlinked_dir(lam, lamb_server):
    # <data dir>/code/<pkg>/d -> ../../../outside == <server base>/outside
    _assert_zip_slip_refused(lam, lamb_server.base / "outside", [
        ("d", True, b"../../../outside"),
        ("d/pwned.txt", False, b"written outside the code root\n"),
    ])


def test_zip_slip_through_symlink_chain(lam, lamb_server):
    _assert_zip_slip_refused(lam, lamb_server.base / "outside-chain", [
        ("y", True, b"."),
        ("x", True, b"y/.."),
        ("w", True, b"x/.."),
        ("v", True, b"w/.."),
        ("v/outside-chain/pwned.txt", False, b"written outside the code root\n"),
    ])


def test_zip_symlink_inside_is_kept(lam):
    """A symlink that stays inside the package is fine (AWS keeps symlinks)."""
    link = _entry("alias.py", stat.S_IFLNK | 0o777)
    data = _raw_zip([(_entry("lib/real.py"), b"VALUE = 42\n"), (link, b"lib/real.py"),
                     (_entry("fn.py"), b"import alias\ndef handler(e, c):\n    return alias.VALUE\n")])
    name = unique("symok")
    create(lam, name, data)
    assert invoke(lam, name, {})[1] == 42


def test_zip_unzipped_size_limit(lam):
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fn.py", ECHO)
        with zf.open("zeros.bin", "w", force_zip64=True) as f:
            for _ in range(300):
                f.write(chunk)
    data = buf.getvalue()
    assert len(data) < 2 * 1024 * 1024
    assert _create_error(lam, code=data) == (
        "InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes", 400)


def test_zip_unix_modes_kept(lam):
    """Unix modes in the zip survive unpacking (an executable stays executable)."""
    name = unique("modes")
    src = ("import os, stat\n"
           "def handler(e, c):\n"
           "    return {n: oct(stat.S_IMODE(os.stat(n).st_mode)) for n in ('run.sh', 'fn.py')}\n")
    create(lam, name, make_zip({"fn.py": src, "run.sh": "#!/bin/sh\necho hi\n"}, modes={"run.sh": 0o755}))
    out = invoke(lam, name, {})[1]
    assert int(out["run.sh"], 8) & 0o111 == 0o111
    assert int(out["fn.py"], 8) & 0o444 == 0o444


def test_deprecated_runtime(lam):
    code, message, status = _create_error(lam, Runtime="python2.7")
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("The runtime parameter of python2.7 is no longer supported for creating or updating "
                              "AWS Lambda functions."), message


def test_unknown_runtime(raw_lam):
    code, message, status = _create_error(raw_lam, Runtime="cobol85")
    assert status == 400 and code in ("ValidationException", "InvalidParameterValueException"), (code, message)
    assert "cobol85" in message


def _http(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """A raw request, SigV4-signed with the server's keys (as any SDK's would be)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=server.signed(method, path, body or b"", headers))
        resp = conn.getresponse()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_malformed_json_body(lamb_server):
    status, headers, body = _http(lamb_server, "POST", "/2015-03-31/functions", b"{bad",
                                  {"Content-Type": "application/json"})
    assert 400 <= status < 500, (status, body)
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "InvalidRequestContentException", headers
    assert "x-amzn-requestid" in headers
    doc = json.loads(body)
    assert (doc.get("message") or doc.get("Message", "")).startswith("Could not parse request body into json"), doc


def test_wrong_json_types(lamb_server):
    body = json.dumps({"FunctionName": unique("t"), "Runtime": "python3.12", "Role": ROLE, "Handler": "fn.handler",
                       "MemorySize": "lots", "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}).encode()
    status, headers, _ = _http(lamb_server, "POST", "/2015-03-31/functions", body, {"Content-Type": "application/json"})
    assert 400 <= status < 500
    assert "x-amzn-errortype" in headers


def test_unknown_path(lamb_server):
    status, headers, body = _http(lamb_server, "GET", "/nope")
    assert status == 404
    assert headers.get("x-amzn-errortype"), headers
    assert "x-amzn-requestid" in headers


def test_garbage_request_line(lamb_server, lam):
    for garbage in (b"\x00\x01\x02 garbage \xff\r\n\r\n", b"GET\r\n\r\n", b"NOT HTTP AT ALL" * 100 + b"\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", lamb_server.port), timeout=5) as s:
            s.sendall(garbage)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                try:
                    data = s.recv(4096)
                except (ConnectionResetError, socket.timeout):
                    break
                if not data:
                    break
                reply += data
        assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply[:100]
    # a client that connects and goes away without a byte
    socket.create_connection(("127.0.0.1", lamb_server.port), timeout=5).close()
    # the server still answers
    assert lamb_server.get_json("/_lamb/health")["status"] == "ok"
    assert "Functions" in lam.list_functions(MaxItems=1)


def test_client_headers_cannot_pose_as_server_state(lamb_server, lam):
    """Headers a client sends are data: none of them can make Lamb think a body was too large."""
    import http.client

    name = unique("hdr")
    create(lam, name, ECHO)
    conn = http.client.HTTPConnection("127.0.0.1", lamb_server.port, timeout=30)
    path = f"/2015-03-31/functions/{name}/invocations"
    conn.request("POST", path, body=b'{"a": 1}', headers=lamb_server.signed("POST", path, b'{"a": 1}', {
        "x-lamb-too-large": "1", "x-lamb-keep-alive": "0", "Content-Type": "application/json"}))
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    resp.read()
    conn.close()
