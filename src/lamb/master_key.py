"""Where the master key that seals secrets at rest lives: a 0600 file, or KMS.

Without KMS the master key is 32 random bytes in ``<data dir>/master.key`` (mode 0600,
``sealing.load_master_key``). With ``LAMB_MASTER_KEY_KMS`` naming a KMS key (its id, ARN or alias,
reached through boto3's standard configuration: ``AWS_ENDPOINT_URL_KMS``, the credentials chain,
the region), the master key is a KMS data key: ``GenerateDataKey`` (AES-256) makes it once, and only
its KMS ciphertext is kept, in ``<data dir>/master.key.kms`` (0600, JSON: the key's ARN and the
ciphertext). Each start asks KMS to ``Decrypt`` it; the plain key lives in Lamb's memory only, so a
copy of the data folder without access to the KMS key reveals no secret
(https://docs.aws.amazon.com/kms/latest/developerguide/data-keys.html). The encryption context
``{"lamb:purpose": "master-key"}`` binds the ciphertext to this use.

Once ``master.key.kms`` exists it is what Lamb opens, with or without the setting (the file names
its KMS key). Naming a KMS key where a plaintext ``master.key`` exists moves that key under KMS
(``Encrypt``) and deletes the file; naming another KMS key than the file's rewraps the master key
under the new one (``ReEncrypt``-like: ``Encrypt`` of the same key). ``lamb keys rotate`` makes a
new master key in the same place (``rotation.py``).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Callable

from .sealing import SealError, Sealer, load_master_key

CONTEXT = {"lamb:purpose": "master-key"}
KMS_SUFFIX = ".kms"


class MasterKeyError(Exception):
    """The master key cannot be had (KMS refused or is unreachable, or a file is damaged)."""


def _kms_path(path: Path) -> Path:
    return path.with_name(path.name + KMS_SUFFIX)


def _write_private(path: Path, data: bytes) -> None:
    """``data`` in ``path`` (0600), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _default_client() -> Any:
    import boto3

    return boto3.client("kms")


class MasterKeys:
    """The master key of one data folder: ``path`` is ``<data dir>/master.key``; ``kms_key`` the
    configured KMS key (None: none configured); ``client`` makes a boto3 KMS client."""

    def __init__(self, path: Path, kms_key: str | None = None,
                 client: Callable[[], Any] = _default_client) -> None:
        self.path = path
        self.kms_key = kms_key or None
        self._client = client

    @property
    def in_kms(self) -> bool:
        return self.kms_key is not None or _kms_path(self.path).exists()

    def where(self) -> str:
        """What holds the master key, for messages."""
        if not self.in_kms:
            return str(self.path)
        stored = self._stored(_kms_path(self.path))
        return f"KMS key {stored['KeyId'] if stored else self.kms_key} ({_kms_path(self.path)})"

    def sealer(self) -> Sealer:
        return Sealer(self.load())

    def load(self) -> bytes:
        """The master key, made on first use."""
        if not self.in_kms:
            return load_master_key(self.path)
        kms_path = _kms_path(self.path)
        stored = self._stored(kms_path)
        if stored is None:
            if self.path.exists():  # a plaintext key moves under KMS, then its file goes
                key = load_master_key(self.path)
                self._save(kms_path, self._encrypt(key))
                self.path.unlink()
                return key
            key, stored = self._generate()
            self._save(kms_path, stored)
            return key
        key = self._decrypt(stored)
        if self.kms_key is not None and not self._same_key(stored["KeyId"]):
            self._save(kms_path, self._encrypt(key))  # another KMS key named: the master key rewrapped
        return key

    # ------------------------------------------------------------------ rotation (rotation.py)
    def next_key(self) -> bytes:
        """A new master key kept beside the current one (``.next``) until ``commit_next``; one made
        by an interrupted rotation is used again."""
        if not self.in_kms:
            return load_master_key(self.path.with_name(self.path.name + ".next"))
        next_path = _kms_path(self.path).with_name(_kms_path(self.path).name + ".next")
        stored = self._stored(next_path)
        if stored is not None:
            return self._decrypt(stored)
        key, stored = self._generate(self.kms_key or self._stored(_kms_path(self.path))["KeyId"])
        self._save(next_path, stored)
        return key

    def commit_next(self) -> None:
        """The new master key replaces the old one."""
        if not self.in_kms:
            os.replace(self.path.with_name(self.path.name + ".next"), self.path)
            return
        kms_path = _kms_path(self.path)
        os.replace(kms_path.with_name(kms_path.name + ".next"), kms_path)

    # ------------------------------------------------------------------ KMS
    def _stored(self, path: Path) -> dict | None:
        try:
            stored = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as e:
            raise MasterKeyError(f"{path} is not a KMS-wrapped master key: {e}") from None
        if not isinstance(stored, dict) or not stored.get("KeyId") or not stored.get("CiphertextBlob"):
            raise MasterKeyError(f"{path} is not a KMS-wrapped master key")
        return stored

    def _save(self, path: Path, stored: dict) -> None:
        _write_private(path, json.dumps(stored).encode())

    def _call(self, op: str, **kw) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client(), op)(**kw)
        except ClientError as e:
            err = e.response.get("Error", {})
            raise MasterKeyError(f"KMS {op} of the master key failed: {err.get('Code')}: {err.get('Message')}") from None
        except BotoCoreError as e:
            raise MasterKeyError(f"KMS {op} of the master key failed: {e}") from None

    def _generate(self, key_id: str | None = None) -> tuple[bytes, dict]:
        out = self._call("generate_data_key", KeyId=key_id or self.kms_key, KeySpec="AES_256",
                         EncryptionContext=CONTEXT)
        return out["Plaintext"], {"KeyId": out["KeyId"], "CiphertextBlob": base64.b64encode(out["CiphertextBlob"]).decode()}

    def _encrypt(self, key: bytes) -> dict:
        out = self._call("encrypt", KeyId=self.kms_key, Plaintext=key, EncryptionContext=CONTEXT)
        return {"KeyId": out["KeyId"], "CiphertextBlob": base64.b64encode(out["CiphertextBlob"]).decode()}

    def _decrypt(self, stored: dict) -> bytes:
        out = self._call("decrypt", KeyId=stored["KeyId"], CiphertextBlob=base64.b64decode(stored["CiphertextBlob"]),
                         EncryptionContext=CONTEXT)
        key = out["Plaintext"]
        if len(key) != 32:
            raise MasterKeyError("KMS answered a master key that is not 32 bytes")
        return key

    def _same_key(self, stored_arn: str) -> bool:
        """Whether the configured KMS key is the one the stored master key is under (an id, ARN or
        alias; an alias or id is resolved with DescribeKey)."""
        if self.kms_key == stored_arn:
            return True
        return self._call("describe_key", KeyId=self.kms_key)["KeyMetadata"]["Arn"] == stored_arn


__all__ = ["MasterKeys", "MasterKeyError", "SealError", "CONTEXT"]
