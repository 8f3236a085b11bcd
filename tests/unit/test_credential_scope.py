"""The region of a request from its SigV4 credential scope (``lamb.auth.credential_scope``)."""

from __future__ import annotations

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from lamb.auth.credential_scope import region_of


def signed(region: str, presign: bool = False) -> tuple[dict, str]:
    creds = botocore.credentials.Credentials("AKIDEXAMPLE", "secret")
    req = botocore.awsrequest.AWSRequest("GET", "http://127.0.0.1:9000/2015-03-31/functions/")
    if presign:
        botocore.auth.SigV4QueryAuth(creds, "lambda", region, expires=60).add_auth(req)
        return {}, req.url.split("?", 1)[1]
    botocore.auth.SigV4Auth(creds, "lambda", region).add_auth(req)
    return {k.lower(): v for k, v in req.headers.items()}, ""


def test_header_and_presigned_scopes_name_the_region():
    assert region_of(*signed("eu-west-1")) == "eu-west-1"
    assert region_of(*signed("us-gov-west-1")) == "us-gov-west-1"
    assert region_of(*signed("ap-southeast-2", presign=True)) == "ap-southeast-2"


def test_unsigned_or_odd_scopes_name_none():
    assert region_of({}, "") is None
    assert region_of({"authorization": "Bearer x"}, "") is None
    assert region_of({"authorization": "AWS4-HMAC-SHA256 Credential=AK/20260101/../lambda/aws4_request, S=x"}, "") is None
    assert region_of({"authorization": "AWS4-HMAC-SHA256 Credential=AK/20260101/lambda/aws4_request"}, "") is None
