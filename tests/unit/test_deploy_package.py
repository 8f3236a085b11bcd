"""deploy/package.py: local code → content-hashed lamb-deploy locations; deterministic zips."""

from __future__ import annotations

import io
import zipfile

import pytest

from lamb.deploy.package import Packager, PackageError, zip_folder


def test_folder_zip_is_deterministic_and_keeps_modes(tmp_path):
    (tmp_path / "code" / "sub").mkdir(parents=True)
    (tmp_path / "code" / "app.py").write_text("x = 1\n")
    (tmp_path / "code" / "sub" / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "code" / "sub" / "run.sh").chmod(0o755)
    first = zip_folder(tmp_path / "code")
    (tmp_path / "code" / "app.py").touch()  # a new mtime, same content
    assert zip_folder(tmp_path / "code") == first
    names = {i.filename: i.external_attr >> 16 & 0o777 for i in zipfile.ZipFile(io.BytesIO(first)).infolist()}
    assert names == {"app.py": (tmp_path / "code" / "app.py").stat().st_mode & 0o777, "sub/run.sh": 0o755}


def test_package_rewrites_sam_and_cloudformation_code(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text("x = 1\n")
    (tmp_path / "layer.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    packager = Packager(tmp_path / "cache")
    template = {"Resources": {
        "F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "code"}},
        "G": {"Type": "AWS::Lambda::Function", "Properties": {"Code": "code/"}},
        "L": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer.zip"}},
        "S": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "s3://elsewhere/k.zip"}}}}
    out = packager.package(template, tmp_path)
    res = out.template["Resources"]
    location = res["F"]["Properties"]["CodeUri"]
    assert location.startswith("s3://lamb-deploy/") and location.endswith(".zip")
    assert res["G"]["Properties"]["Code"] == {"S3Bucket": "lamb-deploy", "S3Key": location.split("/", 3)[3]}
    assert res["S"]["Properties"]["CodeUri"] == "s3://elsewhere/k.zip"
    assert out.folders == [(tmp_path / "code").resolve()] * 2
    assert packager.local("lamb-deploy", res["L"]["Properties"]["ContentUri"].split("/", 3)[3]) == (tmp_path / "layer.zip").read_bytes()
    assert packager.local("elsewhere", "k.zip") is None
    (tmp_path / "code" / "app.py").write_text("x = 2\n")
    again = packager.package({"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "code"}}}}, tmp_path)
    assert again.template["Resources"]["F"]["Properties"]["CodeUri"] != location  # changed code, new key


def test_missing_code_is_an_error(tmp_path):
    with pytest.raises(PackageError):
        Packager(tmp_path).package({"Resources": {"F": {"Type": "AWS::Serverless::Function",
                                                        "Properties": {"CodeUri": "nope/"}}}}, tmp_path)
    with pytest.raises(PackageError):
        Packager(tmp_path).local("lamb-deploy", "0" * 64 + ".zip")


def test_hot_reload_keeps_function_folders_in_place_and_zips_layers(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "fn.py").write_text("")
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer" / "m.py").write_text("")
    template = {"Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "code/"}},
        "Raw": {"Type": "AWS::Lambda::Function", "Properties": {"Code": "code"}},
        "Layer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer"}}}}
    out = Packager(tmp_path / "cache", hot_reload=True).package(template, tmp_path)
    folder = (tmp_path / "code").resolve().as_posix().lstrip("/")
    assert out.template["Resources"]["Fn"]["Properties"]["CodeUri"] == f"s3://hot-reload/{folder}"
    assert out.template["Resources"]["Raw"]["Properties"]["Code"] == {"S3Bucket": "hot-reload", "S3Key": folder}
    assert out.template["Resources"]["Layer"]["Properties"]["ContentUri"].startswith("s3://lamb-deploy/")
    assert out.folders == [(tmp_path / "layer").resolve()]  # --watch re-deploys for layers, not hot folders


def test_package_rewrites_api_definition_files(tmp_path):
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "rest.yaml").write_text("openapi: 3.0.1\n")
    (tmp_path / "apis" / "http.json").write_text('{"openapi": "3.0.1"}')
    (tmp_path / "apis" / "spec").write_text("openapi: 3.0.1\n")
    packager = Packager(tmp_path / "cache")
    template = {
        "Globals": {"HttpApi": {"DefinitionUri": "apis/http.json"}},
        "Resources": {
            "A": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionUri": "apis/rest.yaml"}},
            "B": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"BodyS3Location": "apis/spec"}},
            "C": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"BodyS3Location": {"Bucket": "b", "Key": "k"}}},
            "D": {"Type": "AWS::Serverless::HttpApi", "Properties": {"DefinitionUri": "s3://b/k.yaml"}}}}
    res = packager.package(template, tmp_path).template["Resources"]
    rest = res["A"]["Properties"]["DefinitionUri"]
    assert rest.startswith("s3://lamb-deploy/") and rest.endswith(".yaml")
    assert packager.local("lamb-deploy", rest.split("/", 3)[3]) == b"openapi: 3.0.1\n"
    # The same bytes are one cache entry whatever the file's name (an unknown suffix is kept as .yaml).
    assert res["B"]["Properties"]["BodyS3Location"] == {"Bucket": "lamb-deploy", "Key": rest.split("/", 3)[3]}
    assert res["C"]["Properties"]["BodyS3Location"] == {"Bucket": "b", "Key": "k"}
    assert res["D"]["Properties"]["DefinitionUri"] == "s3://b/k.yaml"
    http = template["Globals"]["HttpApi"]["DefinitionUri"]
    assert http.startswith("s3://lamb-deploy/") and http.endswith(".json")


def test_missing_definition_file_is_refused(tmp_path):
    template = {"Resources": {"A": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionUri": "nope.yaml"}}}}
    with pytest.raises(PackageError, match=r"^A.DefinitionUri: nope.yaml is neither a file nor an s3:// URI$"):
        Packager(tmp_path / "cache").package(template, tmp_path)
