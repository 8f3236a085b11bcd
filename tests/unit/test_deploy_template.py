"""deploy/template.py and translate.py: YAML with short-form tags, JSON, SAM translated by aws-sam-translator."""

from __future__ import annotations

import json

import pytest

from lamb.deploy.template import TemplateError, is_sam, load
from lamb.deploy.translate import to_cloudformation

SAM = """Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://lamb-deploy/abc.zip
      AutoPublishAlias: live
      Environment: {Variables: {ARN: !GetAtt Other.Arn, NAME: !Sub "${AWS::StackName}-x"}}
"""


def test_yaml_and_json(tmp_path):
    (tmp_path / "t.yaml").write_text(SAM)
    doc = load(tmp_path / "t.yaml")
    assert is_sam(doc)
    env = doc["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]
    assert env == {"ARN": {"Fn::GetAtt": ["Other", "Arn"]}, "NAME": {"Fn::Sub": "${AWS::StackName}-x"}}
    (tmp_path / "t.json").write_text(json.dumps({"Resources": {}}))
    assert not is_sam(load(tmp_path / "t.json"))
    (tmp_path / "bad.yaml").write_text("Outputs: {}\n")
    with pytest.raises(TemplateError):
        load(tmp_path / "bad.yaml")


def test_translation_uses_the_sam_translator(tmp_path):
    (tmp_path / "t.yaml").write_text(SAM)
    cfn = to_cloudformation(load(tmp_path / "t.yaml"), {}, "us-east-1")
    types = {r["Type"] for r in cfn["Resources"].values()}
    assert types == {"AWS::Lambda::Function", "AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::IAM::Role"}
    version = next(r for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::Version")
    assert version["DeletionPolicy"] == "Retain"
    (tmp_path / "bad.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn: {Type: AWS::Serverless::Function}\n")
    with pytest.raises(TemplateError):
        to_cloudformation(load(tmp_path / "bad.yaml"), {}, "us-east-1")
