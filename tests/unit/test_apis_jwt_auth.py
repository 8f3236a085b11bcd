"""JWT verification for HTTP API authorizers (lamb.apis.jwt_auth), with keys served by a fake fetch."""

import asyncio
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lamb.apis.authorizers import Refused
from lamb.apis.jwt_auth import JwtAuthorizers, issuer_allowed, token_scopes

ISSUER = "https://idp.example.com"


def test_issuers_and_scopes():
    assert issuer_allowed("https://x.example") and issuer_allowed("http://127.0.0.1:9000")
    assert not issuer_allowed("http://x.example")
    assert token_scopes({"scope": "a b"}) == ["a", "b"] and token_scopes({"scp": ["c"]}) == ["c"]


def test_verify_and_key_cache():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "k"
    fetched = []

    def fetch(url):
        fetched.append(url)
        return {"jwks_uri": ISSUER + "/keys"} if url.endswith("openid-configuration") else {"keys": [jwk]}

    auth = JwtAuthorizers(fetch=fetch)
    conf = {"Issuer": ISSUER, "Audience": ["app"]}
    good = jwt.encode({"iss": ISSUER, "client_id": "app", "exp": int(time.time()) + 60}, key, "RS256",
                      headers={"kid": "k"})
    out = asyncio.run(auth.verify(good, conf, []))
    assert out.claims["client_id"] == "app"
    asyncio.run(auth.verify(good, conf, []))
    assert len(fetched) == 2  # discovery and keys, once
    with pytest.raises(Refused) as e:
        asyncio.run(auth.verify(good, conf, ["admin"]))
    assert e.value.status == 403
    with pytest.raises(Refused) as e:
        asyncio.run(auth.verify(good, {"Issuer": ISSUER, "Audience": ["other"]}, []))
    assert "valid audience" in e.value.www_authenticate
