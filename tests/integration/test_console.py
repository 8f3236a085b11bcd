"""The web console (``/_lamb/console/``): its files, and its API client driving a real Lamb.

No browser here: the page's own client module (``api.js`` with ``sigv4.js``) runs under Node,
which has the same ``fetch`` and Web Crypto a browser has, against a Lamb with
authentication on, so its signatures meet Lamb's real SigV4 verifier.
"""

from __future__ import annotations

import io
import json
import subprocess
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

import lamb.console
from lamb.runtimes import node as node_runtime

from .conftest import PY_RUNTIME, ROLE, create, unique

STATIC = Path(lamb.console.__file__).parent / "static"
CLIENT = Path(__file__).parent / "console_client.mjs"
CODE = "import json\n\ndef handler(event, context):\n    print('console says', json.dumps(event))\n    return {'got': event}\n"


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_the_console_files_are_served_without_a_signature(lamb_server):
    status, headers, body = get(lamb_server.url + "/_lamb/console/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<script type="module" src="app.js">' in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for name, kind in [("app.js", "text/javascript"), ("api.js", "text/javascript"), ("sigv4.js", "text/javascript"),
                       ("zip.js", "text/javascript"), ("style.css", "text/css")]:
        status, headers, body = get(f"{lamb_server.url}/_lamb/console/{name}")
        assert status == 200 and headers["Content-Type"].startswith(kind) and body == (STATIC / name).read_bytes()


def test_only_the_console_files_are_served(lamb_server):
    no_redirect = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                                   {"redirect_request": lambda *a, **k: None}))
    with pytest.raises(urllib.error.HTTPError) as e:
        no_redirect.open(lamb_server.url + "/_lamb/console", timeout=10)
    assert e.value.code == 308 and e.value.headers["Location"] == "/_lamb/console/"
    for path in ["x.py", ".hidden.js", "..%2Flamb.db", "%2e%2e/%2e%2e/lamb.db", "static/app.js", "__init__.py", "nope.js"]:
        assert get(f"{lamb_server.url}/_lamb/console/{path}")[0] == 404, path


def run_client(server, name: str, secret: str | None = None, step: str = "read", **args) -> dict:
    node = node_runtime.find_node("nodejs20.x")
    assert node, "no node 20 on this host"
    creds = server.credentials()
    out = subprocess.run([node, str(CLIENT), STATIC.as_uri(), server.url, creds["aws_access_key_id"],
                          secret or creds["aws_secret_access_key"], server.region, name, step, json.dumps(args)],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_console_client_lists_shows_invokes_and_reads_logs(lamb_server, lam):
    name = unique("console")
    create(lam, name, {"fn.py": CODE})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    out = run_client(lamb_server, name)
    assert "error" not in out, out
    assert name in out["functions"]
    assert out["config"]["FunctionName"] == name and out["config"]["Runtime"] == lam.get_function(
        FunctionName=name)["Configuration"]["Runtime"]
    assert out["versions"] == ["$LATEST", "1"] and out["aliases"] == ["live"] and out["url"] is None
    inv = out["invoke"]
    assert (inv["status"], inv["functionError"], inv["executedVersion"]) == (200, None, "$LATEST")
    assert json.loads(inv["payload"]) == {"got": {"hello": "console"}}
    assert 'console says {"hello": "console"}' in inv["log"] and "REPORT RequestId" in inv["log"]
    assert out["invokeV1"]["executedVersion"] == "1"
    assert out["logs"]["group"] == f"/aws/lambda/{name}"
    assert any('console says {"hello": "console"}' in e["message"] for e in out["logs"]["events"]), out["logs"]
    # GetMetricData (CloudWatch's JSON protocol): the two invocations, one per minute bucket or together.
    assert sum(v for _, v in out["metrics"]["invocations"]) == 2 and sum(v for _, v in out["metrics"]["errors"]) == 0
    assert out["metrics"]["duration"] and all(v > 0 for _, v in out["metrics"]["duration"])


def test_a_wrong_secret_gets_aws_answer(lamb_server, lam):
    out = run_client(lamb_server, "whatever", secret="wrong")
    assert out["error"]["status"] == 403 and out["error"]["code"] == "InvalidSignatureException", out


def test_the_console_client_creates_edits_publishes_and_deletes(lamb_server, lam):
    """A function made in the page: its package is a zip written by ``zip.js``, then its
    configuration and code are changed, a version published, its triggers read, and it is deleted."""
    name = unique("made")
    out = run_client(lamb_server, name, step="create", role=ROLE, runtime=PY_RUNTIME)
    assert "error" not in out, out
    assert ROLE in out["roles"]
    assert out["created"]["FunctionName"] == name and out["created"]["Description"] == "made in the console"
    assert (out["active"]["State"], out["active"]["MemorySize"], out["active"]["Timeout"]) == ("Active", 256, 5)
    assert json.loads(out["invoke1"]["payload"]) == {"v": 1, "n": 1}
    assert (out["updated"]["MemorySize"], out["updated"]["Timeout"]) == (512, 7)
    assert out["updated"]["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert out["afterCode"]["CodeSha256"] != out["active"]["CodeSha256"] and out["afterCode"]["LastUpdateStatus"] == "Successful"
    assert json.loads(out["invoke2"]["payload"]) == {"v": 2, "greeting": "hi", "n": 2}
    assert out["version"]["Version"] == "1" and out["version"]["Description"] == "published in the console"
    # the package the page made is an ordinary zip: Lamb's copy unzips with Python's zipfile
    code = urllib.request.urlopen(lam.get_function(FunctionName=name)["Code"]["Location"], timeout=10).read()
    with zipfile.ZipFile(io.BytesIO(code)) as z:
        assert z.namelist() == ["app.py"] and z.testzip() is None
        assert (z.getinfo("app.py").external_attr >> 16) == 0o100644 and b"'v': 2" in z.read("app.py")

    # what reaches the function besides Invoke
    assert run_client(lamb_server, name, step="triggers")["triggers"] == {"url": None, "mappings": [], "statements": []}
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="public-url", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    triggers = run_client(lamb_server, name, step="triggers")["triggers"]
    assert triggers["url"]["FunctionUrl"] == url and triggers["url"]["AuthType"] == "NONE"
    assert [(s["Sid"], s["Action"], s["Principal"]) for s in triggers["statements"]] == [
        ("public-url", "lambda:InvokeFunctionUrl", "*")]

    out = run_client(lamb_server, name, step="delete")
    assert out["deleted"] == {} and out["afterDelete"] == {"status": 404, "code": "ResourceNotFoundException"}
