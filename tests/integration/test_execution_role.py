"""Execution-role credentials (issue 17): every environment gets temporary credentials of its
function's role, never Lamb's own keys; its calls back to Lamb are authorized as that role."""

from __future__ import annotations

import json

import pytest

from .conftest import LambServer, create, unique

TRUST_LAMBDA = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LAMBS_OWN = {"AWS_ACCESS_KEY_ID": "AKIALAMBSOWNKEY00000", "AWS_SECRET_ACCESS_KEY": "lambs-own-secret"}

CODE = '''
import json, os
import boto3

def handler(event, context):
    out = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                          "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_LAMBDA")}
    out["Arn"] = boto3.client("sts").get_caller_identity()["Arn"]
    lam = boto3.client("lambda")
    out["listed"] = len(lam.list_functions()["Functions"]) > 0
    try:
        lam.get_function(FunctionName=context.function_name)
        out["get"] = "allowed"
    except lam.exceptions.ClientError as e:
        out["get"] = e.response["Error"]["Code"]
    return out
'''


@pytest.fixture(scope="module")
def server():
    s = LambServer(env=LAMBS_OWN).start()
    try:
        yield s
    finally:
        s.close()


def test_a_function_acts_as_its_role_and_never_holds_lambs_keys(server):
    iam = server.client("iam")
    role = iam.create_role(RoleName=unique("exec"), AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]}))
    lam = server.client()
    fn = unique()
    create(lam, fn, CODE, Role=role["Arn"], Timeout=30)
    out = json.loads(lam.invoke(FunctionName=fn)["Payload"].read())
    assert out["Arn"] == f"arn:aws:sts::{server.account_id}:assumed-role/{role['RoleName']}/{fn}"
    assert out["AWS_ACCESS_KEY_ID"].startswith("ASIA") and out["AWS_SESSION_TOKEN"]
    assert LAMBS_OWN["AWS_ACCESS_KEY_ID"] != out["AWS_ACCESS_KEY_ID"]
    assert LAMBS_OWN["AWS_SECRET_ACCESS_KEY"] != out["AWS_SECRET_ACCESS_KEY"]
    root = server.credentials()
    assert root["aws_access_key_id"] != out["AWS_ACCESS_KEY_ID"]
    assert out["AWS_ENDPOINT_URL_STS"] == out["AWS_ENDPOINT_URL_IAM"] == out["AWS_ENDPOINT_URL_LAMBDA"] == server.url
    assert out["listed"] is True  # the role's policy allows it
    assert out["get"] == "AccessDeniedException"  # and nothing else
