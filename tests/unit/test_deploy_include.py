"""deploy/include.py: the AWS::Include transform (local and S3 snippets, replace and merge, nesting)."""

from __future__ import annotations

import pytest

from lamb.deploy.include import expand
from lamb.deploy.template import TemplateError


def _include(location: str) -> dict:
    return {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": location}}}


def _no_s3(bucket: str, key: str) -> bytes:
    raise AssertionError(f"unexpected S3 read s3://{bucket}/{key}")


def test_sole_key_is_replaced_by_a_local_snippet_with_short_form_tags(tmp_path):
    (tmp_path / "body.yaml").write_text("paths:\n  /x:\n    get: {uri: !Sub '${Fn.Arn}'}\n")
    doc = {"Resources": {"A": {"Properties": {"DefinitionBody": _include("body.yaml")}}}}
    out = expand(doc, tmp_path, _no_s3)
    assert out["Resources"]["A"]["Properties"]["DefinitionBody"] == {"paths": {"/x": {"get": {"uri": {"Fn::Sub": "${Fn.Arn}"}}}}}
    assert doc["Resources"]["A"]["Properties"]["DefinitionBody"] == _include("body.yaml")  # the input is kept


def test_s3_snippet_is_merged_beside_other_keys_and_may_include_more(tmp_path):
    objects = {("b", "res.json"): b'{"Q": {"Type": "AWS::SQS::Queue"}, "More": {"Fn::Transform": '
                                  b'{"Name": "AWS::Include", "Parameters": {"Location": "s3://b/more.yaml"}}}}',
               ("b", "more.yaml"): b"Type: AWS::SNS::Topic\n"}
    reads = []

    def read(bucket: str, key: str) -> bytes:
        reads.append((bucket, key))
        return objects[(bucket, key)]

    doc = {"Resources": {"F": {"Type": "X"}, **_include("s3://b/res.json")}}
    out = expand(doc, tmp_path, read)
    assert out == {"Resources": {"F": {"Type": "X"}, "Q": {"Type": "AWS::SQS::Queue"}, "More": {"Type": "AWS::SNS::Topic"}}}
    assert reads == [("b", "res.json"), ("b", "more.yaml")]


def test_other_transforms_and_lists_pass_through(tmp_path):
    other = {"Fn::Transform": {"Name": "MyMacro", "Parameters": {}}}
    assert expand([other, 1, "x"], tmp_path, _no_s3) == [other, 1, "x"]


@pytest.mark.parametrize("node, message", [
    (_include("s3://bucket-only"), "AWS::Include Location s3://bucket-only is not s3://bucket/key"),
    ({"Fn::Transform": {"Name": "AWS::Include"}}, "AWS::Include needs Parameters.Location (an s3:// URI)"),
    (_include("missing.yaml"), "AWS::Include Location missing.yaml: "),
    ({"k": 1, **_include("list.yaml")}, "AWS::Include list.yaml: a snippet merged beside other keys must be an object"),
    (_include("bad.yaml"), "AWS::Include bad.yaml is not valid YAML or JSON: "),
    (_include("loop.yaml"), "AWS::Include loop.yaml: includes nested more than 10 deep"),
])
def test_errors(tmp_path, node, message):
    (tmp_path / "list.yaml").write_text("- 1\n")
    (tmp_path / "bad.yaml").write_text("a: [\n")
    (tmp_path / "loop.yaml").write_text("Fn::Transform: {Name: AWS::Include, Parameters: {Location: loop.yaml}}\n")
    with pytest.raises(TemplateError) as e:
        expand(node, tmp_path, _no_s3)
    assert str(e.value).startswith(message)


def test_top_level_include_merges_sections_and_keeps_other_transforms(tmp_path):
    (tmp_path / "more.yaml").write_text("Resources:\n  Q: {Type: AWS::SQS::Queue}\nOutputs:\n  O: {Value: x}\n")
    inc = {"Name": "AWS::Include", "Parameters": {"Location": "more.yaml"}}
    doc = {"Transform": ["AWS::Serverless-2016-10-31", inc], "Resources": {"F": {"Type": "X"}}}
    from lamb.deploy.include import expand_template

    assert expand_template(doc, tmp_path, _no_s3) == {
        "Transform": ["AWS::Serverless-2016-10-31"], "Resources": {"F": {"Type": "X"}, "Q": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"O": {"Value": "x"}}}
    assert expand_template({"Transform": inc, "Resources": {}}, tmp_path, _no_s3) == {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"O": {"Value": "x"}}}
    assert expand_template({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}}, tmp_path, _no_s3) == {
        "Transform": "AWS::Serverless-2016-10-31", "Resources": {}}


def test_local_snippets_read_are_listed_for_watch(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\n")
    (tmp_path / "b.yaml").write_text("Fn::Transform: {Name: AWS::Include, Parameters: {Location: a.yaml}}\n")
    files: list = []
    assert expand({"k": _include("b.yaml")}, tmp_path, _no_s3, files=files) == {"k": {"x": 1}}
    assert files == [(tmp_path / "b.yaml").resolve(), (tmp_path / "a.yaml").resolve()]
