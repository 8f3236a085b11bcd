"""apis/iam_auth.py: a SigV4 signature for execute-api verified against the signer's key, and the
signer's identity policies deciding execute-api:Invoke."""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lamb.apis import iam_auth
from lamb.urls.serve import Signer

ARN = "arn:aws:iam::123456789012:user/ann"
METHOD = "arn:aws:execute-api:us-east-1:123456789012:abc/v1/GET/pets"


def signed(secret: str = "s3cret", service: str = "execute-api") -> dict:
    req = AWSRequest("GET", "http://abc.execute-api.us-east-1.localhost/v1/pets?x=1")
    SigV4Auth(Credentials("AKIAANN", secret), service, "us-east-1").add_auth(req)
    return {k.lower(): v for k, v in req.headers.items()} | {"host": "abc.execute-api.us-east-1.localhost"}


def keys(policies=None):
    return {"AKIAANN": Signer("s3cret", ARN, policies)}.get


def test_a_good_signature_names_the_caller():
    caller = iam_auth.verify("GET", "/v1/pets", "x=1", signed(), b"", keys([]))
    assert caller == iam_auth.Caller("AKIAANN", ARN, "123456789012", [])
    assert caller.identity() == {"accessKey": "AKIAANN", "accountId": "123456789012", "caller": "ann", "user": "ann",
                                 "userArn": ARN}


@pytest.mark.parametrize("headers, signer, message", [
    (dict, keys(), "Missing Authentication Token"),
    # signed when the test runs, not when the module is collected (a signature lives 5 minutes)
    (signed, {}.get, "The security token included in the request is invalid."),
])
def test_refusals(headers, signer, message):
    with pytest.raises(iam_auth.Refused) as e:
        iam_auth.verify("GET", "/v1/pets", "x=1", headers(), b"", signer)
    assert e.value.body == {"message": message}


def test_a_wrong_secret_or_service_is_a_signature_error():
    for headers in (signed("wrong"), signed(service="lambda")):
        with pytest.raises(iam_auth.Refused) as e:
            iam_auth.verify("GET", "/v1/pets", "x=1", headers, b"", keys())
        assert e.value.error_type != "UnrecognizedClientException"


def test_identity_policies_decide():
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                     "Resource": "arn:aws:execute-api:*:*:abc/*/GET/*"}]}
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "execute-api:*", "Resource": "*"}]}
    iam_auth.authorize(iam_auth.Caller("k", ARN, "123456789012", [allow]), METHOD)
    iam_auth.authorize(iam_auth.Caller("k", "arn:aws:iam::123456789012:root", "123456789012", None), METHOD)
    with pytest.raises(iam_auth.Refused) as e:
        iam_auth.authorize(iam_auth.Caller("k", ARN, "123456789012", []), METHOD)
    assert e.value.body == {"Message": f"User: {ARN} is not authorized to perform: execute-api:Invoke on resource: {METHOD}"}
    with pytest.raises(iam_auth.Refused) as e:
        iam_auth.authorize(iam_auth.Caller("k", ARN, "123456789012", [allow, deny]), METHOD)
    assert e.value.body["Message"].endswith("with an explicit deny")
