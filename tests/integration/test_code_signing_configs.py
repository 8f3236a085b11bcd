"""Code signing configurations through the Lambda API against a real ``lamb serve``.

Answers as AWS gave them in LocalStack's AWS-validated snapshots
(tests/aws/services/lambda_/test_lambda_api.snapshot.json, ``TestCodeSigningConfig``).
"""

from __future__ import annotations

import re

import pytest

from .conftest import create, refused, unique

CODE = "def handler(e, c):\n    return 1\n"


def profile_arn(server, name: str = "test") -> str:
    return f"arn:aws:signer:{server.region}:{server.account_id}:/signing-profiles/{name}"


def new_config(lam, server, policy: str = "Enforce", **kw) -> dict:
    return lam.create_code_signing_config(
        Description="Testing CodeSigning Config", AllowedPublishers={"SigningProfileVersionArns": [profile_arn(server)]},
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": policy}, **kw)


def body(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def test_a_config_through_its_life(lam, lamb_server):
    name = unique("csc")
    create(lam, name, CODE)
    created = new_config(lam, lamb_server)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    csc = created["CodeSigningConfig"]
    arn = csc["CodeSigningConfigArn"]
    assert re.fullmatch(r"csc-[a-z0-9]{17}", csc["CodeSigningConfigId"])
    assert arn == f"arn:aws:lambda:{lamb_server.region}:{lamb_server.account_id}:code-signing-config:" \
                  f"{csc['CodeSigningConfigId']}"
    assert {k: v for k, v in csc.items() if k not in ("CodeSigningConfigArn", "CodeSigningConfigId", "LastModified")} \
        == {"Description": "Testing CodeSigning Config",
            "AllowedPublishers": {"SigningProfileVersionArns": [profile_arn(lamb_server)]},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"}}

    updated = lam.update_code_signing_config(CodeSigningConfigArn=arn,
                                             CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"})
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["CodeSigningConfig"]["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert updated["CodeSigningConfig"]["Description"] == "Testing CodeSigning Config"
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == updated["CodeSigningConfig"]

    put = lam.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
    assert body(put) == {"CodeSigningConfigArn": arn, "FunctionName": name}
    assert body(lam.get_function_code_signing_config(FunctionName=name)) == body(put)
    listed = lam.list_code_signing_configs()["CodeSigningConfigs"]
    assert updated["CodeSigningConfig"] in listed
    assert body(lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)) == {
        "FunctionArns": [lamb_server.arn(name)]}

    refused(lam, "ResourceConflictException", 409,
            f"The code signing configuration {arn} cannot be deleted because it is used by 1 function(s): "
            f"{lamb_server.arn(name)}", lam.delete_code_signing_config, CodeSigningConfigArn=arn)

    assert lam.delete_function_code_signing_config(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert body(lam.get_function_code_signing_config(FunctionName=name)) == {}
    assert lam.delete_code_signing_config(CodeSigningConfigArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert arn not in [c["CodeSigningConfigArn"] for c in lam.list_code_signing_configs()["CodeSigningConfigs"]]


def test_not_found_answers(lam, lamb_server):
    name = unique("csc")
    create(lam, name, CODE)
    arn = new_config(lam, lamb_server)["CodeSigningConfig"]["CodeSigningConfigArn"]
    bad = arn[:-1] + ("x" if arn[-1] != "x" else "y")
    gone = f"The Lambda code signing configuration {bad} can not be found."
    missing_fn = f"Function not found: {lamb_server.arn('csc-test-doesnotexist')}"
    csc_missing = f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: {bad}."

    refused(lam, "ResourceNotFoundException", 404, gone, lam.delete_code_signing_config, CodeSigningConfigArn=bad)
    assert lam.delete_function_code_signing_config(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    refused(lam, "ResourceNotFoundException", 404, missing_fn, lam.delete_function_code_signing_config,
            FunctionName="csc-test-doesnotexist")
    refused(lam, "ResourceNotFoundException", 404, missing_fn, lam.put_function_code_signing_config,
            FunctionName="csc-test-doesnotexist", CodeSigningConfigArn=arn)
    refused(lam, "CodeSigningConfigNotFoundException", 404, csc_missing, lam.put_function_code_signing_config,
            FunctionName=name, CodeSigningConfigArn=bad)
    refused(lam, "CodeSigningConfigNotFoundException", 404, csc_missing, lam.put_function_code_signing_config,
            FunctionName="csc-test-doesnotexist", CodeSigningConfigArn=bad)
    refused(lam, "ResourceNotFoundException", 404, gone, lam.update_code_signing_config,
            CodeSigningConfigArn=bad, Description="new-description")
    refused(lam, "ResourceNotFoundException", 404, gone, lam.update_code_signing_config, CodeSigningConfigArn=bad)
    same = lam.update_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"]
    assert same == lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"]
    refused(lam, "ResourceNotFoundException", 404, gone, lam.get_code_signing_config, CodeSigningConfigArn=bad)
    assert body(lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)) == {"FunctionArns": []}
    refused(lam, "ResourceNotFoundException", 404, gone, lam.list_functions_by_code_signing_config,
            CodeSigningConfigArn=bad)
    # CreateFunction with a config that does not exist
    refused(lam, "CodeSigningConfigNotFoundException", 404, csc_missing, lambda **kw: create(lam, unique("csc"), CODE, **kw),
            CodeSigningConfigArn=bad, wait=False)


def test_defaults_validation_pagination_and_tags(lam, lamb_server):
    plain = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [profile_arn(lamb_server)]},
                                           Tags={"team": "a"})["CodeSigningConfig"]
    assert plain["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert plain["Description"] == ""
    arn = plain["CodeSigningConfigArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    lam.tag_resource(Resource=arn, Tags={"env": "dev"})
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "dev"}

    with pytest.raises(lam.exceptions.ClientError) as e:
        lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [
            profile_arn(lamb_server, f"p{i}") for i in range(21)]})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "signingProfileVersionArns" in e.value.response["Error"]["Message"] or \
        "SigningProfileVersionArns" in e.value.response["Error"]["Message"]

    for _ in range(3):
        new_config(lam, lamb_server)
    everything = lam.list_code_signing_configs()["CodeSigningConfigs"]
    seen, marker = [], None
    while True:
        page = lam.list_code_signing_configs(MaxItems=2, **({"Marker": marker} if marker else {}))
        assert len(page["CodeSigningConfigs"]) <= 2
        seen += page["CodeSigningConfigs"]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == everything and len(everything) >= 4
