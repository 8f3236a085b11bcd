"""The four deployment checks (lamb.signing.verify) and profiles and jobs (lamb.signing.signer),
on a real SQLite store with a clock under the test's control."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from lamb.sealing import Sealer
from lamb.signing import envelope
from lamb.signing.signer import SignerStore, add_period
from lamb.signing.verify import Outcome, verify
from lamb.store.db import Database


class Clock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return SignerStore(Database(tmp_path / "db"), Sealer(os.urandom(32)), region="us-east-1",
                       account="000000000000", clock=clock)


def a_zip(text: str = "x") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("fn.py", text)
    return buf.getvalue()


def profile(store, name="p1", validity=None):
    return store.put_profile(name, platform="AWSLambda-SHA384-ECDSA", validity=validity, parameters=None, tags=None)


def test_trusted_then_each_failure(store, clock):
    p = profile(store)
    s = store.sign(p, a_zip(), source={}, requested_by="me")
    allowed = [p["profileVersionArn"]]
    v = verify(s.data, allowed, store, clock())
    assert v.outcome is Outcome.TRUSTED and v.job_arn == store.job_arn(s.job["jobId"])
    assert verify(a_zip(), allowed, store, clock()).outcome is Outcome.UNSIGNED
    assert verify(b"not a zip", allowed, store, clock()).outcome is Outcome.UNSIGNED
    assert verify(s.data, ["arn:aws:signer:us-east-1:000000000000:/signing-profiles/other/x"], store,
                  clock()).outcome is Outcome.MISMATCH
    tampered = bytearray(s.data)
    tampered[32] ^= 1
    assert verify(bytes(tampered), allowed, store, clock()).outcome is Outcome.INTEGRITY


def test_expiry_follows_the_validity_period(store, clock):
    p = profile(store, validity={"value": 3, "type": "DAYS"})
    s = store.sign(p, a_zip(), source={}, requested_by="me")
    assert s.job["signatureExpiresAt"] == int(clock()) + 3 * 86400
    clock.t += 3 * 86400 - 1
    assert verify(s.data, [p["profileVersionArn"]], store, clock()).outcome is Outcome.TRUSTED
    clock.t += 1
    assert verify(s.data, [p["profileVersionArn"]], store, clock()).outcome is Outcome.EXPIRED


def test_months_and_years_are_calendar_periods():
    jan31 = 1706659200  # 2024-01-31T00:00:00Z
    assert add_period(jan31, {"value": 1, "type": "MONTHS"}) == 1709164800  # 2024-02-29
    assert add_period(jan31, {"value": 1, "type": "YEARS"}) == 1738281600  # 2025-01-31


def test_profile_revocation_applies_from_its_effective_time(store, clock):
    p = profile(store)
    before = store.sign(p, a_zip("a"), source={}, requested_by="me")
    clock.t += 100
    after = store.sign(p, a_zip("b"), source={}, requested_by="me")
    store.revoke_profile("p1", effective=clock() - 50, reason="leak", by="me")
    allowed = [p["profileVersionArn"]]
    assert verify(before.data, allowed, store, clock()).outcome is Outcome.TRUSTED
    assert verify(after.data, allowed, store, clock()).outcome is Outcome.REVOKED


def test_a_revoked_signature_and_a_canceled_profile(store, clock):
    p = profile(store)
    one = store.sign(p, a_zip("a"), source={}, requested_by="me")
    two = store.sign(p, a_zip("b"), source={}, requested_by="me")
    store.revoke_signature(one.job["jobId"], reason="bad build", by="me")
    allowed = [p["profileVersionArn"]]
    assert verify(one.data, allowed, store, clock()).outcome is Outcome.REVOKED
    store.cancel("p1")
    assert verify(two.data, allowed, store, clock()).outcome is Outcome.TRUSTED


def test_the_private_key_is_sealed_at_rest(tmp_path, clock):
    db = Database(tmp_path / "db")
    store = SignerStore(db, Sealer(os.urandom(32)), region="us-east-1", account="000000000000", clock=clock)
    p = profile(store)
    raw = (tmp_path / "db").read_bytes() + b"".join(f.read_bytes() for f in tmp_path.glob("db-wal"))
    assert b"PRIVATE KEY" not in raw and b"lamb1:" in raw
    key = envelope.load_private(store.sealer.open(p["_privateKey"], p["profileVersionArn"]))
    assert envelope.public_pem(key) == p["_publicKey"]


def test_master_key_rotation_rewraps_signing_keys(tmp_path, clock):
    from lamb.identity.rotation import rotate
    from lamb.master_key import MasterKeys

    key_path = tmp_path / "master.key"
    db = Database(tmp_path / "db")
    store = SignerStore(db, Sealer.from_file(key_path), region="us-east-1", account="000000000000", clock=clock)
    p = profile(store)
    signed = store.sign(p, a_zip(), source={}, requested_by="me")
    assert rotate(db, MasterKeys(key_path)) == 1
    again = SignerStore(db, Sealer.from_file(key_path), region="us-east-1", account="000000000000", clock=clock)
    p2 = again.profile("p1")
    assert p2["_privateKey"] != p["_privateKey"]
    resigned = again.sign(p2, a_zip("y"), source={}, requested_by="me")  # the key opens under the new master key
    assert verify(resigned.data, [p2["profileVersionArn"]], again, clock()).outcome is Outcome.TRUSTED
    assert verify(signed.data, [p2["profileVersionArn"]], again, clock()).outcome is Outcome.TRUSTED


def test_a_profile_this_lamb_does_not_hold(store, clock, tmp_path):
    elsewhere = SignerStore(Database(tmp_path / "other.db"), Sealer(os.urandom(32)), region="us-east-1",
                            account="000000000000", clock=clock)
    p = profile(elsewhere, "p9")
    s = elsewhere.sign(p, a_zip(), source={}, requested_by="me")
    v = verify(s.data, [p["profileVersionArn"]], store, clock())
    assert v.outcome is Outcome.MISMATCH and v.profile_version_arn is None  # unverifiable: no ARNs reported
