"""Cognito user pool authorizers (lamb.apis.cognito_auth), with a pool's keys served by a fake fetch."""

import asyncio
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lamb.apis.authorizers import Refused
from lamb.apis.cognito_auth import CognitoAuthorizers, issuer_of
from lamb.apis.jwt_auth import JwtAuthorizers

POOL = "us-west-2_abc"
ARN = f"arn:aws:cognito-idp:us-west-2:123456789012:userpool/{POOL}"
ISSUER = f"https://cognito-idp.us-west-2.amazonaws.com/{POOL}"
ENDPOINT = "http://127.0.0.1:5000"


def test_issuer_of_a_pool_arn():
    assert issuer_of(ARN) == ("us-west-2", POOL, ISSUER)
    assert issuer_of("arn:aws:iam::123456789012:role/x") is None


def test_token_from_the_identity_source():
    auth = {"identitySource": "method.request.header.X-Token", "identityValidationExpression": "[A-Za-z0-9.]+"}
    assert CognitoAuthorizers.token(auth, {"x-token": "Bearer a.b.c"}) == "a.b.c"
    for headers in ({}, {"x-token": " "}, {"x-token": "a-b"}):
        with pytest.raises(Refused) as e:
            CognitoAuthorizers.token(auth, headers)
        assert (e.value.status, e.value.message) == (401, "Unauthorized")


def test_verify_tokens_of_the_pool():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = dict(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), kid="k1")
    fetched = []

    def fetch(url):
        fetched.append(url)
        return {"keys": [jwk]}

    cognito = CognitoAuthorizers(JwtAuthorizers(fetch=fetch), lambda region: ENDPOINT)
    auth = {"id": "a1", "providerARNs": [ARN]}

    def token(**claims):
        base = {"iss": ISSUER, "exp": int(time.time()) + 60, "token_use": "id", "cognito:username": "ann",
                "email_verified": True}
        return jwt.encode(dict(base, **claims), key, "RS256", headers={"kid": "k1"})

    def verify(tok, scopes=()):
        return asyncio.run(cognito.verify(auth, tok, list(scopes)))

    out = verify(token())
    assert out.for_event("1.0") == {"claims": {**out.claims}}
    assert out.claims["cognito:username"] == "ann" and out.claims["email_verified"] == "true"
    assert fetched == [f"{ENDPOINT}/{POOL}/.well-known/jwks.json"]
    assert verify(token(token_use="access", scope="orders/read aws.cognito.signin.user.admin"),
                  ["orders/read"]).claims["token_use"] == "access"
    for bad, scopes in ((token(exp=int(time.time()) - 10), ()),           # expired
                        (token(iss=ISSUER + "x"), ()),                     # another pool
                        (token(token_use="access"), ()),                    # an access token without scopes
                        (token(), ["orders/read"]),                         # an ID token where scopes are asked
                        (token(token_use="access", scope="other"), ["orders/read"]),  # without the scope
                        (token()[:-3] + "AAA", ()),                         # a bad signature
                        ("garbage", ())):
        with pytest.raises(Refused) as e:
            verify(bad, scopes)
        assert (e.value.status, e.value.message) == (401, "Unauthorized")
