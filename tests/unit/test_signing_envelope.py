"""Lamb's signed-zip format (lamb.signing.envelope): an ECDSA P-384/SHA-384 envelope in the zip comment."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from lamb.signing import envelope


def a_zip(comment: bytes = b"", **files: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (files or {"fn.py": "def handler(e, c):\n    return 1\n"}).items():
            z.writestr(name, text)
        z.comment = comment
    return buf.getvalue()


def signed(data: bytes, key=None, **kw) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = key or envelope.new_key()
    args = dict(profile_version_arn="arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdefghij",
                job_arn="arn:aws:signer:us-east-1:000000000000:/signing-jobs/j", signed_at=100, expires_at=200)
    args.update(kw)
    return envelope.sign(data, key, **args), key


def test_a_signed_zip_is_the_zip_plus_a_comment_and_unpacks_the_same():
    data = a_zip()
    out, key = signed(data)
    assert out.startswith(data[:-2])  # the payload's bytes, then the comment length and the comment
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        assert z.namelist() == ["fn.py"] and z.testzip() is None
        assert z.comment.startswith(envelope.MAGIC)
    payload, env = envelope.read(out)
    assert payload == data
    assert env.signed_at == 100 and env.expires_at == 200 and env.job_arn.endswith("/j")
    assert envelope.intact(payload, env, key.public_key())


def test_the_envelope_is_verifiable_with_plain_ecdsa():
    """What docs/architecture.md promises: base64 JSON after ``LAMBSIG1 ``; the signature covers the
    sorted, compact JSON of every other member; the payload is the zip with an empty comment."""
    import hashlib

    data = a_zip()
    out, key = signed(data)
    comment = zipfile.ZipFile(io.BytesIO(out)).comment
    doc = json.loads(base64.b64decode(comment[len(b"LAMBSIG1 "):]))
    sig = base64.b64decode(doc.pop("signature"))
    assert doc["format"] == "lamb-signed-zip/1" and doc["algorithm"] == "ECDSA-P384-SHA384"
    assert doc["payloadSha384"] == hashlib.sha384(data).hexdigest()
    key.public_key().verify(sig, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode(),
                            ec.ECDSA(hashes.SHA384()))


def test_signing_again_replaces_an_old_comment():
    data = a_zip(comment=b"hello")
    once, key = signed(data)
    twice, _ = signed(once, key, job_arn="arn:aws:signer:us-east-1:000000000000:/signing-jobs/k")
    payload, env = envelope.read(twice)
    assert env.job_arn.endswith("/k") and envelope.intact(payload, env, key.public_key())
    assert payload == envelope.split(data)[0]


def test_a_changed_byte_anywhere_fails_integrity():
    out, key = signed(a_zip())
    payload_len = len(out) - len(zipfile.ZipFile(io.BytesIO(out)).comment)
    for i in (0, 40, payload_len // 2, payload_len - 5):
        bad = out[:i] + bytes([out[i] ^ 1]) + out[i + 1:]
        try:
            payload, env = envelope.read(bad)
        except envelope.NotAZip:
            continue  # the byte was in the end record: no longer a zip at all
        assert not envelope.intact(payload, env, key.public_key())


def test_a_signature_by_another_key_or_with_changed_claims_fails():
    out, key = signed(a_zip())
    payload, env = envelope.read(out)
    assert not envelope.intact(payload, env, envelope.new_key().public_key())
    forged = envelope.Envelope(env.payload_sha384, env.profile_version_arn, env.job_arn, env.signed_at,
                               env.expires_at + 10 ** 9, env.signature)
    assert not envelope.intact(payload, forged, key.public_key())


def test_unsigned_foreign_comments_and_malformed_envelopes():
    assert envelope.read(a_zip(comment=b"built by CI"))[1] is None
    assert envelope.read(a_zip())[1] is None
    with pytest.raises(envelope.Malformed):
        envelope.read(a_zip(comment=envelope.MAGIC + b"not base64!"))
    with pytest.raises(envelope.Malformed):
        envelope.read(a_zip(comment=envelope.MAGIC + base64.b64encode(b'{"format": "other"}')))
    with pytest.raises(envelope.NotAZip):
        envelope.read(b"definitely not a zip")


def test_keys_round_trip_through_pem():
    key = envelope.new_key()
    again = envelope.load_private(envelope.private_pem(key))
    assert envelope.public_pem(again) == envelope.public_pem(key)
    assert isinstance(envelope.load_public(envelope.public_pem(key)), ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp384r1"
