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
