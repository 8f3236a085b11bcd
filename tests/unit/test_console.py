"""lamb.console: which files it serves; its SigV4 signer (static/sigv4.js, run by Node) agrees with botocore's."""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import lamb.console as console
from lamb.runtimes import node as node_runtime

STATIC = Path(console.__file__).parent / "static"


def test_assets_and_refusals():
    body, kind = console.asset("/_lamb/console/")
    assert kind.startswith("text/html") and body == (STATIC / "index.html").read_bytes()
    assert console.asset("/_lamb/console/app.js")[1].startswith("text/javascript")
    for bad in ["/_lamb/console/../x.js", "/_lamb/console/static/app.js", "/_lamb/console/.x.js",
                "/_lamb/console/__init__.py", "/_lamb/console/missing.js"]:
        assert console.asset(bad) is None, bad


SIGN = """
const { sign } = await import(process.argv[1]);
const r = JSON.parse(process.argv[2]);
console.log(JSON.stringify(await sign({ ...r, now: new Date(r.now) })));
"""


@pytest.mark.parametrize("method,url,body,token", [
    ("GET", "http://127.0.0.1:9000/2015-03-31/functions/?MaxItems=50&Marker=a%2Bb", "", None),
    ("POST", "http://127.0.0.1:9000/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations?Qualifier=live",
     '{"a": "ü"}', "session-token"),
    ("POST", "http://localhost:9000/", '{"logGroupName": "/aws/lambda/f"}', None),
])
def test_the_signature_is_botocores(method, url, body, token):
    node = node_runtime.find_node("nodejs20.x")
    assert node, "no node 20 on this host"
    now = datetime.datetime(2026, 12, 6, 13, 24, 33, tzinfo=datetime.timezone.utc)
    creds = {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
             **({"sessionToken": token} if token else {})}
    headers = {"content-type": "application/json"}
    req = {"method": method, "url": url, "headers": headers, "body": body, "service": "lambda",
           "region": "eu-west-1", "credentials": creds, "now": now.isoformat()}
    out = subprocess.run([node, "--input-type=module", "-e", SIGN, (STATIC / "sigv4.js").as_uri(), json.dumps(req)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    signed = json.loads(out.stdout)

    aws = AWSRequest(method=method, url=url, data=body.encode(), headers=dict(headers))
    auth = SigV4Auth(Credentials("AKIDEXAMPLE", creds["secretAccessKey"], token), "lambda", "eu-west-1")
    # SigV4Auth.add_auth's steps with botocore's clock fixed at ``now`` for the comparison.
    aws.context["timestamp"] = now.strftime("%Y%m%dT%H%M%SZ")
    auth._modify_request_before_signing(aws)  # noqa: SLF001
    string_to_sign = auth.string_to_sign(aws, auth.canonical_request(aws))
    auth._inject_signature_to_request(aws, auth.signature(string_to_sign, aws))  # noqa: SLF001
    assert signed["x-amz-date"] == aws.headers["X-Amz-Date"]
    assert signed["authorization"] == aws.headers["Authorization"]


def test_every_element_the_page_script_uses_is_in_the_page():
    """app.js finds its elements by id: each id it asks for exists in index.html (and once)."""
    import re

    script = (STATIC / "app.js").read_text()
    page = (STATIC / "index.html").read_text()
    wanted = set(re.findall(r'\$\("([\w-]+)"\)', script))
    assert len(wanted) > 30
    for element_id in sorted(wanted):
        assert page.count(f'id="{element_id}"') == 1, element_id
    # the form fields it reads by name
    for form, fields in [("create-form", ["name", "runtime", "handler", "role", "memory", "timeout", "code"]),
                         ("config-form", ["description", "memory", "timeout", "environment"]),
                         ("code-form", ["file", "code"]), ("zip-form", ["zip"])]:
        body = page.split(f'id="{form}"', 1)[1].split("</form>", 1)[0]
        for field in fields:
            assert f'name="{field}"' in body, (form, field)


ZIP = """
const { makeZip } = await import(process.argv[1]);
const bytes = makeZip({"a.py": "print('a')\\n", "dir/bootstrap": "#!/bin/sh\\n", "é.txt": new Uint8Array([0, 255])},
                      { executable: ["dir/bootstrap"], now: new Date(2024, 4, 17, 13, 45, 30) });
process.stdout.write(Buffer.from(bytes).toString("base64"));
"""


def test_the_page_zip_writer_makes_archives_python_reads():
    import base64
    import io
    import zipfile

    node = node_runtime.find_node("nodejs20.x")
    assert node, "no node 20 on this host"
    out = subprocess.run([node, "--input-type=module", "-e", ZIP, (STATIC / "zip.js").as_uri()],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(out))) as z:
        assert z.testzip() is None  # every CRC-32 matches
        assert z.namelist() == ["a.py", "dir/bootstrap", "é.txt"]
        assert z.read("a.py") == b"print('a')\n" and z.read("é.txt") == b"\x00\xff"
        assert [z.getinfo(n).external_attr >> 16 for n in z.namelist()] == [0o100644, 0o100755, 0o100644]
        assert z.getinfo("a.py").date_time == (2024, 5, 17, 13, 45, 30)
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
