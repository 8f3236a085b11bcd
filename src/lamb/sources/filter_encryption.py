"""FilterCriteria encrypted with the mapping's ``KMSKeyArn``.

"Lambda event filtering", section "Encrypting filter criteria"
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filter-criteria-encryption),
the API reference of EventSourceMappingConfiguration (``FilterCriteria``, ``FilterCriteriaError``,
``KMSKeyArn``) and security-encryption-at-rest.html:

* With a customer managed key, the filter criteria are kept encrypted under that key: Lamb
  calls KMS ``Encrypt`` (boto3's standard configuration: ``AWS_ENDPOINT_URL_KMS``, the
  credentials chain) when a mapping is created or its filters or key change, and stores only
  the ciphertext. The encryption context names the mapping
  (``aws:lambda:EventSourceMappingArn``), so a ciphertext cannot be moved to another mapping.
* GetEventSourceMapping and DeleteEventSourceMapping show the plaintext, decrypted with KMS
  ``Decrypt``; when KMS refuses (key disabled, deleted, access denied) they show
  ``FilterCriteriaError {ErrorCode: <KMS exception>, Message}`` instead.
  ListEventSourceMappings never shows encrypted criteria (the member is null).
* Pollers decrypt when they start (``encrypted_kind`` wraps a source kind); a poller whose
  filters cannot be decrypted does not poll, reports why in ``LastProcessingResult`` and tries
  again with backoff, so nothing is read unfiltered.

Deviation: Lamb decrypts with its own AWS credentials, not the API caller's, so "the caller
has kms:Decrypt" is "Lamb may use the key".
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
from concurrent.futures import Executor
from typing import Any, Callable

from ..protocol.errors import invalid_parameter

log = logging.getLogger("lamb.sources")

CIPHERTEXT = "_FilterCriteriaCiphertext"  # stored member: base64 of KMS's CiphertextBlob
CONTEXT_KEY = "aws:lambda:EventSourceMappingArn"
# Lamb's text: AWS's answer to a key it cannot use at create/update was not found.
KMS_REFUSED = "Lambda was unable to encrypt the filter criteria with the KMS key {key}. KMS Exception: {code}. KMS Message: {message}"


class KmsError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def _kms_error(exc: BaseException) -> KmsError:
    err = getattr(exc, "response", None)
    if isinstance(err, dict) and "Error" in err:
        code = err["Error"].get("Code") or type(exc).__name__
        return KmsError(code if code.endswith("Exception") else code + "Exception", err["Error"].get("Message") or "")
    return KmsError(type(exc).__name__ if type(exc).__name__.endswith("Exception") else "KMSException", str(exc))


class FilterCrypto:
    """KMS Encrypt/Decrypt of filter criteria. ``kms_for(region)`` is a boto3 KMS client."""

    def __init__(self, kms_for: Callable[[str], Any], executor: Executor | None = None):
        self.kms_for = kms_for
        self.executor = executor

    async def _call(self, key_arn: str, operation: str, **kw: Any) -> dict:
        region = key_arn.split(":")[3] if key_arn.startswith("arn:") else None

        def run() -> dict:
            return getattr(self.kms_for(region), operation)(**kw)

        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, run)
        except Exception as e:
            raise _kms_error(e) from e

    async def encrypt(self, key_arn: str, criteria: dict, mapping_arn: str) -> str:
        out = await self._call(key_arn, "encrypt", KeyId=key_arn, Plaintext=json.dumps(criteria).encode(),
                               EncryptionContext={CONTEXT_KEY: mapping_arn})
        return base64.b64encode(out["CiphertextBlob"]).decode()

    async def decrypt(self, key_arn: str, ciphertext: str, mapping_arn: str) -> dict:
        out = await self._call(key_arn, "decrypt", KeyId=key_arn, CiphertextBlob=base64.b64decode(ciphertext),
                               EncryptionContext={CONTEXT_KEY: mapping_arn})
        return json.loads(out["Plaintext"])


@functools.lru_cache(maxsize=None)
def kms_client(region: str | None) -> Any:
    """boto3's KMS client of ``region`` (standard configuration), made once (clients are thread-safe)."""
    from .stream_clients import client

    return client("kms", region)


# ------------------------------------------------------------------ the API's side
def is_sealed(cfg: dict) -> bool:
    return bool(cfg.get(CIPHERTEXT))


async def plaintext(crypto: FilterCrypto, cfg: dict) -> dict | None:
    """The mapping's criteria in plaintext (KmsError when KMS refuses)."""
    if not is_sealed(cfg):
        return cfg.get("FilterCriteria")
    return await crypto.decrypt(cfg["KMSKeyArn"], cfg[CIPHERTEXT], cfg["EventSourceMappingArn"])


async def seal(crypto: FilterCrypto, merged: dict, previous: dict | None, given: bool) -> dict:
    """The configuration to store for ``merged`` (a create's or update's result): criteria
    encrypted under its KMSKeyArn when it has both, plaintext otherwise. ``previous`` is the
    stored configuration an update starts from and ``given`` whether the request brought
    FilterCriteria: if not, sealed criteria stay (re-encrypted when the key changed)."""
    out = dict(merged)
    out.pop(CIPHERTEXT, None)
    criteria = merged.get("FilterCriteria")
    if not given and previous is not None and is_sealed(previous):
        if merged.get("KMSKeyArn") == previous.get("KMSKeyArn"):
            out[CIPHERTEXT] = previous[CIPHERTEXT]  # unchanged: keep the ciphertext as it is
            return out
        criteria = await _or_refused(previous["KMSKeyArn"], crypto.decrypt(previous["KMSKeyArn"], previous[CIPHERTEXT],
                                                                           previous["EventSourceMappingArn"]))
    key = merged.get("KMSKeyArn")
    if not key:
        out.pop("KMSKeyArn", None)  # "" removes the key: the criteria are kept as they are
        if criteria is not None:
            out["FilterCriteria"] = criteria
        return out
    if criteria is not None:
        out[CIPHERTEXT] = await _or_refused(key, crypto.encrypt(key, criteria, merged["EventSourceMappingArn"]))
    out.pop("FilterCriteria", None)
    return out


async def _or_refused(key: str, work):
    try:
        return await work
    except KmsError as e:
        raise invalid_parameter(KMS_REFUSED.format(key=key, code=e.code, message=e.message))


async def shown(crypto: FilterCrypto, view: dict, cfg: dict) -> dict:
    """Get/Delete: ``view`` with the plaintext FilterCriteria, or FilterCriteriaError."""
    if not is_sealed(cfg):
        return view
    try:
        return {**view, "FilterCriteria": await plaintext(crypto, cfg)}
    except KmsError as e:
        return {**view, "FilterCriteriaError": {"ErrorCode": e.code[:50], "Message": (e.message or e.code)[:2048]}}


def with_criteria(cfg: dict, criteria: dict | None) -> dict:
    """A create's or update's answer: what was asked, in plaintext."""
    return {**cfg, "FilterCriteria": criteria} if criteria is not None and is_sealed(cfg) else cfg


# ------------------------------------------------------------------ the pollers' side
class _Deferred:
    """A poller that decrypts its mapping's criteria first, then runs the kind's own poller."""

    def __init__(self, cfg: dict, report: Callable[[str], None], make: Callable, crypto: FilterCrypto,
                 backoff_s: tuple[float, float]):
        self.cfg, self.report, self.make, self.crypto, self.backoff_s = cfg, report, make, crypto, backoff_s
        self.inner: Any = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._open())

    async def _open(self) -> None:
        delay = self.backoff_s[0]
        while True:
            try:
                criteria = await plaintext(self.crypto, self.cfg)
                break
            except KmsError as e:
                self.report(f"PROBLEM: the filter criteria could not be decrypted: KMS Exception: {e.code}. "
                            f"KMS Message: {e.message}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_s[1])
        self.inner = self.make({**self.cfg, "FilterCriteria": criteria}, self.report)
        self.inner.start()

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.inner is not None:
            await self.inner.stop()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.inner is not None:
            self.inner.cancel()


def encrypted_kind(kind: Any, crypto: FilterCrypto, backoff_s: tuple[float, float]) -> Any:
    """``kind`` whose pollers of sealed mappings decrypt their criteria before they poll."""
    from dataclasses import replace

    def poller(cfg: dict, report: Callable[[str], None]):
        if not is_sealed(cfg):
            return kind.poller(cfg, report)
        return _Deferred(cfg, report, kind.poller, crypto, backoff_s)

    return replace(kind, poller=poller)
