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


# ---------------------------------------------------------------- permissions boundaries
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html: "an entity's
# permissions boundary allows it to perform only the actions that are allowed by both its
# identity-based policies and its permissions boundaries"; the examples there.
SHIRLEY = "arn:aws:iam::111111111111:user/ShirleyRodriguez"
SESSION = "arn:aws:sts::111111111111:assumed-role/exec/f"
ROLE_ARN = "arn:aws:iam::111111111111:role/exec"
S3_CW_EC2 = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}]}


def test_a_boundary_refuses_what_only_the_identity_policy_allows():
    """The guide's example: the identity policy allows iam:CreateUser, the boundary (S3, CloudWatch,
    EC2) does not, so the user cannot create users."""
    who = Who("111111111111", SHIRLEY, [allow("iam:CreateUser")], boundary=[S3_CW_EC2])
    with pytest.raises(AwsError) as e:
        check(who, "iam:CreateUser", "*", resource_account="111111111111")
    assert e.value.message.endswith("because no permissions boundary allows the iam:CreateUser action")


def test_a_boundary_grants_nothing_by_itself():
    """The boundary allows S3, the identity policy does not: no access."""
    who = Who("111111111111", SHIRLEY, [allow("iam:CreateUser")], boundary=[S3_CW_EC2])
    with pytest.raises(AwsError) as e:
        check(who, "s3:GetObject", "*", resource_account="111111111111")
    assert e.value.message.endswith("because no identity-based policy allows the s3:GetObject action")


def test_what_both_allow_is_allowed():
    who = Who("111111111111", SHIRLEY, [allow("s3:*")], boundary=[S3_CW_EC2])
    check(who, "s3:GetObject", "*", resource_account="111111111111")


def test_an_explicit_deny_in_the_boundary_decides():
    boundary = [S3_CW_EC2, allow("s3:DeleteObject", effect="Deny")]
    who = Who("111111111111", SHIRLEY, [allow("s3:*")], boundary=boundary)
    with pytest.raises(AwsError) as e:
        check(who, "s3:DeleteObject", "*", resource_account="111111111111")
    assert e.value.message.endswith("with an explicit deny in a permissions boundary")


def test_a_resource_policy_naming_the_user_is_not_capped_by_the_boundary():
    """Same account: a resource-based policy that grants the IAM user's ARN is not limited by an
    implicit deny in the boundary."""
    who = Who("111111111111", SHIRLEY, [], boundary=[S3_CW_EC2])
    check(who, "lambda:InvokeFunction", FN, resource_account="111111111111",
          resource_policy=allow("lambda:InvokeFunction", FN, Principal={"AWS": SHIRLEY}))


def test_a_resource_policy_naming_the_role_is_capped_and_one_naming_the_session_is_not():
    """For a role session, an allow for the role's ARN is limited by the boundary; an allow for
    the session's own ARN is not."""
    who = Who("111111111111", SESSION, [], boundary=[S3_CW_EC2])
    with pytest.raises(AwsError) as e:
        check(who, "lambda:InvokeFunction", FN, resource_account="111111111111",
              resource_policy=allow("lambda:InvokeFunction", FN, Principal={"AWS": ROLE_ARN}))
    assert e.value.message.endswith("because no permissions boundary allows the lambda:InvokeFunction action")
    check(who, "lambda:InvokeFunction", FN, resource_account="111111111111",
          resource_policy=allow("lambda:InvokeFunction", FN, Principal={"AWS": SESSION}))


def test_another_accounts_caller_needs_its_boundary_to_allow():
    """Cross-account: the identity side (policies and boundary) must allow as well as the resource policy."""
    who = Who("222222222222", BOB, [allow()], boundary=[S3_CW_EC2])
    with pytest.raises(AwsError) as e:
        check(who, "lambda:InvokeFunction", FN, resource_account="111111111111",
              resource_policy=allow("lambda:InvokeFunction", FN, Principal={"AWS": BOB}))
    assert e.value.message.endswith("because no permissions boundary allows the lambda:InvokeFunction action")


def test_iams_refusals_name_its_entities_as_iam_does():
    """AWS's IAM messages: "… iam:GetRole on resource: role my-role …", "… iam:GetUserPolicy on resource:
    user bob …", "… iam:DeletePolicyVersion on resource: policy arn:aws:iam::…:policy/p …"; a Create* names
    the ARN ("… iam:CreateRole on resource: arn:aws:iam::…:role/new …")."""
    from lamb.services.authorize import denied_iam

    who = Who("111111111111", ALICE, [])
    role = "arn:aws:iam::111111111111:role/team/my-role"
    assert " on resource: role my-role because" in denied_iam(who, "iam:GetRole", role, "because x").message
    assert " on resource: user bob " in denied_iam(who, "iam:GetUserPolicy", "arn:aws:iam::111111111111:user/bob", "").message
    assert f" on resource: {role} " in denied_iam(who, "iam:CreateRole", role, "").message
    policy = "arn:aws:iam::111111111111:policy/p"
    assert f" on resource: policy {policy} " in denied_iam(who, "iam:DeletePolicyVersion", policy, "").message
    assert denied_iam(who, "iam:ListUsers", "*", "").code == "AccessDenied"


def test_identity_policies_see_the_time_of_the_request():
    """``aws:CurrentTime`` and ``aws:EpochTime`` are in every request's context (policy/context.py)."""
    until_2000 = allow(Condition={"DateLessThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}})
    from_2020 = allow(Condition={"NumericGreaterThan": {"aws:EpochTime": "1577836800"}})
    check(Who("111111111111", ALICE, [from_2020]), "lambda:InvokeFunction", FN, resource_account="111111111111")
    with pytest.raises(AwsError):
        check(Who("111111111111", ALICE, [until_2000]), "lambda:InvokeFunction", FN, resource_account="111111111111")


def test_principal_tags_are_in_the_context():
    blue = allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})
    check(Who("111111111111", ALICE, [blue], tags={"team": "blue"}), "lambda:InvokeFunction", FN,
          resource_account="111111111111")
    for tags in ({"team": "red"}, None):
        with pytest.raises(AwsError):
            check(Who("111111111111", ALICE, [blue], tags=tags), "lambda:InvokeFunction", FN,
                  resource_account="111111111111")
