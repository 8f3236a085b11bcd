"""Hostile deployment packages to CreateFunction, UpdateFunctionCode and PublishLayerVersion.

Each is refused with AWS's answer or, where AWS takes it (duplicate entries, setuid
bits), stored safely. Nothing is written outside the function's own code folder,
a refusal leaves no blob, code folder, function or layer version behind, and the
server lives and answers after each package.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import uuid
import warnings
import zipfile
from pathlib import Path

import pytest

from tests.integration.conftest import create, make_zip
from lamb.store.code import EMPTY_ZIP_ERROR, UNZIP_ERROR

from .conftest import assert_alive, problem_with
from .model_requests import RawRequest, Targets

# A file outside every data folder that a hostile entry tries to create.
ESCAPE = f"lamb-sec-escape-{uuid.uuid4().hex[:8]}"


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = mode << 16
            info.create_system = 3
            zf.writestr(info, data)
    return buf.getvalue()


FN = ("fn.py", b"def handler(e, c):\n    return 1\n", stat.S_IFREG | 0o644)


def _bomb() -> bytes:
    """~260 MB of zeros in ~260 KB: past the 250 MB unzipped limit."""
    buf = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("fn.py", FN[1])
        with zf.open("zeros.bin", "w", force_zip64=True) as f:
            for _ in range(260):
                f.write(chunk)
    return buf.getvalue()


def _lying_sizes() -> bytes:
    """An entry whose headers declare 10 bytes but that inflates to 50 MB."""
    data = bytearray(_zip([FN, ("big.bin", b"\0" * (50 << 20), stat.S_IFREG | 0o644)]))
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.rfind(sig)
        data[pos + off:pos + off + 4] = (10).to_bytes(4, "little")
    return bytes(data)


def _encrypted() -> bytes:
    data = bytearray(_zip([FN]))
    data[6] |= 1
    cd = data.rindex(b"PK\x01\x02")
    data[cd + 8] |= 1
    return bytes(data)


def _corrupt_crc() -> bytes:
    data = bytearray(_zip([FN]))
    cd = data.rindex(b"PK\x01\x02")
    data[cd + 16] ^= 0xFF
    data[14] ^= 0xFF
    return bytes(data)


REFUSED = {
    "zip-slip": (_zip([FN, (f"../../../../../../tmp/{ESCAPE}", b"pwned", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "zip-slip-nested": (_zip([FN, (f"a/b/../../../{ESCAPE}", b"pwned", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "absolute-path": (_zip([FN, (f"/tmp/{ESCAPE}", b"pwned", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "windows-drive": (_zip([FN, (f"C:\\{ESCAPE}", b"pwned", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "symlink-absolute": (_zip([FN, ("etc", b"/etc", stat.S_IFLNK | 0o777)]), UNZIP_ERROR),
    "symlink-relative-out": (_zip([FN, ("up", b"../../../..", stat.S_IFLNK | 0o777)]), UNZIP_ERROR),
    "symlink-then-write-through": (_zip([FN, ("d", b"/tmp", stat.S_IFLNK | 0o777),
                                         (f"d/{ESCAPE}", b"pwned", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "symlink-chain": (_zip([FN, ("y", b".", stat.S_IFLNK | 0o777), ("x", b"y/..", stat.S_IFLNK | 0o777),
                            ("w", b"x/..", stat.S_IFLNK | 0o777), ("v", b"w/..", stat.S_IFLNK | 0o777),
                            (f"v/{ESCAPE}", b"pwned", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "bomb-260MB": (_bomb(), "Unzipped size must be smaller than 262144000 bytes"),
    "file-and-folder-of-one-name": (_zip([FN, ("x", b"1", stat.S_IFREG | 0o644), ("x/y", b"2", stat.S_IFREG | 0o644)]),
                                    UNZIP_ERROR),
    "encrypted": (_encrypted(), UNZIP_ERROR),
    "name-300": (_zip([FN, ("n" * 300, b"x", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "path-5000": (_zip([FN, ("/".join(["p" * 99] * 50), b"x", stat.S_IFREG | 0o644)]), UNZIP_ERROR),
    "nul-in-name": (_zip([FN, ("a_b.py", b"x", stat.S_IFREG | 0o644)]).replace(b"a_b.py", b"a\0b.py"), UNZIP_ERROR),
    "corrupt-crc": (_corrupt_crc(), UNZIP_ERROR),
    "truncated": (_zip([FN])[:-30], UNZIP_ERROR),
    "not-a-zip": (b"PK\x03\x04" + b"\xff" * 200, UNZIP_ERROR),
    "empty-zip": (_zip([]), EMPTY_ZIP_ERROR),
    "lying-sizes": (_lying_sizes(), UNZIP_ERROR),
}

ACCEPTED = {
    "duplicate-entries": _zip([FN, ("dup.txt", b"first", stat.S_IFREG | 0o644), ("dup.txt", b"second", stat.S_IFREG | 0o644)]),
    "setuid-setgid-sticky": _zip([FN, ("suid", b"#!/bin/sh\n", stat.S_IFREG | 0o7777)]),
    "symlink-inside": _zip([FN, ("lib", b"fn.py", stat.S_IFLNK | 0o777)]),
}


def _request(operation: str, zip_bytes: bytes, name: str) -> RawRequest:
    b64 = base64.b64encode(zip_bytes).decode()
    if operation == "CreateFunction":
        body = {"FunctionName": name, "Runtime": "python3.12", "Handler": "fn.handler",
                "Role": "arn:aws:iam::000000000000:role/sec", "Code": {"ZipFile": b64}}
        return RawRequest(operation, "package", "POST", "/2015-03-31/functions", {"Content-Type": "application/json"},
                          json.dumps(body).encode())
    if operation == "UpdateFunctionCode":
        return RawRequest(operation, "package", "PUT", f"/2015-03-31/functions/{name}/code",
                          {"Content-Type": "application/json"}, json.dumps({"ZipFile": b64}).encode())
    return RawRequest(operation, "package", "POST", f"/2018-10-31/layers/{name}/versions",
                      {"Content-Type": "application/json"}, json.dumps({"Content": {"ZipFile": b64}}).encode())


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


def _escaped(server) -> list[str]:
    found = [str(p) for p in (Path("/tmp"), server.base, server.data_dir, server.data_dir / "code") if (p / ESCAPE).exists()]
    return found + [str(p) for p in server.base.rglob(ESCAPE)]


OPERATIONS = ["CreateFunction", "UpdateFunctionCode", "PublishLayerVersion"]


@pytest.fixture(scope="module")
def pkg_targets(sec_server) -> Targets:
    """A function and a layer of this module's own, whose code must not change."""
    lam = sec_server.client()
    create(lam, "sec-pkg", FN[1].decode())
    lam.publish_layer_version(LayerName="sec-pkg-layer", Content={"ZipFile": make_zip({"python/x.py": "X = 1\n"})})
    return Targets(function="sec-pkg", layer="sec-pkg-layer")


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("package", sorted(REFUSED))
def test_hostile_package_is_refused_and_leaves_nothing(package, operation, raw_http, sec_server, pkg_targets):
    zip_bytes, message = REFUSED[package]
    store = [sec_server.data_dir / "blobs", sec_server.data_dir / "code"]
    before = [_files(d) for d in store]
    lam = sec_server.client()
    target = {"CreateFunction": f"sec-pkg-{uuid.uuid4().hex[:6]}", "UpdateFunctionCode": pkg_targets.function,
              "PublishLayerVersion": pkg_targets.layer}[operation]
    sha_before = lam.get_function(FunctionName=pkg_targets.function)["Configuration"]["CodeSha256"]
    layers_before = len(lam.list_layer_versions(LayerName=pkg_targets.layer)["LayerVersions"])

    status, headers, body = raw_http.send(_request(operation, zip_bytes, target))

    assert problem_with(operation, status, headers, body) is None
    assert (status, headers["x-amzn-errortype"]) == (400, "InvalidParameterValueException"), body
    assert json.loads(body)["message"] == message
    assert _escaped(sec_server) == []
    assert [_files(d) for d in store] == before, "a refused package left files in the store"
    assert lam.get_function(FunctionName=pkg_targets.function)["Configuration"]["CodeSha256"] == sha_before
    assert len(lam.list_layer_versions(LayerName=pkg_targets.layer)["LayerVersions"]) == layers_before
    if operation == "CreateFunction":
        assert target not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert_alive(sec_server)


@pytest.mark.parametrize("package", sorted(ACCEPTED))
def test_unusual_but_safe_package_is_stored_inside_its_folder(package, raw_http, sec_server):
    name = f"sec-ok-{uuid.uuid4().hex[:6]}"
    status, headers, body = raw_http.send(_request("CreateFunction", ACCEPTED[package], name))
    assert status == 201, body
    sha = json.loads(body)["CodeSha256"]
    key = base64.b64decode(sha).hex()
    folder = sec_server.data_dir / "code" / key
    real_folder = os.path.realpath(folder)
    for path in folder.rglob("*"):
        st = path.lstat()
        assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX), f"{path} kept {oct(st.st_mode)}"
        assert os.path.realpath(path).startswith(real_folder + os.sep), f"{path} leads outside its folder"
    if package == "duplicate-entries":
        assert (folder / "dup.txt").read_bytes() in (b"first", b"second")
    assert _escaped(sec_server) == []
    assert_alive(sec_server)


def test_lamb_serves_no_path_outside_the_logs_folder(sec_server, raw_http):
    """``/_lamb/logs?group=..`` once listed the data folder (lamb.db, blobs, code), to anyone:
    unsigned it is now refused, and signed as the operator it lists nothing outside the logs."""
    status, _, body = raw_http.send(RawRequest("logs", "private-path", "GET", "/_lamb/logs?group=.."), sign=False)
    assert status == 403 and json.loads(body)["message"] == "Missing Authentication Token", body
    for group in ("..", ".", "%2E%2E", "../..", "/aws/lambda/../../..", "a%00b", "x" * 1000):
        for query in (f"group={group}", f"group={group}&stream=..", f"group=%2Faws%2Flambda%2Fsec-pkg&stream={group}"):
            req = RawRequest("logs", "private-path", "GET", f"/_lamb/logs?{query}")
            status, _, body = raw_http.send(req)
            assert status in (200, 400), body
            if status == 200:
                doc = json.loads(body)
                listed = json.dumps(doc)
                assert "lamb.db" not in listed and "blobs" not in listed, (query, doc)
    for query in ("group=..", "group=.", "group=%2E%2E", "group=a%00b", "group=/aws/lambda/sec-pkg&stream=.."):
        status, _, body = raw_http.send(RawRequest("logs", "private-path", "GET", f"/_lamb/logs?{query}"))
        assert status == 400, (query, body)
    assert_alive(sec_server)
