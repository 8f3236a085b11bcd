"""lamb.sources.filter_encryption: what is stored, shown and given to pollers, with a stand-in KMS
(the real one, moto's server, is used in tests/integration/test_esm_kms.py)."""

from __future__ import annotations

import asyncio
import json

import pytest

from lamb.protocol.errors import AwsError
from lamb.sources import filter_encryption as fe

K1 = "arn:aws:kms:us-east-1:123456789012:key/one"
K2 = "arn:aws:kms:us-east-1:123456789012:key/two"
MAPPING = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u"
CRIT = {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]}


class Refused(Exception):
    def __init__(self, code: str):
        self.response = {"Error": {"Code": code, "Message": f"{code} for this key"}}


class Kms:
    """Encrypt = tag with the key id and context; Decrypt checks both."""

    def __init__(self):
        self.gone: set[str] = set()

    def encrypt(self, KeyId, Plaintext, EncryptionContext):
        if KeyId in self.gone:
            raise Refused("NotFoundException")
        return {"CiphertextBlob": json.dumps([KeyId, EncryptionContext, Plaintext.decode()]).encode()}

    def decrypt(self, KeyId, CiphertextBlob, EncryptionContext):
        key, ctx, text = json.loads(CiphertextBlob)
        if KeyId in self.gone or key != KeyId or ctx != EncryptionContext:
            raise Refused("DisabledException" if KeyId in self.gone else "InvalidCiphertextException")
        return {"Plaintext": text.encode()}


def crypto():
    kms = Kms()
    return fe.FilterCrypto(lambda region: kms), kms


def run(coro):
    return asyncio.run(coro)


def base(**kw) -> dict:
    return {"UUID": "u", "EventSourceMappingArn": MAPPING, **kw}


def test_only_ciphertext_is_stored_and_get_shows_the_plaintext():
    c, _ = crypto()
    cfg = run(fe.seal(c, base(KMSKeyArn=K1, FilterCriteria=CRIT), None, True))
    assert "FilterCriteria" not in cfg and fe.is_sealed(cfg)
    assert run(fe.shown(c, {"UUID": "u"}, cfg)) == {"UUID": "u", "FilterCriteria": CRIT}
    assert fe.with_criteria(cfg, CRIT)["FilterCriteria"] == CRIT


def test_updates_keep_reencrypt_replace_or_unseal():
    c, _ = crypto()
    sealed = run(fe.seal(c, base(KMSKeyArn=K1, FilterCriteria=CRIT), None, True))
    same = run(fe.seal(c, {**sealed, "BatchSize": 5}, sealed, False))
    assert same[fe.CIPHERTEXT] == sealed[fe.CIPHERTEXT]
    moved = run(fe.seal(c, {**sealed, "KMSKeyArn": K2}, sealed, False))
    assert moved[fe.CIPHERTEXT] != sealed[fe.CIPHERTEXT] and run(fe.plaintext(c, moved)) == CRIT
    new = {"Filters": [{"Pattern": '{"body": {"b": [2]}}'}]}
    replaced = run(fe.seal(c, {**sealed, "FilterCriteria": new}, sealed, True))
    assert run(fe.plaintext(c, replaced)) == new
    cleared = run(fe.seal(c, {k: v for k, v in sealed.items() if k != "FilterCriteria"}, sealed, True))
    assert not fe.is_sealed(cleared) and "FilterCriteria" not in cleared
    unsealed = run(fe.seal(c, {**sealed, "KMSKeyArn": ""}, sealed, False))
    assert unsealed["FilterCriteria"] == CRIT and "KMSKeyArn" not in unsealed and not fe.is_sealed(unsealed)


def test_kms_refusals():
    c, kms = crypto()
    kms.gone.add(K2)
    with pytest.raises(AwsError) as e:
        run(fe.seal(c, base(KMSKeyArn=K2, FilterCriteria=CRIT), None, True))
    assert e.value.code == "InvalidParameterValueException" and "NotFoundException" in e.value.message
    sealed = run(fe.seal(c, base(KMSKeyArn=K1, FilterCriteria=CRIT), None, True))
    kms.gone.add(K1)
    assert run(fe.shown(c, {}, sealed)) == {"FilterCriteriaError": {"ErrorCode": "DisabledException",
                                                                    "Message": "DisabledException for this key"}}


def test_a_poller_starts_only_once_its_filters_are_decrypted():
    c, kms = crypto()
    sealed = run(fe.seal(c, base(KMSKeyArn=K1, FilterCriteria=CRIT), None, True))
    started, reports = [], []

    class Inner:
        def __init__(self, cfg, report):
            self.cfg = cfg

        def start(self):
            started.append(self.cfg["FilterCriteria"])

        async def stop(self):
            pass

        def cancel(self):
            pass

    from lamb.sources.manager import SourceKind

    async def check(arn, timeout):
        pass

    kind = fe.encrypted_kind(SourceKind(check, Inner), c, (0.01, 0.02))

    async def go():
        kms.gone.add(K1)
        p = kind.poller(sealed, reports.append)
        p.start()
        while not reports:
            await asyncio.sleep(0.005)
        assert not started and "could not be decrypted" in reports[0]
        kms.gone.discard(K1)
        while not started:
            await asyncio.sleep(0.005)
        await p.stop()

    run(go())
    assert started == [CRIT]
    plain = kind.poller(base(FilterCriteria=CRIT), reports.append)
    assert isinstance(plain, Inner)
