"""What a deployment under a code signing config gets (lamb.services.code_signing), with the real
stores (lamb.signing.configs, lamb.signing.signer) on SQLite."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from lamb.protocol.errors import AwsError
from lamb.sealing import Sealer
from lamb.services.code_signing import CodeSigning
from lamb.signing.configs import CodeSigningConfigs
from lamb.signing.signer import SignerStore
from lamb.store.db import Database


def a_zip(text: str = "x") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("fn.py", text)
    return buf.getvalue()


@pytest.fixture
def world(tmp_path):
    db = Database(tmp_path / "db")
    configs = CodeSigningConfigs(db, region="us-east-1", account="000000000000")
    signer = SignerStore(db, Sealer(os.urandom(32)), region="us-east-1", account="000000000000")
    profile = signer.put_profile("p1", platform="AWSLambda-SHA384-ECDSA", validity=None, parameters=None, tags=None)

    def config(policy: str) -> str:
        cid = configs.new_id()
        configs.put({"CodeSigningConfigId": cid, "CodeSigningConfigArn": configs.arn(cid),
                     "AllowedPublishers": {"SigningProfileVersionArns": [profile["profileVersionArn"]]},
                     "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy}})
        return configs.arn(cid)

    return CodeSigning(configs, signer), signer, profile, config


def test_no_config_checks_nothing(world):
    service, *_ = world
    assert service.check(None, b"anything", "fn") == {}


def test_trusted_code_reports_its_signature(world):
    service, signer, profile, config = world
    signed = signer.sign(profile, a_zip(), source={}, requested_by="me")
    assert service.check(config("Enforce"), signed.data, "fn") == {
        "SigningProfileVersionArn": profile["profileVersionArn"],
        "SigningJobArn": signer.job_arn(signed.job["jobId"])}
    assert service.counts() == {"SignatureValidationErrors": {}}


def test_unsigned_code_enforce_refuses_warn_counts(world):
    service, _, _, config = world
    with pytest.raises(AwsError) as e:
        service.check(config("Enforce"), a_zip(), "fn")
    assert (e.value.code, e.value.status) == ("CodeVerificationFailedException", 400)
    assert e.value.message.endswith("Check the provided signature for fn.")
    assert service.check(config("Warn"), a_zip(), "fn") == {}
    assert service.counts() == {"SignatureValidationErrors": {"fn": 2}}


def test_integrity_failures_are_refused_under_warn_too(world):
    service, signer, profile, config = world
    data = bytearray(signer.sign(profile, a_zip(), source={}, requested_by="me").data)
    data[35] ^= 1
    for policy in ("Warn", "Enforce"):
        with pytest.raises(AwsError) as e:
            service.check(config(policy), bytes(data), "fn")
        assert (e.value.code, e.value.status) == ("InvalidCodeSignatureException", 400)


def test_a_deleted_config_is_not_found(world):
    service, *_ = world
    arn = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-aaaaaaaaaaaaaaaaa"
    with pytest.raises(AwsError) as e:
        service.check(arn, a_zip(), "fn")
    assert (e.value.code, e.value.status) == ("CodeSigningConfigNotFoundException", 404)


def test_configs_survive_a_reopen_and_other_regions_arns_are_unknown(tmp_path):
    db = Database(tmp_path / "db")
    configs = CodeSigningConfigs(db, region="us-east-1", account="000000000000")
    cid = configs.new_id()
    configs.put({"CodeSigningConfigId": cid, "CodeSigningConfigArn": configs.arn(cid)})
    again = CodeSigningConfigs(db, region="us-east-1", account="000000000000")
    assert again.get(configs.arn(cid))["CodeSigningConfigId"] == cid
    assert again.get(configs.arn(cid).replace("us-east-1", "eu-west-1")) is None
    assert again.delete(configs.arn(cid)) and again.all() == []
