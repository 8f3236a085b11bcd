"""SigV4 verification (lamb.auth.sigv4) against signatures made by botocore's own signer."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lamb.auth.sigv4 import SignatureError, verify

KEYS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def signed(method="POST", url="http://abc.lambda-url.us-east-1.localhost:9000/a%20b/c?x=1&b=two%2Fthree&a=",
           body=b'{"k": "v"}', service="lambda", region="us-east-1", key="AKIDEXAMPLE", headers=None, presign=False,
           token=None):
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {"Content-Type": "application/json"})
    creds = Credentials(key, KEYS.get(key, "wrong-secret"), token)
    (SigV4QueryAuth(creds, service, region, expires=60) if presign else SigV4Auth(creds, service, region)).add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers.setdefault("host", parts.netloc)
    return method, parts.path, parts.query, headers, body


def check(*args, **kw):
    return verify(*args, KEYS.get, "lambda", **kw)


def test_a_botocore_signature_verifies():
    out = check(*signed())
    assert (out.access_key, out.region, out.service) == ("AKIDEXAMPLE", "us-east-1", "lambda")
    assert check(*signed(method="GET", url="http://h.localhost/", body=b"")).access_key == "AKIDEXAMPLE"


def test_session_token_is_reported():
    assert check(*signed(token="session-token")).session_token == "session-token"


def test_presigned_urls_verify_and_expire():
    args = signed(method="GET", body=b"", presign=True)
    assert "authorization" not in args[3]
    assert check(*args).access_key == "AKIDEXAMPLE"
    with pytest.raises(SignatureError) as e:
        check(*args, now=time.time() + 120)
    assert e.value.code == "AccessDeniedException"


def test_tampering_is_caught():
    method, path, query, headers, body = signed()
    for changed in ((method, path, query, headers, b'{"k": "w"}'), ("PUT", path, query, headers, body),
                    (method, "/other", query, headers, body), (method, path, query + "&z=1", headers, body),
                    (method, path, query, {**headers, "host": "evil.localhost"}, body)):
        with pytest.raises(SignatureError) as e:
            check(*changed)
        assert e.value.code == "InvalidSignatureException"
        assert e.value.message.startswith("The request signature we calculated does not match")


def test_unknown_key_wrong_secret_wrong_service_and_missing():
    with pytest.raises(SignatureError) as e:
        check(*signed(key="AKIDUNKNOWN"))
    assert (e.value.code, e.value.message) == ("UnrecognizedClientException",
                                               "The security token included in the request is invalid.")
    KEYS["AKIDOTHER"] = "right"
    try:
        args = signed(key="AKIDOTHER")  # signed with the right secret
        KEYS["AKIDOTHER"] = "changed"
        with pytest.raises(SignatureError) as e:
            check(*args)
        assert e.value.code == "InvalidSignatureException"
    finally:
        KEYS.pop("AKIDOTHER")
    with pytest.raises(SignatureError) as e:
        check(*signed(service="s3"))
    assert e.value.code == "InvalidSignatureException"
    with pytest.raises(SignatureError) as e:
        check("GET", "/", "", {"host": "h"}, b"")
    assert (e.value.code, e.value.message) == ("MissingAuthenticationTokenException", "Missing Authentication Token")


def test_old_signatures_expire():
    args = signed()
    assert check(*args, now=time.time() + 4 * 60)  # AWS Lambda allows 5 minutes
    with pytest.raises(SignatureError) as e:
        check(*args, now=time.time() + 6 * 60)
    assert e.value.code == "InvalidSignatureException" and e.value.message.startswith("Signature expired: ")


def test_dot_segments_and_empty_segments_are_normalized_as_the_signer_does():
    """botocore signs ``/a/./b/../c//d`` as ``/a/c/d`` (RFC 3986, AWS's rule for non-S3 services)."""
    for path in ("/2015-03-31/functions/../policy", "/2017-03-31/tags/.", "/a/./b/../c//d/", "/x/.."):
        assert check(*signed(method="GET", url=f"http://h.localhost{path}", body=b"")).access_key == "AKIDEXAMPLE"


def test_a_non_ascii_header_value_verifies_as_the_bytes_sent():
    method, path, query, headers, body = signed(headers={"Content-Type": "application/json",
                                                         "X-Amz-Client-Context": "caf\u00e9 \u2603"})
    # what the HTTP server hands over: the UTF-8 bytes sent, decoded as latin-1
    headers["x-amz-client-context"] = headers["x-amz-client-context"].encode().decode("latin-1")
    assert check(method, path, query, headers, body).access_key == "AKIDEXAMPLE"


def test_a_replayed_signature_with_another_body_and_a_claimed_hash_is_refused():
    """The payload hash is the body's own: claiming the signed body's hash in
    ``x-amz-content-sha256`` does not make another body pass."""
    import hashlib

    method, path, query, headers, body = signed()
    forged = {**headers, "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    assert check(method, path, query, forged, body).access_key == "AKIDEXAMPLE"  # true claim: fine
    with pytest.raises(SignatureError) as e:
        check(method, path, query, forged, b'{"k": "evil"}')
    assert e.value.code == "InvalidSignatureException"


def test_unsigned_payload_verifies_when_it_was_signed_so():
    method, path, query, headers, body = signed(headers={"Content-Type": "application/json",
                                                          "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert check(method, path, query, headers, b"any body").access_key == "AKIDEXAMPLE"


def test_the_cached_credential_part_never_stands_for_the_signature():
    """The credential and signed-header list are parsed once per header shape; every request's
    signature is still checked, and odd shapes get the same answers as before."""
    method, path, query, headers, body = signed()
    assert check(method, path, query, headers, body).access_key == "AKIDEXAMPLE"
    auth = headers["authorization"]
    head, _, sig = auth.rpartition("Signature=")
    for bad in (head + "Signature=" + ("0" if sig[0] != "0" else "1") + sig[1:],  # one digit off
                head + "Signature=" + sig[:-1],  # one digit short
                head + "Signature=" + sig.upper()):  # not lower-case hex: no signature at all
        with pytest.raises(SignatureError) as e:
            check(method, path, query, {**headers, "authorization": bad}, body)
        assert e.value.code in ("InvalidSignatureException", "IncompleteSignatureException"), bad
    # text after the signature is ignored, as it always was
    assert check(method, path, query, {**headers, "authorization": auth + ", Extra=1"}, body).access_key == "AKIDEXAMPLE"
    with pytest.raises(SignatureError) as e:
        check(method, path, query, {**headers, "authorization": auth.replace("/aws4_request", "/aws5_request")}, body)
    assert e.value.code == "IncompleteSignatureException" and "valid region" in e.value.message
