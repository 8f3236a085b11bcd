"""Environment variables at rest (lamb.store.env_at_rest): master-key sealing, KMSKeyArn's key, and
variables that do not decrypt (kept as stored, shown as Environment.Error, refused by Invoke)."""

from __future__ import annotations

import json
import os

from lamb.kms_sealing import KmsSealer
from lamb.sealing import Sealer
from lamb.store import env_at_rest

from .test_kms_sealing import KEY, FakeKms


def config(**kw) -> dict:
    return {"FunctionName": "fn", "Environment": {"Variables": {"A": "secret"}}, **kw}


def test_master_key_by_default_and_kms_with_a_key():
    fake = FakeKms()
    sealer, kms = Sealer(os.urandom(32)), KmsSealer(lambda: fake)
    plain = env_at_rest.dump(config(), "fn", sealer, kms)
    assert set(plain["Environment"]["Variables"]) == {"_sealed"} and "secret" not in json.dumps(plain)
    under_kms = env_at_rest.dump(config(KMSKeyArn=KEY), "fn", sealer, kms)
    assert set(under_kms["Environment"]["Variables"]) == {"_kms"} and "secret" not in json.dumps(under_kms)
    for stored in (plain, under_kms):
        loaded = env_at_rest.load(json.loads(json.dumps(stored)), "fn", sealer, kms)
        assert loaded["Environment"] == {"Variables": {"A": "secret"}}
        assert env_at_rest.invoke_error(loaded) is None


def test_a_kms_that_cannot_seal_falls_back_to_the_master_key():
    sealer = Sealer(os.urandom(32))
    fake = FakeKms()
    stored = env_at_rest.dump(config(KMSKeyArn=KEY + "gone"), "fn", sealer, KmsSealer(lambda: fake))
    assert set(stored["Environment"]["Variables"]) == {"_sealed"}


def test_unreadable_variables_are_kept_shown_and_refused():
    sealer = Sealer(os.urandom(32))
    first, second = FakeKms(), FakeKms()
    stored = env_at_rest.dump(config(KMSKeyArn=KEY), "fn", sealer, KmsSealer(lambda: first))
    other = KmsSealer(lambda: second)  # another KMS: the data key does not decrypt
    loaded = env_at_rest.load(json.loads(json.dumps(stored)), "fn", sealer, other)
    assert loaded["Environment"]["Error"]["ErrorCode"] == "InvalidCiphertextException"
    error = env_at_rest.invoke_error(loaded)
    assert (error.code, error.status) == ("KMSAccessDeniedException", 502)
    assert error.message.startswith("Lambda was unable to decrypt the environment variables because KMS access was "
                                    "denied. Please check the function's KMS key settings. KMS Exception: "
                                    "InvalidCiphertextExceptionKMS Message: ")
    again = env_at_rest.dump(loaded, "fn", sealer, other)  # written back as it was stored
    assert again["Environment"] == stored["Environment"] and env_at_rest.UNREADABLE not in again
    replaced = dict(loaded, Environment={"Variables": {"A": "new"}})
    assert env_at_rest.invoke_error(replaced) is None
    assert set(env_at_rest.dump(replaced, "fn", sealer, None)["Environment"]["Variables"]) == {"_sealed"}
