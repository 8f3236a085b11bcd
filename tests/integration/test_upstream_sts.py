"""Upstream STS (issue 17): with LAMB_UPSTREAM_STS=on and moto as the STS, a function gets
its role's credentials from there and reads an S3 object with them, never Lamb's keys."""

from __future__ import annotations

import json

import pytest

from .async_support import MotoServer
from .conftest import DUMMY_CREDS, LambServer, create, unique

TRUST = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}

CODE = '''
import os
import boto3

def handler(event, context):
    body = boto3.client("s3").get_object(Bucket=event["bucket"], Key="k")["Body"].read().decode()
    return {"body": body, "key": os.environ["AWS_ACCESS_KEY_ID"], "token": bool(os.environ.get("AWS_SESSION_TOKEN")),
            "arn": boto3.client("sts").get_caller_identity()["Arn"]}
'''


@pytest.fixture
def moto():
    m = MotoServer()
    try:
        yield m
    finally:
        m.stop()


def test_a_function_reads_s3_with_its_roles_credentials_from_upstream_sts(moto):
    iam = moto.client("iam")
    role = iam.create_role(RoleName=unique("exec"), AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    bucket = unique("bucket")
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"from s3")
    server = LambServer(env={**moto.env(), "LAMB_UPSTREAM_STS": "on"}).start()
    try:
        lam = server.client()
        fn = unique()
        create(lam, fn, CODE, Role=role["Arn"], Timeout=30)
        out = json.loads(lam.invoke(FunctionName=fn, Payload=json.dumps({"bucket": bucket}))["Payload"].read())
        assert out["body"] == "from s3"
        assert out["key"] != DUMMY_CREDS["aws_access_key_id"] and out["token"]
        assert out["arn"] == f"arn:aws:sts::{moto.account}:assumed-role/{role['RoleName']}/{fn}"
    finally:
        server.close()
