"""deploy/intrinsics.py: CloudFormation's intrinsic and condition functions."""

from __future__ import annotations

import pytest

from lamb.deploy.intrinsics import Context, TemplateError, Unresolved, references

PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "000000000000", "AWS::StackName": "s"}


def ctx(**kw) -> Context:
    attrs = {"Fn": {"Ref": "fn-name", "Arn": "arn:fn"}}

    def ref(lid):
        if lid not in attrs:
            raise Unresolved(lid)
        return attrs[lid]["Ref"]

    return Context(PSEUDO, kw.pop("parameters", {"Env": "prod", "L": ["a", "b"]}),
                   {"M": {"prod": {"Size": 3}}}, {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                                                  "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [False]}]}},
                   ref, lambda lid, a: attrs[lid][a], lambda name: {"exp": "v"}[name])


def test_functions():
    c = ctx()
    assert c.resolve({"Ref": "Fn"}) == "fn-name"
    assert c.resolve({"Fn::GetAtt": "Fn.Arn"}) == "arn:fn"
    assert c.resolve({"Fn::Sub": "${AWS::Region}/${Fn}/${Fn.Arn}/${!Literal}"}) == "us-east-1/fn-name/arn:fn/${Literal}"
    assert c.resolve({"Fn::Sub": ["${x}-${Env}", {"x": {"Ref": "AWS::StackName"}}]}) == "s-prod"
    assert c.resolve({"Fn::Join": [",", {"Ref": "L"}]}) == "a,b"
    assert c.resolve({"Fn::Select": ["1", {"Fn::Split": ["|", "x|y|z"]}]}) == "y"
    assert c.resolve({"Fn::FindInMap": ["M", {"Ref": "Env"}, "Size"]}) == 3
    assert c.resolve({"Fn::If": ["Both", "yes", "no"]}) == "yes"
    assert c.resolve({"Fn::ImportValue": "exp"}) == "v"
    assert c.resolve({"Fn::Base64": "hi"}) == "aGk="
    assert c.resolve({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, 2]}]}) == {"b": [1]}


def test_errors():
    c = ctx()
    with pytest.raises(Unresolved):
        c.resolve({"Ref": "NotYet"})
    with pytest.raises(TemplateError):
        c.resolve({"Fn::FindInMap": ["M", "dev", "Size"]})
    with pytest.raises(TemplateError):
        c.condition("Nope")


def test_references():
    value = {"A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["Y", "Arn"]}, "C": {"Fn::Sub": ["${Z.Arn}${local}${!no}", {"local": {"Ref": "W"}}]},
             "D": {"Fn::GetAtt": "V.Arn"}}
    assert references(value) == {"X", "Y", "Z", "W", "V"}
