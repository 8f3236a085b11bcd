"""Signed deployments against a real ``lamb serve`` and moto's S3: the flow a user runs on AWS
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html):
``aws signer put-signing-profile --platform-id AWSLambda-SHA384-ECDSA``, ``aws signer
start-signing-job`` on a zip in S3, ``aws lambda create-code-signing-config``, then
``aws lambda create-function --code S3Bucket=...`` with the signed object.

Lamb checks integrity (always fatal: InvalidCodeSignatureException), then expiry, allowed
publishers and revocation (CodeVerificationFailedException under Enforce, a logged and
counted warning under Warn).
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .async_support import moto, served_with, versioned_bucket  # noqa: F401  (fixture)
from .awscli import aws_json
from .conftest import ROLE, error_of, invoke, make_zip, unique

HANDLER = "def handler(e, c):\n    return %r\n"
INTEGRITY = "InvalidCodeSignatureException"
UNTRUSTED = ("CodeVerificationFailedException", 400,
             "Lambda cannot deploy the function. The function or layer might be signed using a signature that the "
             "client is not configured to accept. Check the provided signature for %s.")


@pytest.fixture(scope="module")
def server(moto):  # noqa: F811
    yield from served_with(moto, "S3")


@pytest.fixture(scope="module")
def bucket(moto):  # noqa: F811
    return versioned_bucket(moto, "signing")


def profile(signer) -> tuple[str, str]:
    name = "p" + uuid.uuid4().hex[:12]
    out = signer.put_signing_profile(profileName=name, platformId="AWSLambda-SHA384-ECDSA")
    return name, out["profileVersionArn"]


def sign(signer, bucket, name: str, data: bytes) -> tuple[str, dict]:
    """Upload ``data``, sign it with profile ``name``; the signed object's key and the job."""
    s3, b = bucket
    key = unique("src") + ".zip"
    version = s3.put_object(Bucket=b, Key=key, Body=data)["VersionId"]
    job_id = signer.start_signing_job(source={"s3": {"bucketName": b, "key": key, "version": version}},
                                      destination={"s3": {"bucketName": b, "prefix": "signed/"}},
                                      profileName=name, clientRequestToken=str(uuid.uuid4()))["jobId"]
    job = signer.describe_signing_job(jobId=job_id)
    assert job["status"] == "Succeeded", job
    return job["signedObject"]["s3"]["key"], job


def config(lam, arns: list[str], policy: str) -> str:
    return lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": arns},
                                          CodeSigningPolicies={"UntrustedArtifactOnDeployment": policy}
                                          )["CodeSigningConfig"]["CodeSigningConfigArn"]


def create(lam, bucket, key: str, csc: str, name: str | None = None, **kw) -> dict:
    return lam.create_function(FunctionName=name or unique("signed"), Runtime="python3.12", Role=ROLE,
                               Handler="fn.handler", Code={"S3Bucket": bucket[1], "S3Key": key},
                               CodeSigningConfigArn=csc, **kw)


def upload(bucket, data: bytes) -> str:
    key = unique("raw") + ".zip"
    bucket[0].put_object(Bucket=bucket[1], Key=key, Body=data)
    return key


def tampered(signed: bytes) -> bytes:
    """The signed zip with one byte of its first entry's data changed (the comment kept)."""
    i = signed.index(b"PK\x03\x04") + 30 + int.from_bytes(signed[26:28], "little") + int.from_bytes(signed[28:30], "little")
    return signed[:i] + bytes([signed[i] ^ 0xFF]) + signed[i + 1:]


def failure(call, **kw) -> tuple[str, str, int]:
    with pytest.raises(Exception) as e:
        call(**kw)
    return error_of(e)


def warnings(server, name: str) -> int:
    return server.get_json("/_lamb/health")["code_signing"]["SignatureValidationErrors"].get(name, 0)


def test_a_signed_zip_deploys_and_shows_its_signature(server, bucket):
    lam, signer = server.client(), server.client("signer")
    name, version_arn = profile(signer)
    got = signer.get_signing_profile(profileName=name)
    assert (got["status"], got["platformId"], got["profileVersionArn"]) == ("Active", "AWSLambda-SHA384-ECDSA",
                                                                           version_arn)
    key, job = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "signed"}))
    assert key == f"signed/{job['jobId']}.zip" and job["profileName"] == name
    csc = config(lam, [version_arn], "Enforce")
    fn = unique("signed")
    out = create(lam, bucket, key, csc, fn)
    job_arn = f"arn:aws:signer:{server.region}:{server.account_id}:/signing-jobs/{job['jobId']}"
    assert (out["SigningProfileVersionArn"], out["SigningJobArn"]) == (version_arn, job_arn)
    lam.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    got = lam.get_function(FunctionName=fn)["Configuration"]
    assert (got["SigningProfileVersionArn"], got["SigningJobArn"]) == (version_arn, job_arn)
    assert lam.get_function_code_signing_config(FunctionName=fn)["CodeSigningConfigArn"] == csc
    assert invoke(lam, fn)[1] == "signed"

    # new signed code: the same checks; unsigned code: refused under Enforce
    key2, job2 = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "two"}))
    lam.update_function_code(FunctionName=fn, S3Bucket=bucket[1], S3Key=key2)
    lam.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert lam.get_function_configuration(FunctionName=fn)["SigningJobArn"].endswith(job2["jobId"])
    assert invoke(lam, fn)[1] == "two"
    code, message, status = failure(lam.update_function_code, FunctionName=fn,
                                    ZipFile=make_zip({"fn.py": HANDLER % "unsigned"}))
    assert (code, status, message) == (UNTRUSTED[0], UNTRUSTED[1], UNTRUSTED[2] % fn)
    assert invoke(lam, fn)[1] == "two"


@pytest.mark.parametrize("policy", ["Enforce", "Warn"])
def test_a_tampered_zip_is_refused_under_both_policies(server, bucket, policy):
    lam, signer, s3 = server.client(), server.client("signer"), bucket[0]
    name, version_arn = profile(signer)
    key, _ = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "x"}))
    signed = s3.get_object(Bucket=bucket[1], Key=key)["Body"].read()
    csc = config(lam, [version_arn], policy)
    fn = unique("tampered")
    code, message, status = failure(create, lam=lam, bucket=bucket, key=upload(bucket, tampered(signed)), csc=csc,
                                    name=fn)
    assert (code, status) == (INTEGRITY, 400) and fn in message
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=fn)


def test_unsigned_code_enforce_refuses_warn_deploys_and_counts(server, bucket):
    lam, signer = server.client(), server.client("signer")
    _, version_arn = profile(signer)
    unsigned = upload(bucket, make_zip({"fn.py": HANDLER % "plain"}))
    fn = unique("unsigned")
    code, message, status = failure(create, lam=lam, bucket=bucket, key=unsigned,
                                    csc=config(lam, [version_arn], "Enforce"), name=fn)
    assert (code, status, message) == (UNTRUSTED[0], UNTRUSTED[1], UNTRUSTED[2] % fn)

    out = create(lam, bucket, unsigned, config(lam, [version_arn], "Warn"), fn)
    assert "SigningProfileVersionArn" not in out
    lam.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert invoke(lam, fn)[1] == "plain"
    assert warnings(server, fn) == 2  # the refused attempt and the deployment
    assert "code signing (Warn)" in server.log_tail(20000)


def test_a_profile_the_config_does_not_allow(server, bucket):
    lam, signer = server.client(), server.client("signer")
    name, _ = profile(signer)
    _, other = profile(signer)
    key, _ = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "x"}))
    fn = unique("mismatch")
    code, message, status = failure(create, lam=lam, bucket=bucket, key=key, csc=config(lam, [other], "Enforce"), name=fn)
    assert (code, status, message) == (UNTRUSTED[0], UNTRUSTED[1], UNTRUSTED[2] % fn)


def test_revoked_profiles_and_signatures_are_refused(server, bucket):
    lam, signer = server.client(), server.client("signer")
    name, version_arn = profile(signer)
    key, _ = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "x"}))
    csc = config(lam, [version_arn], "Enforce")
    version = signer.get_signing_profile(profileName=name)["profileVersion"]
    signer.revoke_signing_profile(profileName=name, profileVersion=version, reason="key leaked",
                                  effectiveTime=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1))
    got = signer.get_signing_profile(profileName=name)
    assert got["status"] == "Revoked" and got["statusReason"] == "key leaked"
    fn = unique("revoked")
    code, message, status = failure(create, lam=lam, bucket=bucket, key=key, csc=csc, name=fn)
    assert (code, status, message) == (UNTRUSTED[0], UNTRUSTED[1], UNTRUSTED[2] % fn)

    # one job's signature revoked; another of the same profile still deploys
    name, version_arn = profile(signer)
    revoked_key, revoked_job = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "a"}))
    good_key, _ = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "b"}))
    signer.revoke_signature(jobId=revoked_job["jobId"], reason="bad build")
    assert signer.describe_signing_job(jobId=revoked_job["jobId"])["revocationRecord"]["reason"] == "bad build"
    csc = config(lam, [version_arn], "Enforce")
    fn = unique("revsig")
    code, message, status = failure(create, lam=lam, bucket=bucket, key=revoked_key, csc=csc, name=fn)
    assert (code, status, message) == (UNTRUSTED[0], UNTRUSTED[1], UNTRUSTED[2] % fn)
    assert create(lam, bucket, good_key, csc, fn)["SigningProfileVersionArn"] == version_arn


def test_canceled_profiles_sign_no_more(server, bucket):
    lam, signer = server.client(), server.client("signer")
    name, version_arn = profile(signer)
    key, _ = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "x"}))
    signer.cancel_signing_profile(profileName=name)
    assert signer.get_signing_profile(profileName=name)["status"] == "Canceled"
    assert name not in [p["profileName"] for p in signer.list_signing_profiles()["profiles"]]
    assert name in [p["profileName"] for p in signer.list_signing_profiles(includeCanceled=True)["profiles"]]
    with pytest.raises(signer.exceptions.ValidationException):
        sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "y"}))
    # what it signed before stays valid
    assert create(lam, bucket, key, config(lam, [version_arn], "Enforce"))["SigningProfileVersionArn"] == version_arn
    with pytest.raises(signer.exceptions.ValidationException) as e:
        signer.put_signing_profile(profileName=name, platformId="AWSLambda-SHA384-ECDSA")
    assert e.value.response["Error"]["Message"] == f"Profile with name {name} already exists"


def test_layers_of_a_signed_function_are_checked(server, bucket):
    lam, signer, s3 = server.client(), server.client("signer"), bucket[0]
    name, version_arn = profile(signer)
    key, _ = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "x"}))
    fn = unique("layered")
    create(lam, bucket, key, config(lam, [version_arn], "Enforce"), fn)
    lam.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    plain = lam.publish_layer_version(LayerName=unique("plain"), Content={"ZipFile": make_zip({"python/m.py": "X=1\n"})})
    code, message, status = failure(lam.update_function_configuration, FunctionName=fn,
                                    Layers=[plain["LayerVersionArn"]])
    assert (code, status, message) == (UNTRUSTED[0], UNTRUSTED[1], UNTRUSTED[2] % fn)
    layer_key, _ = sign(signer, bucket, name, make_zip({"python/m.py": "X=2\n"}))
    signed_layer = lam.publish_layer_version(LayerName=unique("signed"),
                                             Content={"S3Bucket": bucket[1], "S3Key": layer_key})
    lam.update_function_configuration(FunctionName=fn, Layers=[signed_layer["LayerVersionArn"]])
    lam.get_waiter("function_updated_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert [x["Arn"] for x in lam.get_function_configuration(FunctionName=fn)["Layers"]] == [
        signed_layer["LayerVersionArn"]]
    assert s3  # the bucket is moto's


def test_the_aws_cli_flow(server, bucket):
    s3, b = bucket
    version = s3.put_object(Bucket=b, Key="cli.zip", Body=make_zip({"fn.py": HANDLER % "cli"}))["VersionId"]
    name = "cli" + uuid.uuid4().hex[:10]
    put = aws_json(server, "put-signing-profile", "--profile-name", name, "--platform-id", "AWSLambda-SHA384-ECDSA",
                   service="signer")
    job = aws_json(server, "start-signing-job", "--profile-name", name,
                   "--source", json.dumps({"s3": {"bucketName": b, "key": "cli.zip", "version": version}}),
                   "--destination", json.dumps({"s3": {"bucketName": b, "prefix": "cli/"}}), service="signer")
    described = aws_json(server, "describe-signing-job", "--job-id", job["jobId"], service="signer")
    assert described["status"] == "Succeeded"
    csc = aws_json(server, "create-code-signing-config", "--allowed-publishers",
                   f"SigningProfileVersionArns={put['profileVersionArn']}",
                   "--code-signing-policies", "UntrustedArtifactOnDeployment=Enforce")["CodeSigningConfig"]
    fn = unique("cli")
    out = aws_json(server, "create-function", "--function-name", fn, "--runtime", "python3.12", "--role", ROLE,
                   "--handler", "fn.handler", "--code", f"S3Bucket={b},S3Key={described['signedObject']['s3']['key']}",
                   "--code-signing-config-arn", csc["CodeSigningConfigArn"])
    assert out["SigningProfileVersionArn"] == put["profileVersionArn"]
    deadline = time.monotonic() + 60
    while aws_json(server, "get-function", "--function-name", fn)["Configuration"]["State"] != "Active":
        assert time.monotonic() < deadline
    assert invoke(server.client(), fn)[1] == "cli"


def test_lamb_sign_works_offline_and_the_running_lamb_trusts_it(server, tmp_path):
    lam, signer = server.client(), server.client("signer")
    name, version_arn = profile(signer)
    src, out = tmp_path / "app.zip", tmp_path / "app-signed.zip"
    src.write_bytes(make_zip({"fn.py": HANDLER % "offline"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMB_", "AWS_"))}
    proc = subprocess.run([sys.executable, "-m", "lamb", "sign", "--profile-name", name, "--data-dir",
                           str(server.data_dir), str(src), str(out)], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert version_arn in proc.stdout
    fn = unique("offline")
    made = lam.create_function(FunctionName=fn, Runtime="python3.12", Role=ROLE, Handler="fn.handler",
                               Code={"ZipFile": out.read_bytes()},
                               CodeSigningConfigArn=config(lam, [version_arn], "Enforce"))
    assert made["SigningProfileVersionArn"] == version_arn
    missing = subprocess.run([sys.executable, "-m", "lamb", "sign", "--profile-name", "nosuchprofile", "--data-dir",
                              str(server.data_dir), str(src), str(out)], capture_output=True, text=True, env=env,
                             timeout=60)
    assert missing.returncode == 1 and "no signing profile nosuchprofile" in missing.stderr


def test_sign_payload_and_list_signing_jobs(server, bucket):
    signer = server.client("signer")
    name, version_arn = profile(signer)
    out = signer.sign_payload(profileName=name, payload=b"hello", payloadFormat="application/octet-stream")
    assert out["metadata"]["profileVersionArn"] == version_arn and out["signature"]
    # checkable with the profile's key: the signature verifies over the payload and not over another one
    db = sqlite3.connect(f"file:{server.data_dir / 'lamb.db'}?mode=ro", uri=True)
    try:
        (row,), = db.execute("SELECT data FROM signing_profiles WHERE id = ?", (name,))
    finally:
        db.close()
    assert "PRIVATE" not in row  # the private key is sealed
    public = load_pem_public_key(json.loads(row)["_publicKey"].encode())
    public.verify(out["signature"], b"hello", ec.ECDSA(hashes.SHA384()))
    with pytest.raises(InvalidSignature):
        public.verify(out["signature"], b"hellO", ec.ECDSA(hashes.SHA384()))

    _, job = sign(signer, bucket, name, make_zip({"fn.py": HANDLER % "listed"}))
    signer.revoke_signature(jobId=job["jobId"], reason="r")
    jobs = signer.list_signing_jobs(isRevoked=True)["jobs"]
    assert job["jobId"] in [j["jobId"] for j in jobs] and all(j["isRevoked"] for j in jobs)
    everything = [j["jobId"] for j in signer.list_signing_jobs()["jobs"]]
    assert out["jobId"] in everything and job["jobId"] in everything
    seen, token = [], None
    while True:
        page = signer.list_signing_jobs(maxResults=1, **({"nextToken": token} if token else {}))
        seen += [j["jobId"] for j in page["jobs"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == everything
