"""lamb.kms_sealing against a stand-in for KMS's GenerateDataKey/Decrypt (the external service;
the integration tests use moto's KMS server)."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lamb.kms_sealing import KmsError, KmsSealer

KEY = "arn:aws:kms:us-east-1:000000000000:key/1234"


class FakeKms:
    """Wraps data keys with a master key of its own and checks the encryption context, as KMS does."""

    def __init__(self):
        self.master = AESGCM(os.urandom(32))
        self.calls: list[str] = []
        self.down = False

    def _ctx(self, ctx: dict) -> bytes:
        return repr(sorted(ctx.items())).encode()

    def generate_data_key(self, KeyId, KeySpec, EncryptionContext):
        self.calls.append("generate")
        if KeyId != KEY:
            raise ClientError({"Error": {"Code": "NotFoundException", "Message": f"Key '{KeyId}' does not exist"}},
                              "GenerateDataKey")
        key, nonce = os.urandom(32), os.urandom(12)
        return {"Plaintext": key, "CiphertextBlob": nonce + self.master.encrypt(nonce, key, self._ctx(EncryptionContext))}

    def decrypt(self, CiphertextBlob, KeyId, EncryptionContext):
        self.calls.append("decrypt")
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://kms")
        try:
            return {"Plaintext": self.master.decrypt(CiphertextBlob[:12], CiphertextBlob[12:], self._ctx(EncryptionContext))}
        except Exception:
            raise ClientError({"Error": {"Code": "InvalidCiphertextException", "Message": ""}}, "Decrypt") from None


def test_seal_and_open_with_one_data_key_per_function():
    kms = FakeKms()
    sealer = KmsSealer(lambda: kms)
    a, b = sealer.seal(KEY, "one", "fn"), sealer.seal(KEY, "two", "fn")
    assert kms.calls == ["generate"] and a["kms"] == KEY and "one" not in str(a)
    fresh = KmsSealer(lambda: kms)  # another process: Decrypt once, then the data key is reused
    assert fresh.open(a, "fn") == "one" and fresh.open(b, "fn") == "two"
    assert kms.calls.count("decrypt") == 2


def test_values_are_bound_to_their_function():
    kms = FakeKms()
    doc = KmsSealer(lambda: kms).seal(KEY, "v", "fn")
    with pytest.raises(KmsError) as e:
        KmsSealer(lambda: kms).open(doc, "other")
    assert e.value.code == "InvalidCiphertextException"


def test_kms_refusals_and_an_unreachable_kms():
    kms = FakeKms()
    sealer = KmsSealer(lambda: kms)
    with pytest.raises(KmsError) as e:
        sealer.data_key(KEY + "x", "fn")
    assert e.value.code == "NotFoundException" and "does not exist" in e.value.message
    doc = sealer.seal(KEY, "v", "fn")
    kms.down = True
    with pytest.raises(KmsError) as e:
        KmsSealer(lambda: kms).open(doc, "fn")
    assert e.value.code is None
