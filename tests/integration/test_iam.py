"""Who may do what (issue 17): IAM users and policies through the AWS CLI and boto3,
deny over allow, cross-account access through AddPermission, iam:PassRole, STS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import LambServer, client_config, create, unique

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TRUST_LAMBDA = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def server():
    s = LambServer().start()  # authentication is on by default; start() creates ROLE as a user would
    try:
        yield s
    finally:
        s.close()


def aws(server: LambServer, *args: str, key: dict | None = None) -> subprocess.CompletedProcess:
    """The AWS CLI, configured as ``eval "$(lamb env)"`` configures it (or with ``key``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    creds = key or server.credentials()
    env.update(AWS_ACCESS_KEY_ID=creds["aws_access_key_id"], AWS_SECRET_ACCESS_KEY=creds["aws_secret_access_key"],
               AWS_DEFAULT_REGION=server.region, AWS_ENDPOINT_URL=server.url)
    return subprocess.run(["aws", *args], capture_output=True, text=True, timeout=120, env=env)


def cli_json(server, *args, key=None):
    r = aws(server, *args, key=key)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if r.stdout.strip() else {}


def new_user(server, policy: dict | None = None) -> tuple[str, dict]:
    name = unique("user")
    cli_json(server, "iam", "create-user", "--user-name", name)
    key = cli_json(server, "iam", "create-access-key", "--user-name", name)["AccessKey"]
    if policy is not None:
        cli_json(server, "iam", "put-user-policy", "--user-name", name, "--policy-name", "p",
                 "--policy-document", json.dumps(policy))
    return name, {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def as_client(server, key: dict, service: str = "lambda", token: str | None = None):
    return boto3.client(service, endpoint_url=server.url, region_name=server.region, config=client_config(),
                        aws_session_token=token, **key)


def error(e) -> tuple[str, str]:
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_a_user_who_may_invoke_one_function_and_nothing_else(server):
    lam = server.client()
    fn, other = unique(), unique()
    create(lam, fn, "def handler(e, c):\n    return 'hi'\n")
    create(lam, other, "def handler(e, c):\n    return 'no'\n")
    name, key = new_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": server.arn(fn)}]})
    r = aws(server, "lambda", "invoke", "--function-name", fn, "/dev/stdout", key=key)
    assert r.returncode == 0 and '"hi"' in r.stdout, r.stderr
    user_lam = as_client(server, key)
    with pytest.raises(ClientError) as e:
        user_lam.invoke(FunctionName=other)
    assert error(e) == ("AccessDeniedException",
                        f"User: arn:aws:iam::{server.account_id}:user/{name} is not authorized to perform: "
                        f"lambda:InvokeFunction on resource: {server.arn(other)} because no identity-based policy "
                        f"allows the lambda:InvokeFunction action")
    with pytest.raises(ClientError) as e:
        user_lam.get_function(FunctionName=fn)
    assert error(e)[0] == "AccessDeniedException"
    r = aws(server, "lambda", "delete-function", "--function-name", fn, key=key)
    assert r.returncode != 0 and "AccessDeniedException" in r.stderr


def test_an_explicit_deny_wins_over_an_allow(server):
    lam = server.client()
    fn = unique()
    create(lam, fn, "def handler(e, c):\n    return 1\n")
    name, key = new_user(server, ALLOW_ALL)
    cli_json(server, "iam", "put-user-policy", "--user-name", name, "--policy-name", "deny", "--policy-document",
             json.dumps({"Version": "2012-10-17", "Statement": [
                 {"Effect": "Deny", "Action": "lambda:Invoke*", "Resource": "arn:aws:lambda:*:*:function:" + fn}]}))
    user_lam = as_client(server, key)
    assert user_lam.get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn
    with pytest.raises(ClientError) as e:
        user_lam.invoke(FunctionName=fn)
    assert error(e)[1].endswith("lambda:InvokeFunction on resource: " + server.arn(fn)
                                + " with an explicit deny in an identity-based policy")


def test_managed_policies_attach_detach_and_versions(server):
    name, key = new_user(server)
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]}
    arn = cli_json(server, "iam", "create-policy", "--policy-name", unique("pol"),
                   "--policy-document", json.dumps(doc))["Policy"]["Arn"]
    user_lam = as_client(server, key)
    with pytest.raises(ClientError):
        user_lam.list_functions()
    cli_json(server, "iam", "attach-user-policy", "--user-name", name, "--policy-arn", arn)
    user_lam.list_functions()
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "lambda:*", "Resource": "*"}]}
    v2 = cli_json(server, "iam", "create-policy-version", "--policy-arn", arn, "--policy-document", json.dumps(deny),
                  "--set-as-default")["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is True
    with pytest.raises(ClientError):
        user_lam.list_functions()
    got = cli_json(server, "iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v1")["PolicyVersion"]
    assert got["Document"] == doc and got["IsDefaultVersion"] is False
    cli_json(server, "iam", "detach-user-policy", "--user-name", name, "--policy-arn", arn)
    assert cli_json(server, "iam", "list-attached-user-policies", "--user-name", name)["AttachedPolicies"] == []


def test_roles_update_and_tags(server):
    """UpdateRole and the role tag operations (what lamb deploy's in-place role updates call)."""
    iam = server.client("iam")
    name = unique("tagged")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "team", "Value": "a"}])
    iam.update_role(RoleName=name, Description="the shop's role", MaxSessionDuration=7200)
    iam.tag_role(RoleName=name, Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}])
    iam.untag_role(RoleName=name, TagKeys=["env"])
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"], got["Tags"]) == ("the shop's role", 7200, [{"Key": "team", "Value": "b"}])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "team", "Value": "b"}]
    with pytest.raises(ClientError) as e:
        iam.tag_role(RoleName=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error(e)[0] == "LimitExceeded"
    with pytest.raises(ClientError) as e:
        iam.update_role(RoleName=unique("missing"), Description="x")
    assert error(e)[0] == "NoSuchEntity"


def test_another_accounts_user_invokes_only_after_add_permission(server):
    out = subprocess.run([sys.executable, "-m", "lamb", "accounts", "create", "--data-dir", str(server.data_dir)],
                         capture_output=True, text=True, timeout=60)
    other = re.search(r"account (\d{12})", out.stdout).group(1)
    root_b = server.credentials(f"account-{other}")
    iam_b = as_client(server, root_b, "iam")
    iam_b.create_user(UserName="carol")
    iam_b.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=json.dumps(ALLOW_ALL))
    k = iam_b.create_access_key(UserName="carol")["AccessKey"]
    carol = as_client(server, {"aws_access_key_id": k["AccessKeyId"], "aws_secret_access_key": k["SecretAccessKey"]})
    assert as_client(server, {"aws_access_key_id": k["AccessKeyId"], "aws_secret_access_key": k["SecretAccessKey"]},
                     "sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{other}:user/carol"
    lam = server.client()
    fn = unique()
    create(lam, fn, "def handler(e, c):\n    return 'shared'\n")
    with pytest.raises(ClientError) as e:
        carol.invoke(FunctionName=server.arn(fn))
    assert error(e) == ("AccessDeniedException",
                        f"User: arn:aws:iam::{other}:user/carol is not authorized to perform: lambda:InvokeFunction on "
                        f"resource: {server.arn(fn)} because no resource-based policy allows the lambda:InvokeFunction action")
    lam.add_permission(FunctionName=fn, StatementId="b", Action="lambda:InvokeFunction", Principal=other)
    assert carol.invoke(FunctionName=server.arn(fn))["Payload"].read() == b'"shared"'


def test_iam_pass_role_is_enforced(server):
    lam = server.client()
    role = cli_json(server, "iam", "create-role", "--role-name", unique("role"),
                    "--assume-role-policy-document", json.dumps(TRUST_LAMBDA))["Role"]["Arn"]
    _, key = new_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]})
    user_lam = as_client(server, key)
    from .conftest import make_zip
    code = {"ZipFile": make_zip({"fn.py": "def handler(e, c):\n    return 1\n"})}
    with pytest.raises(ClientError) as e:
        user_lam.create_function(FunctionName=unique(), Runtime="python3.12", Role=role, Handler="fn.handler", Code=code)
    assert error(e)[1].endswith(f"iam:PassRole on resource: {role} because no identity-based policy allows the "
                                f"iam:PassRole action")
    name, key2 = new_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role}]})
    as_client(server, key2).create_function(FunctionName=unique(), Runtime="python3.12", Role=role,
                                            Handler="fn.handler", Code=code)


def test_assume_role_checks_the_trust_policy_and_sessions_act_as_the_role(server):
    name, key = new_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
    user_arn = f"arn:aws:iam::{server.account_id}:user/{name}"
    trusted = cli_json(server, "iam", "create-role", "--role-name", unique("role"), "--assume-role-policy-document",
                       json.dumps({"Version": "2012-10-17", "Statement": [
                           {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}))["Role"]
    cli_json(server, "iam", "put-role-policy", "--role-name", trusted["RoleName"], "--policy-name", "list",
             "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": [
                 {"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]}))
    untrusted = cli_json(server, "iam", "create-role", "--role-name", unique("role"),
                         "--assume-role-policy-document", json.dumps(TRUST_LAMBDA))["Role"]
    sts = as_client(server, key, "sts")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=untrusted["Arn"], RoleSessionName="s1")
    assert error(e) == ("AccessDenied", f"User: {user_arn} is not authorized to perform: sts:AssumeRole on resource: "
                                        f"{untrusted['Arn']}")
    creds = sts.assume_role(RoleArn=trusted["Arn"], RoleSessionName="sess")["Credentials"]
    session = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"]}
    who = as_client(server, session, "sts", creds["SessionToken"]).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{server.account_id}:assumed-role/{trusted['RoleName']}/sess"
    role_lam = as_client(server, session, token=creds["SessionToken"])
    role_lam.list_functions()
    with pytest.raises(ClientError) as e:
        as_client(server, session).list_functions()  # without its token the session key is not valid
    assert error(e)[0] == "UnrecognizedClientException"
    capped = sts.assume_role(RoleArn=trusted["Arn"], RoleSessionName="capped", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:GetAccountSettings", "Resource": "*"}]}))
    c = capped["Credentials"]
    capped_lam = as_client(server, {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"]},
                           token=c["SessionToken"])
    with pytest.raises(ClientError) as e:  # the role allows it, the session policy does not
        capped_lam.list_functions()
    assert error(e)[1].endswith("because no session policy allows the lambda:ListFunctions action")
    tok = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert as_client(server, {"aws_access_key_id": tok["AccessKeyId"], "aws_secret_access_key": tok["SecretAccessKey"]},
                     "sts", tok["SessionToken"]).get_caller_identity()["Arn"] == user_arn


def test_a_role_lambda_cannot_assume_is_refused(server):
    lam = server.client()
    role = cli_json(server, "iam", "create-role", "--role-name", unique("role"), "--assume-role-policy-document",
                    json.dumps({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    for arn in (role["Role"]["Arn"], f"arn:aws:iam::{server.account_id}:role/missing"):
        with pytest.raises(ClientError) as e:
            create(lam, unique(), "def handler(e, c):\n    return 1\n", Role=arn)
        assert error(e) == ("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")


def test_iam_errors_are_iams(server):
    r = aws(server, "iam", "get-role", "--role-name", "nope")
    assert r.returncode != 0 and "(NoSuchEntity)" in r.stderr and "The role with name nope cannot be found." in r.stderr
    name, _ = new_user(server)
    r = aws(server, "iam", "create-user", "--user-name", name)
    assert "(EntityAlreadyExists)" in r.stderr and f"User with name {name} already exists." in r.stderr
    r = aws(server, "iam", "put-user-policy", "--user-name", name, "--policy-name", "x", "--policy-document", "{nope")
    assert "(MalformedPolicyDocument)" in r.stderr


def url_status(server: LambServer, url_id: str, key: dict, token: str | None = None) -> int:
    """GET an AWS_IAM function URL signed with ``key`` (and a session's ``token``): the status it answers."""
    import urllib.error
    import urllib.request
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest("GET", f"{server.url}/_lamb/url/{url_id}/")
    SigV4Auth(Credentials(key["aws_access_key_id"], key["aws_secret_access_key"], token), "lambda",
              server.region).add_auth(req)
    try:
        with urllib.request.urlopen(urllib.request.Request(req.url, headers=dict(req.headers.items())), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def aws_iam_url(server: LambServer) -> str:
    """A new function with an AWS_IAM function URL answering 200: the URL's id."""
    lam = server.client()
    fn = unique()
    create(lam, fn, "def handler(e, c):\n    return {'statusCode': 200, 'body': 'hello'}\n")
    url = lam.create_function_url_config(FunctionName=fn, AuthType="AWS_IAM")["FunctionUrl"]
    return url.split("//", 1)[1].split(".", 1)[0]


def test_aws_iam_function_urls_take_lambs_identities(server):
    """An AWS_IAM URL accepts keys Lamb issued and applies the signer's identity policies."""
    url_id = aws_iam_url(server)
    allowed_name, allowed = new_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"], "Resource": "*"}]})
    _, plain = new_user(server)

    def call(key: dict) -> int:
        return url_status(server, url_id, key)

    assert call(allowed) == 200
    assert call(plain) == 403  # same account, no identity policy, no resource policy
