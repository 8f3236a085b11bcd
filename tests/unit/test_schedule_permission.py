"""lamb.schedules.permission: a rule invokes a function only if its resource policy allows the rule."""

from __future__ import annotations

import pytest

from lamb.policy.resources import Resource
from lamb.protocol.errors import AwsError
from lamb.schedules.permission import InvokePermission

from .conftest import ARN

RULE = "arn:aws:events:us-east-1:000000000000:rule/r"


def allow(functions, qualifier=None, is_alias=False, **condition) -> None:
    res = Resource(functions.get("f"), qualifier, is_alias)
    resource = ARN + (f":{qualifier}" if qualifier else "")
    st = {"Sid": "s", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
          "Action": "lambda:InvokeFunction", "Resource": resource}
    if condition:
        st["Condition"] = condition
    res.save(functions, {**res.record, "_Policy": {"Document": {"Version": "2012-10-17", "Statement": [st]},
                                                   "RevisionId": "p"}})


def test_no_policy_is_access_denied(functions):
    check = InvokePermission(functions, region="us-east-1", account="000000000000")
    with pytest.raises(AwsError) as e:
        check(ARN, "events.amazonaws.com", RULE)
    assert e.value.code == "AccessDeniedException" and e.value.status == 403
    assert "events.amazonaws.com" in e.value.message and ARN in e.value.message


def test_source_arn_condition_names_the_rule(functions):
    check = InvokePermission(functions, region="us-east-1", account="000000000000")
    allow(functions, ArnLike={"AWS:SourceArn": RULE})
    check(ARN, "events.amazonaws.com", RULE)
    check(ARN + ":$LATEST", "events.amazonaws.com", RULE)
    with pytest.raises(AwsError):
        check(ARN, "events.amazonaws.com", RULE + "-other")


def test_the_alias_and_version_policies_are_their_own(functions):
    check = InvokePermission(functions, region="us-east-1", account="000000000000")
    allow(functions)  # the unqualified function only
    check(ARN, "events.amazonaws.com", RULE)
    with pytest.raises(AwsError):
        check(ARN + ":live", "events.amazonaws.com", RULE)
    allow(functions, "live", is_alias=True)
    check(ARN + ":live", "events.amazonaws.com", RULE)
    with pytest.raises(AwsError):
        check(ARN + ":1", "events.amazonaws.com", RULE)


def test_scheduler_and_missing_functions(functions):
    check = InvokePermission(functions, region="us-east-1", account="000000000000")
    check(ARN, "scheduler.amazonaws.com", "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s")  # RoleArn
    with pytest.raises(AwsError) as e:
        check(ARN[:-1] + "gone", "events.amazonaws.com", RULE)
    assert e.value.code == "ResourceNotFoundException"
