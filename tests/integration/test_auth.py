"""Authentication (issue 17): keys from the first start, AWS's 403s, accounts, auth off."""

from __future__ import annotations

import datetime
import json
import os
import re
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from unittest import mock

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .conftest import LambServer, client_config

@pytest.fixture(scope="module")
def server():
    s = LambServer().start()  # authentication is on by default
    try:
        yield s
    finally:
        s.close()


def lamb_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamb", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def raw(server: LambServer, headers: dict | None = None, path: str = "/2015-03-31/functions/"):
    req = urllib.request.Request(server.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"{}")


def signed_headers(server: LambServer, key: str, secret: str, when: datetime.datetime | None = None) -> dict:
    req = AWSRequest("GET", server.url + "/2015-03-31/functions/")
    auth = SigV4Auth(Credentials(key, secret), "lambda", server.region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        auth.add_auth(req)  # botocore signs with the clock we give it (a skewed client)
    return dict(req.headers.items())


def test_first_start_writes_the_root_key_in_a_0600_profile(server):
    path = server.data_dir / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((server.data_dir / "master.key").stat().st_mode) == 0o600
    out = lamb_cli("credentials", "--data-dir", str(server.data_dir))
    assert out.returncode == 0 and "aws_access_key_id = AKIA" in out.stdout
    env_lines = lamb_cli("env", "--data-dir", str(server.data_dir)).stdout
    assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{server.port}" in env_lines
    # eval "$(lamb env)" then the AWS CLI, unchanged
    script = f'eval "$({sys.executable} -m lamb env --data-dir {server.data_dir})"; aws lambda list-functions'
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"Functions": []}


def test_unsigned_request_is_missing_authentication_token(server):
    status, headers, body = raw(server)
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert body["message"] == "Missing Authentication Token"


def test_unknown_key_wrong_secret_and_skewed_clock(server):
    good = server.credentials()
    unknown = boto3.client("lambda", endpoint_url=server.url, region_name=server.region, config=client_config(),
                           aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as e:
        unknown.list_functions()
    assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"],
            e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.", 403)
    bad = boto3.client("lambda", endpoint_url=server.url, region_name=server.region, config=client_config(),
                       aws_access_key_id=good["aws_access_key_id"], aws_secret_access_key="wrong")
    with pytest.raises(ClientError) as e:
        bad.list_functions()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert e.value.response["Error"]["Message"] == (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.")
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    status, headers, body = raw(server, signed_headers(server, good["aws_access_key_id"],
                                                        good["aws_secret_access_key"], when))
    assert status == 403 and headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    m = re.fullmatch(rf"Signature expired: {stamp} is now earlier than (\d{{8}}T\d{{6}}Z) \((\d{{8}}T\d{{6}}Z) - 5 min\.\)",
                     body["message"])
    assert m, body
    floor, now = (datetime.datetime.strptime(x, "%Y%m%dT%H%M%SZ") for x in m.groups())
    assert now - floor == datetime.timedelta(minutes=5)


def test_signed_and_presigned_requests_pass(server):
    lam = server.client()
    assert lam.list_functions()["Functions"] == []
    url = lam.generate_presigned_url("list_functions", ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert json.loads(r.read()) == {"Functions": []}


def test_accounts_create_gives_a_second_account_its_own_root_key(server):
    out = lamb_cli("accounts", "create", "--data-dir", str(server.data_dir))
    assert out.returncode == 0, out.stderr
    account = re.search(r"account (\d{12})", out.stdout).group(1)
    assert account != server.account_id
    assert server.client("sts", profile=f"account-{account}").get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:root"
    other = server.client(profile=f"account-{account}")
    # authenticated as that account's root, with functions of its own (tests/integration/test_regions.py)
    assert other.list_functions()["Functions"] == []


def test_auth_off_is_refused_on_a_non_loopback_address(tmp_path):
    r = lamb_cli("serve", "--host", "0.0.0.0", "--auth", "off", "--data-dir", str(tmp_path), "--port", "0")
    assert r.returncode == 2
    assert "refusing to listen on 0.0.0.0 with authentication off" in r.stderr


def test_auth_off_is_explicit_and_loud(fresh_server):
    """``LAMB_AUTH=off``: any credentials (none at all) pass, and the start says so loudly."""
    s = fresh_server(env={"LAMB_AUTH": "off"})
    status, _, body = raw(s)
    assert status == 200 and "Functions" in body
    assert "AUTHENTICATION IS OFF" in s.log_tail()
