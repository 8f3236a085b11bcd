"""Authorization decisions, from the examples of AWS's policy evaluation logic pages
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
..._evaluation-logic-cross-account.html)."""

import pytest

from lamb.protocol.errors import AwsError
from lamb.services.authorize import Who, check

FN = "arn:aws:lambda:us-east-1:111111111111:function:f"
ALICE = "arn:aws:iam::111111111111:user/alice"
BOB = "arn:aws:iam::222222222222:user/bob"


def allow(action="lambda:*", resource="*", effect="Allow", **extra):
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": resource, **extra}]}


def test_same_account_identity_policy_alone_allows():
    check(Who("111111111111", ALICE, [allow()]), "lambda:InvokeFunction", FN, resource_account="111111111111")


def test_same_account_resource_policy_alone_allows():
    policy = allow(Principal={"AWS": ALICE})
    check(Who("111111111111", ALICE, []), "lambda:InvokeFunction", FN, resource_account="111111111111",
          resource_policy=policy)


def test_implicit_deny_names_the_identity_policy():
    with pytest.raises(AwsError) as e:
        check(Who("111111111111", ALICE, []), "lambda:GetFunction", FN, resource_account="111111111111")
    assert e.value.message == (f"User: {ALICE} is not authorized to perform: lambda:GetFunction on resource: {FN} "
                               f"because no identity-based policy allows the lambda:GetFunction action")


def test_explicit_deny_wins_over_allow():
    with pytest.raises(AwsError) as e:
        check(Who("111111111111", ALICE, [allow(), allow("lambda:Invoke*", FN, "Deny")]), "lambda:InvokeFunction", FN,
              resource_account="111111111111")
    assert e.value.message.endswith("with an explicit deny in an identity-based policy")


def test_cross_account_needs_both_sides():
    resource = allow(Principal={"AWS": "222222222222"})
    with pytest.raises(AwsError) as e:  # identity allows, no resource policy
        check(Who("222222222222", BOB, [allow()]), "lambda:InvokeFunction", FN, resource_account="111111111111")
    assert e.value.message.endswith("because no resource-based policy allows the lambda:InvokeFunction action")
    with pytest.raises(AwsError) as e:  # resource allows, identity does not
        check(Who("222222222222", BOB, []), "lambda:InvokeFunction", FN, resource_account="111111111111",
              resource_policy=resource)
    assert "no identity-based policy" in e.value.message
    check(Who("222222222222", BOB, [allow()]), "lambda:InvokeFunction", FN, resource_account="111111111111",
          resource_policy=resource)
    # the other account's root has all its account's permissions
    check(Who("222222222222", "arn:aws:iam::222222222222:root", None), "lambda:InvokeFunction", FN,
          resource_account="111111111111", resource_policy=resource)


def test_conditions_use_the_request_context():
    policy = allow(Condition={"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}})
    check(Who("111111111111", ALICE, [policy]), "lambda:CreateFunctionUrlConfig", FN, resource_account="111111111111",
          context={"lambda:FunctionUrlAuthType": "AWS_IAM"})
    with pytest.raises(AwsError):
        check(Who("111111111111", ALICE, [policy]), "lambda:CreateFunctionUrlConfig", FN,
              resource_account="111111111111", context={"lambda:FunctionUrlAuthType": "NONE"})


def test_session_policies_cap_the_identity_policies():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session"""
    role = "arn:aws:sts::111111111111:assumed-role/r/s"
    session = [allow("lambda:GetFunction")]
    check(Who("111111111111", role, [allow()], session=session), "lambda:GetFunction", FN, resource_account="111111111111")
    with pytest.raises(AwsError) as e:
        check(Who("111111111111", role, [allow()], session=session), "lambda:InvokeFunction", FN,
              resource_account="111111111111")
    assert e.value.message.endswith("because no session policy allows the lambda:InvokeFunction action")
