"""Secrets at rest: AES-GCM envelope encryption under one master key.

https://docs.aws.amazon.com/kms/latest/developerguide/kms-cryptography.html#enveloping:
each secret is encrypted with a fresh 256-bit data key (AES-GCM, 96-bit nonce), and the
data key is itself encrypted ("wrapped") with the master key. Rotating the master key
rewraps the data keys only. The master key is 32 random bytes in a file of mode 0600
(``<data dir>/master.key``), never in the database, so a copy of the database alone
reveals no secret.

A sealed value is text: ``lamb1:<base64(wrap nonce | wrapped key | data nonce | ciphertext)>``.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "lamb1:"
_NONCE = 12
_WRAPPED = 32 + 16  # a 256-bit key and its GCM tag


class SealError(Exception):
    """A sealed value that does not open under this master key."""


def load_master_key(path: Path) -> bytes:
    """The master key in ``path``, created (0600) on first use."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        return key
    if len(data) != 32:
        raise SealError(f"{path} does not hold a 32-byte master key")
    return data


class Sealer:
    """Seals and opens secrets under one master key (``aad`` binds a value to its place)."""

    def __init__(self, master_key: bytes) -> None:
        self._master = AESGCM(master_key)

    @classmethod
    def from_file(cls, path: Path) -> "Sealer":
        return cls(load_master_key(path))

    def seal(self, plaintext: str, aad: str = "") -> str:
        data_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce, data_nonce = os.urandom(_NONCE), os.urandom(_NONCE)
        wrapped = self._master.encrypt(wrap_nonce, data_key, b"lamb-data-key")
        ct = AESGCM(data_key).encrypt(data_nonce, plaintext.encode(), aad.encode())
        return PREFIX + base64.b64encode(wrap_nonce + wrapped + data_nonce + ct).decode()

    def open(self, sealed: str, aad: str = "") -> str:
        data_key, data_nonce, ct = self._unwrap(sealed)
        try:
            return AESGCM(data_key).decrypt(data_nonce, ct, aad.encode()).decode()
        except Exception as e:  # InvalidTag
            raise SealError("a sealed value does not open (wrong master key or tampered)") from e

    def rewrap(self, sealed: str, new: "Sealer") -> str:
        """The same secret with its data key wrapped by ``new``'s master key (key rotation)."""
        data_key, data_nonce, ct = self._unwrap(sealed)
        wrap_nonce = os.urandom(_NONCE)
        wrapped = new._master.encrypt(wrap_nonce, data_key, b"lamb-data-key")
        return PREFIX + base64.b64encode(wrap_nonce + wrapped + data_nonce + ct).decode()

    def _unwrap(self, sealed: str) -> tuple[bytes, bytes, bytes]:
        if not sealed.startswith(PREFIX):
            raise SealError("not a sealed value")
        raw = base64.b64decode(sealed[len(PREFIX):])
        wrap_nonce, wrapped = raw[:_NONCE], raw[_NONCE:_NONCE + _WRAPPED]
        rest = raw[_NONCE + _WRAPPED:]
        try:
            data_key = self._master.decrypt(wrap_nonce, wrapped, b"lamb-data-key")
        except Exception as e:
            raise SealError("a sealed value does not open (wrong master key or tampered)") from e
        return data_key, rest[:_NONCE], rest[_NONCE:]


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)
