"""Lamb's signed-zip format: an ECDSA P-384 / SHA-384 signature in the zip's archive comment.

AWS Signer's ``AWSLambda-SHA384-ECDSA`` platform signs Lambda deployment packages, but
AWS does not publish where the signature lives in the signed zip. Lamb's format is its
own, documented here and in docs/architecture.md, and verifiable with any ECDSA library:

* The **payload** is the zip with an empty archive comment: the same bytes, with the
  end-of-central-directory record's comment-length field set to 0 and the comment
  removed. A zip that is signed again is stripped of its old comment first.
* The **signed zip** is the payload with the archive comment set to
  ``LAMBSIG1 `` followed by the base64 of a JSON object (the envelope)::

      {"format": "lamb-signed-zip/1", "algorithm": "ECDSA-P384-SHA384",
       "payloadSha384": "<hex SHA-384 of the payload>",
       "profileVersionArn": "...", "jobArn": "...", "signedAt": <epoch s>, "expiresAt": <epoch s>,
       "signature": "<base64 DER ECDSA signature>"}

  ``signature`` signs the UTF-8 of the envelope without ``signature``, serialised with
  sorted keys and no whitespace (``json.dumps(..., sort_keys=True, separators=(",", ":"))``),
  with ECDSA over P-384 and SHA-384.

An archive comment is not an entry, so nothing is unpacked into /var/task or /opt, and
every zip tool keeps reading the package. Changing any byte of the entries or the
central directory changes the payload's hash (``Integrity`` fails); re-zipping drops
the comment (the package is unsigned).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

MAGIC = b"LAMBSIG1 "
FORMAT = "lamb-signed-zip/1"
ALGORITHM = "ECDSA-P384-SHA384"
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22  # the record without its comment
_COMMENT_MAX = 0xFFFF


class NotAZip(ValueError):
    """No end-of-central-directory record: the bytes are not a zip."""


@dataclass(frozen=True)
class Envelope:
    """What a signed zip says about its signature (not yet trusted)."""

    payload_sha384: str
    profile_version_arn: str
    job_arn: str
    signed_at: int
    expires_at: int
    signature: bytes

    def claims(self) -> dict:
        return {"format": FORMAT, "algorithm": ALGORITHM, "payloadSha384": self.payload_sha384,
                "profileVersionArn": self.profile_version_arn, "jobArn": self.job_arn,
                "signedAt": self.signed_at, "expiresAt": self.expires_at}

    def signed_bytes(self) -> bytes:
        return json.dumps(self.claims(), sort_keys=True, separators=(",", ":")).encode()


class Malformed(ValueError):
    """The archive comment says Lamb signed the zip but its envelope cannot be read."""


def _eocd_offset(data: bytes) -> int:
    """Where the end-of-central-directory record starts (its comment runs to the end)."""
    lowest = max(0, len(data) - _EOCD_SIZE - _COMMENT_MAX)
    i = data.rfind(_EOCD, lowest)
    while i >= 0:
        if len(data) >= i + _EOCD_SIZE:
            (length,) = struct.unpack_from("<H", data, i + 20)
            if i + _EOCD_SIZE + length == len(data):
                return i
        i = data.rfind(_EOCD, lowest, i)
    raise NotAZip("not a zip file (no end-of-central-directory record)")


def split(data: bytes) -> tuple[bytes, bytes]:
    """``(payload, comment)``: the zip with an empty comment, and the comment it had."""
    i = _eocd_offset(data)
    comment = data[i + _EOCD_SIZE:]
    payload = data[:i + 20] + b"\x00\x00"
    return payload, comment


def read(data: bytes) -> tuple[bytes, Envelope | None]:
    """The payload and the envelope of a zip (None: not signed by Lamb's format).
    Raises ``NotAZip`` or ``Malformed``."""
    payload, comment = split(data)
    if not comment.startswith(MAGIC):
        return payload, None
    try:
        doc = json.loads(base64.b64decode(comment[len(MAGIC):], validate=True))
        if doc.get("format") != FORMAT or doc.get("algorithm") != ALGORITHM:
            raise Malformed(f"unknown signature format {doc.get('format')!r} / {doc.get('algorithm')!r}")
        env = Envelope(str(doc["payloadSha384"]), str(doc["profileVersionArn"]), str(doc["jobArn"]),
                       int(doc["signedAt"]), int(doc["expiresAt"]), base64.b64decode(doc["signature"], validate=True))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
        if isinstance(e, Malformed):
            raise
        raise Malformed(f"the signature envelope cannot be read: {e}") from e
    return payload, env


def payload_digest(payload: bytes) -> str:
    return hashlib.sha384(payload).hexdigest()


def sign(data: bytes, key: ec.EllipticCurvePrivateKey, *, profile_version_arn: str, job_arn: str,
         signed_at: int, expires_at: int) -> bytes:
    """The signed zip of ``data`` (any old archive comment replaced)."""
    payload, _ = split(data)
    unsigned = Envelope(payload_digest(payload), profile_version_arn, job_arn, signed_at, expires_at, b"")
    signature = key.sign(unsigned.signed_bytes(), ec.ECDSA(hashes.SHA384()))
    doc = dict(unsigned.claims(), signature=base64.b64encode(signature).decode())
    comment = MAGIC + base64.b64encode(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    if len(comment) > _COMMENT_MAX:  # unreachable with ARNs of AWS's lengths
        raise ValueError("signature envelope longer than a zip comment")
    return payload[:-2] + struct.pack("<H", len(comment)) + comment


def intact(payload: bytes, env: Envelope, public_key: ec.EllipticCurvePublicKey) -> bool:
    """Integrity: the payload is what was signed, and the signature is the key's."""
    if payload_digest(payload) != env.payload_sha384:
        return False
    try:
        public_key.verify(env.signature, env.signed_bytes(), ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        return False
    return True


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def private_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_private(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an ECDSA key")
    return key


def load_public(pem: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an ECDSA key")
    return key
