"""What an operation means to authorization: action, resource, context keys, iam:PassRole."""

import pytest

from lamb.protocol.errors import AwsError
from lamb.services.access import Access
from lamb.services.authorize import Who

HOME = "111111111111"


def access(policy=None):
    return Access(region="us-east-1", home=HOME, resource_policy=lambda name, q: policy, resource_tags=lambda n: {"team": "a"})


def who(*statements):
    return Who(HOME, f"arn:aws:iam::{HOME}:user/u", [{"Statement": list(statements)}])


def test_invoke_is_invoke_function_on_the_qualified_arn():
    st = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:us-east-1:{HOME}:function:f:live"}
    access().authorize(who(st), "lambda", "Invoke", {"FunctionName": "f", "Qualifier": "live"})
    with pytest.raises(AwsError):
        access().authorize(who(st), "lambda", "Invoke", {"FunctionName": "f"})


def test_resource_tags_and_request_tags_reach_conditions():
    st = {"Effect": "Allow", "Action": "lambda:*", "Resource": "*",
          "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}}}
    access().authorize(who(st), "lambda", "GetFunction", {"FunctionName": "f"})
    st2 = {"Effect": "Allow", "Action": "lambda:TagResource", "Resource": "*",
           "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}}
    access().authorize(who(st2), "lambda", "TagResource", {"Resource": "x", "Tags": {"team": "b"}})


def test_pass_role_on_create_function():
    allow = {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}
    params = {"FunctionName": "f", "Role": f"arn:aws:iam::{HOME}:role/r"}
    with pytest.raises(AwsError) as e:
        access().authorize(who(allow), "lambda", "CreateFunction", params)
    assert "iam:PassRole on resource: arn:aws:iam::111111111111:role/r" in e.value.message
    access().authorize(who(allow, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
                       "lambda", "CreateFunction", params)


def test_iam_denials_are_access_denied():
    with pytest.raises(AwsError) as e:
        access().authorize(who(), "iam", "GetUser", {"UserName": "x"})
    # IAM names an existing user "user <name>" in its refusals
    assert e.value.code == "AccessDenied" and "iam:GetUser on resource: user x because" in e.value.message
    access().authorize(who(), "sts", "GetCallerIdentity", {})


def test_a_function_of_another_account_is_denied_naming_the_caller():
    with pytest.raises(AwsError) as e:
        access().authorize(who(), "lambda", "Invoke", {"FunctionName": "arn:aws:lambda:us-east-1:999999999999:function:f"})
    assert e.value.message == (f"User: arn:aws:iam::{HOME}:user/u is not authorized to perform: lambda:InvokeFunction "
                               f"on resource: arn:aws:lambda:us-east-1:999999999999:function:f because no "
                               f"resource-based policy allows the lambda:InvokeFunction action")
