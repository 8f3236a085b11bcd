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


ALLOW, DENY, SILENT = iam_auth.Decision.ALLOW, iam_auth.Decision.DENY, iam_auth.Decision.IMPLICIT_DENY
SESSION = "arn:aws:sts::123456789012:assumed-role/app/s1"
ROLE = "arn:aws:iam::123456789012:role/app"


def identity(effect: str | None) -> list:
    """Identity policies (or session policies, or a boundary) that allow, deny or say nothing."""
    return [] if effect is None else [{"Statement": [{"Effect": effect, "Action": "execute-api:Invoke", "Resource": "*"}]}]


def resource(effect: str | None, principal: str = "*") -> dict:
    """An API's resource policy that allows, denies or says nothing about the method."""
    return {"Statement": [{"Effect": effect or "Allow", "Principal": {"AWS": principal}, "Action": "execute-api:Invoke",
                           "Resource": METHOD if effect else "arn:aws:execute-api:us-east-1:123456789012:other/*"}]}


def test_iam_callers_with_a_resource_policy_tables_a_and_b():
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html"""
    def table(account: str) -> list[list]:
        return [[iam_auth.decision(iam_auth.Caller("k", ARN, "123456789012", identity(i)), METHOD,
                                   policy=resource(r), api_account=account)
                 for r in ("Allow", None, "Deny")] for i in ("Allow", None, "Deny")]

    assert table("123456789012") == [[ALLOW, ALLOW, DENY], [ALLOW, SILENT, DENY], [DENY, DENY, DENY]]  # Table A
    assert table("210987654321") == [[ALLOW, SILENT, DENY], [SILENT, SILENT, DENY], [DENY, DENY, DENY]]  # Table B


@pytest.mark.parametrize("kind", ["session", "boundary"])
def test_session_policies_and_boundaries_cap_the_identity_policies(kind):
    def caller(cap):
        return iam_auth.Caller("k", SESSION, "123456789012", identity("Allow"), **{kind: cap})

    assert iam_auth.decision(caller(identity("Allow")), METHOD) is ALLOW
    assert iam_auth.decision(caller(identity(None)), METHOD) is SILENT  # the cap does not allow it
    assert iam_auth.decision(caller(identity("Deny")), METHOD) is DENY
    with pytest.raises(iam_auth.Refused) as e:
        iam_auth.authorize(caller(identity(None)), METHOD)
    assert e.value.body == {"Message": f"User: {SESSION} is not authorized to perform: execute-api:Invoke on "
                                       f"resource: {METHOD}"}
    # A resource policy of the API's account that names the session itself stands without the cap; one that
    # names only the session's role is capped too (services/authorize.names_caller).
    api = "123456789012"
    assert iam_auth.decision(caller(identity(None)), METHOD, policy=resource("Allow", SESSION), api_account=api) is ALLOW
    assert iam_auth.decision(caller(identity(None)), METHOD, policy=resource("Allow", ROLE), api_account=api) is SILENT
    assert iam_auth.decision(caller(identity("Deny")), METHOD, policy=resource("Allow", SESSION),
                             api_account=api) is DENY


def test_a_signers_session_policies_and_boundary_reach_the_caller():
    cap, boundary = identity(None), identity("Allow")
    signer = {"AKIAANN": Signer("s3cret", ARN, [], None, boundary, cap)}.get
    caller = iam_auth.verify("GET", "/v1/pets", "x=1", signed(), b"", signer)
    assert (caller.boundary, caller.session) == (boundary, cap)
