"""deploy/plan.py: parameters, overrides, resource order, replacement, the change set table."""

from __future__ import annotations

import pytest

from lamb.deploy.intrinsics import TemplateError
from lamb.deploy.plan import ADD, NONE, REFUSE, REMOVE, Change, needs_replacement, order, parameters, parse_overrides, render


def test_parameters_and_overrides():
    declared = {"A": {"Type": "String", "Default": "x"}, "N": {"Type": "Number"},
                "L": {"Type": "CommaDelimitedList", "Default": "a, b"}, "E": {"Type": "String", "Default": "dev",
                                                                            "AllowedValues": ["dev", "prod"]}}
    assert parameters(declared, {"N": "3"}) == {"A": "x", "N": 3, "L": ["a", "b"], "E": "dev"}
    with pytest.raises(TemplateError, match=r"Parameters: \[N\] must have values"):
        parameters(declared, {})
    with pytest.raises(TemplateError):
        parameters(declared, {"N": "1", "E": "qa"})
    with pytest.raises(TemplateError):
        parameters(declared, {"N": "1", "Zed": "1"})
    assert parse_overrides(["A=1=2", "ParameterKey=B,ParameterValue=x,y"]) == {"A": "1=2", "B": "x,y"}


def test_order_follows_references_and_depends_on():
    resources = {"Alias": {"Properties": {"V": {"Fn::GetAtt": ["Version", "Version"]}}},
                 "Version": {"Properties": {"F": {"Ref": "Fn"}}},
                 "Fn": {"Properties": {"Env": {"Fn::Sub": "${AWS::Region}"}}, "DependsOn": "Queue"},
                 "Queue": {}}
    assert order(resources) == ["Queue", "Fn", "Version", "Alias"]
    with pytest.raises(TemplateError, match="Circular"):
        order({"A": {"Properties": {"x": {"Ref": "B"}}}, "B": {"Properties": {"x": {"Ref": "A"}}}})


def test_replacement_and_render():
    assert needs_replacement(frozenset({"*"}), {"a": 1}, {"a": 2})
    assert not needs_replacement(frozenset({"Name"}), {"Name": "x", "a": 1}, {"Name": "x", "a": 2})
    table = render([Change(ADD, "Fn", "AWS::Lambda::Function"), Change(NONE, "Same", "T"),
                    Change(REMOVE, "Old", "AWS::Lambda::Version", "retained: DeletionPolicy Retain")])
    assert "+ Add" in table and "- Delete" in table and "Same" not in table
    assert render([Change(NONE, "Same", "T")]) == "No changes to deploy."


def test_a_refused_modification_is_shown_with_its_reason():
    from lamb.deploy.aws_resources import Table

    old = {"TableName": "t", "KeySchema": [], "GlobalSecondaryIndexes": []}
    reason = Table().update_refusal(old, dict(old, GlobalSecondaryIndexes=[{"IndexName": "i"}]))
    assert reason and reason.startswith("refused:") and "GlobalSecondaryIndexes" in reason
    assert Table().update_refusal(old, dict(old, BillingMode="PROVISIONED")) is None
    text = render([Change(REFUSE, "Tbl", "AWS::DynamoDB::Table", reason)])
    assert text.splitlines()[1].startswith("x Refused") and "GlobalSecondaryIndexes" in text
