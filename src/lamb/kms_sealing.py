"""Environment variables under a function's own KMS key (``KMSKeyArn``), as Lambda keeps them
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html).

Envelope encryption with KMS as the key holder: a data key from ``GenerateDataKey``
(AES-256, encryption context ``{"LambdaFunctionName": <name>}`` as Lambda uses) encrypts
the variables with AES-GCM; only the data key's KMS ciphertext is stored beside them, so
reading them back needs ``kms:Decrypt`` on the customer's key. KMS is reached with boto3's
standard configuration (``AWS_ENDPOINT_URL_KMS``, the credentials chain): real AWS, or any
compatible server such as moto's.

A data key is kept in memory per (key, function) and reused with a fresh nonce for each
value, so writing a function's configuration costs one KMS call per process, not one per write.

Stored form: ``{"kms": <key ARN>, "blob": base64(KMS ciphertext of the data key),
"ct": base64(nonce | AES-GCM ciphertext)}``.
"""

from __future__ import annotations

import base64
import os
from typing import Any, Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CONTEXT_KEY = "LambdaFunctionName"


class KmsError(Exception):
    """KMS refused (``code`` is KMS's error code) or could not be reached (``code`` is None)."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class KmsSealer:
    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client
        self._keys: dict[tuple[str, str], tuple[bytes, bytes]] = {}  # (key ARN, function) -> (data key, blob)

    def _call(self, op: str, **kw) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client(), op)(**kw)
        except ClientError as e:
            err = e.response.get("Error", {})
            raise KmsError(err.get("Code") or "KMSException", err.get("Message") or str(e)) from None
        except BotoCoreError as e:
            raise KmsError(None, str(e)) from None

    def data_key(self, key_arn: str, function: str) -> tuple[bytes, bytes]:
        """The data key for a function under ``key_arn`` (made with GenerateDataKey once); raises KmsError."""
        cached = self._keys.get((key_arn, function))
        if cached is None:
            resp = self._call("generate_data_key", KeyId=key_arn, KeySpec="AES_256",
                              EncryptionContext={CONTEXT_KEY: function})
            cached = self._keys[(key_arn, function)] = (resp["Plaintext"], resp["CiphertextBlob"])
        return cached

    def seal(self, key_arn: str, plaintext: str, function: str) -> dict:
        key, blob = self.data_key(key_arn, function)
        nonce = os.urandom(12)
        ct = AESGCM(key).encrypt(nonce, plaintext.encode(), function.encode())
        return {"kms": key_arn, "blob": base64.b64encode(blob).decode(), "ct": base64.b64encode(nonce + ct).decode()}

    def open(self, doc: dict, function: str) -> str:
        blob = base64.b64decode(doc["blob"])
        resp = self._call("decrypt", CiphertextBlob=blob, KeyId=doc["kms"], EncryptionContext={CONTEXT_KEY: function})
        key = resp["Plaintext"]
        self._keys.setdefault((doc["kms"], function), (key, blob))
        raw = base64.b64decode(doc["ct"])
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], function.encode()).decode()
        except Exception as e:  # InvalidTag: not this function's, or tampered
            raise KmsError("InvalidCiphertextException", "the environment variables do not open under their data key") from e
