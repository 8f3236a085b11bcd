"""Lamb's own routes (``/_lamb/logs``, ``environments``, ``metrics``, ``stacks``) are the
operator's (lamb/services/operator.py, issues 17 and 18): a request signed by the home
account's root, or by an IAM user its policies allow ``lamb:Operate``; never an unsigned
request, an STS session (what every execution environment holds) or another account."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest

from .conftest import LambServer, client_config, signing_path, unique

ROUTES = ("/_lamb/logs?group=/aws/lambda/x", "/_lamb/environments", "/_lamb/metrics", "/_lamb/stacks")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TRUST_ACCOUNT = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def server():
    s = LambServer().start()
    try:
        yield s
    finally:
        s.close()


def get(server: LambServer, path: str, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(server.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def signed_as(server: LambServer, keys: dict, path: str, token: str | None = None) -> dict:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest("GET", server.url + signing_path(path))
    SigV4Auth(Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"], token), "lambda",
              server.region).add_auth(req)
    return dict(req.headers.items())


def new_user(server: LambServer, policy: dict | None) -> dict:
    iam = server.client("iam")
    name = unique("op")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def test_unsigned_requests_get_missing_authentication_token_and_health_stays_open(server):
    for path in ROUTES:
        status, body = get(server, path)
        assert (status, body.get("message")) == (403, "Missing Authentication Token"), path
    assert get(server, "/_lamb/health") == (200, {"status": "ok"})  # liveness for probes, no details
    assert "sandbox" in get(server, "/_lamb/health", server.signed("GET", "/_lamb/health"))[1]


def test_the_home_accounts_root_operates(server):
    for path in ROUTES:
        status, body = get(server, path, server.signed("GET", path))
        assert status == 200, (path, body)


def test_an_iam_user_operates_only_when_its_policy_allows_lamb_operate(server):
    path = "/_lamb/environments"
    plain = new_user(server, None)
    status, body = get(server, path, signed_as(server, plain, path))
    assert status == 403
    assert re.fullmatch(r"User: arn:aws:iam::000000000000:user/op-\w+ is not authorized to perform: lamb:Operate on "
                        r"resource: \* because no identity-based policy allows the lamb:Operate action", body["message"])
    admin = new_user(server, ALLOW_ALL)
    assert get(server, path, signed_as(server, admin, path))[0] == 200


def test_sessions_and_other_accounts_never_operate(server):
    """Temporary credentials (an execution environment's role among them) are refused even with '*'."""
    path = "/_lamb/logs?group=/aws/lambda/x"
    iam = server.client("iam")
    role = iam.create_role(RoleName=unique("admin"), AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    creds = server.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="operator")["Credentials"]
    keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"]}
    status, body = get(server, path, signed_as(server, keys, path, creds["SessionToken"]))
    assert status == 403 and "lamb:Operate" in body["message"], body
    out = subprocess.run([sys.executable, "-m", "lamb", "accounts", "create", "--data-dir", str(server.data_dir)],
                         capture_output=True, text=True, timeout=60)
    account = re.search(r"account (\d{12})", out.stdout).group(1)
    other = server.credentials(f"account-{account}")
    status, body = get(server, path, signed_as(server, other, path))
    assert status == 403 and body["message"].startswith(f"User: arn:aws:iam::{account}:root is not authorized"), body


def test_lamb_stacks_signs_with_the_callers_credentials(server):
    """The CLI that uses /_lamb (``lamb stacks``, ``lamb deploy``) signs as boto3's chain names the caller."""
    def stacks(env: dict) -> subprocess.CompletedProcess:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMB_"))}
        return subprocess.run([sys.executable, "-m", "lamb", "stacks"], capture_output=True, text=True, timeout=60,
                              env={**base, **env})
    ok = stacks(server.aws_env())
    assert ok.returncode == 0 and ok.stdout.startswith("StackName"), ok.stderr
    refused = stacks({**server.aws_env(), "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert refused.returncode != 0 and "403" in refused.stderr


def test_auth_off_leaves_the_routes_open(fresh_server):
    s = fresh_server(env={"LAMB_AUTH": "off"})
    assert get(s, "/_lamb/environments")[0] == 200
    lam = boto3.client("lambda", endpoint_url=s.url, region_name=s.region, config=client_config(),
                       aws_access_key_id="anything", aws_secret_access_key="anything")
    assert "Functions" in lam.list_functions()
