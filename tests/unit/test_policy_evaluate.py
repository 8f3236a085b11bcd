"""AWS's policy evaluation logic (lamb.policy.evaluate), on the examples of the IAM User
Guide (evaluation logic, policy elements, condition operators) and Lambda's
function URL policies."""

from __future__ import annotations

from lamb.policy.evaluate import Decision, Principal, Request, evaluate

FN = "arn:aws:lambda:us-east-1:111122223333:function:my-function"
ALICE = Principal.aws("arn:aws:iam::111122223333:user/alice")
OTHER = Principal.aws("arn:aws:iam::444455556666:user/bob")


def policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**kw) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": FN, **kw}


def deny(**kw) -> dict:
    return {**allow(**kw), "Effect": "Deny"}


def decide(doc, principal=ALICE, action="lambda:InvokeFunction", resource=FN, **context) -> Decision:
    return evaluate([doc], Request(principal, action, resource, context))


def test_no_statement_is_an_implicit_deny():
    assert decide(None) is Decision.IMPLICIT_DENY
    assert decide(policy()) is Decision.IMPLICIT_DENY
    assert decide(policy(allow(Action="lambda:GetFunction"))) is Decision.IMPLICIT_DENY


def test_explicit_deny_wins_over_allow():
    assert decide(policy(allow())) is Decision.ALLOW
    assert decide(policy(allow(), deny())) is Decision.DENY
    assert decide(policy(deny(), allow())) is Decision.DENY
    # ... across documents too
    assert evaluate([policy(allow()), policy(deny())], Request(ALICE, "lambda:InvokeFunction", FN)) is Decision.DENY


def test_action_wildcards_are_case_insensitive():
    assert decide(policy(allow(Action="lambda:*"))) is Decision.ALLOW
    assert decide(policy(allow(Action="*"))) is Decision.ALLOW
    assert decide(policy(allow(Action="Lambda:invoke*"))) is Decision.ALLOW
    assert decide(policy(allow(Action=["s3:GetObject", "lambda:InvokeFunctio?"]))) is Decision.ALLOW
    assert decide(policy(allow(Action="lambda:Get*"))) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource():
    st = {"Effect": "Allow", "Principal": "*", "NotAction": "lambda:DeleteFunction", "Resource": "*"}
    assert decide(policy(st)) is Decision.ALLOW
    assert decide(policy(st), action="lambda:DeleteFunction") is Decision.IMPLICIT_DENY
    st = {"Effect": "Deny", "Principal": "*", "Action": "*", "NotResource": FN + ":*"}
    assert decide(policy(allow(Resource="*"), st)) is Decision.DENY
    assert decide(policy(allow(Resource="*"), st), resource=FN + ":prod") is Decision.ALLOW


def test_resource_wildcards_are_case_sensitive():
    assert decide(policy(allow(Resource="arn:aws:lambda:*:111122223333:function:my-*"))) is Decision.ALLOW
    assert decide(policy(allow(Resource="arn:aws:lambda:*:111122223333:function:MY-*"))) is Decision.IMPLICIT_DENY
    assert decide(policy(allow(Resource=FN)), resource=FN + ":1") is Decision.IMPLICIT_DENY


def test_principals():
    assert decide(policy(allow(Principal={"AWS": "111122223333"}))) is Decision.ALLOW
    assert decide(policy(allow(Principal={"AWS": "arn:aws:iam::111122223333:root"}))) is Decision.ALLOW
    assert decide(policy(allow(Principal={"AWS": "arn:aws:iam::111122223333:root"})), OTHER) is Decision.IMPLICIT_DENY
    assert decide(policy(allow(Principal={"AWS": ["arn:aws:iam::111122223333:user/alice"]}))) is Decision.ALLOW
    assert decide(policy(allow(Principal={"AWS": "arn:aws:iam::111122223333:user/carol"}))) is Decision.IMPLICIT_DENY
    session = Principal.aws("arn:aws:sts::111122223333:assumed-role/deployer/session-1")
    assert decide(policy(allow(Principal={"AWS": "arn:aws:iam::111122223333:role/deployer"})), session) is Decision.ALLOW
    s3 = Principal.service("s3.amazonaws.com")
    assert decide(policy(allow(Principal={"Service": "s3.amazonaws.com"})), s3) is Decision.ALLOW
    assert decide(policy(allow(Principal={"Service": "s3.amazonaws.com"}))) is Decision.IMPLICIT_DENY
    anonymous = Principal.anonymous()
    assert decide(policy(allow()), anonymous) is Decision.ALLOW
    assert decide(policy(allow(Principal={"AWS": "*"})), anonymous) is Decision.ALLOW
    assert decide(policy(allow(Principal={"AWS": "111122223333"})), anonymous) is Decision.IMPLICIT_DENY
    # NotPrincipal with Deny: everyone but alice is denied.
    st = {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "*", "Resource": "*"}
    assert decide(policy(allow(), st)) is Decision.ALLOW
    assert decide(policy(allow(), st), OTHER) is Decision.DENY


def test_string_operators():
    doc = policy(allow(Condition={"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}))
    assert decide(doc, **{"aws:PrincipalTag/job-category": "iamuser-admin"}) is Decision.ALLOW
    assert decide(doc, **{"aws:principaltag/job-category": "iamuser-admin"}) is Decision.ALLOW  # keys: any case
    assert decide(doc, **{"aws:PrincipalTag/job-category": "IAMUSER-ADMIN"}) is Decision.IMPLICIT_DENY
    assert decide(doc) is Decision.IMPLICIT_DENY  # a missing key fails
    doc = policy(allow(Condition={"StringEqualsIgnoreCase": {"aws:PrincipalTag/job": "Admin"}}))
    assert decide(doc, **{"aws:PrincipalTag/job": "ADMIN"}) is Decision.ALLOW
    doc = policy(allow(Condition={"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}))
    assert decide(doc, **{"s3:prefix": "home/alice/photos", "aws:username": "alice"}) is Decision.ALLOW
    assert decide(doc, **{"s3:prefix": "home/bob/photos", "aws:username": "alice"}) is Decision.IMPLICIT_DENY
    assert decide(doc, **{"s3:prefix": "home/bob/photos"}) is Decision.IMPLICIT_DENY  # unresolved variable
    doc = policy(allow(Condition={"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}))
    assert decide(doc, **{"aws:PrincipalAccount": "444455556666"}) is Decision.ALLOW
    assert decide(doc, **{"aws:PrincipalAccount": "111122223333"}) is Decision.IMPLICIT_DENY
    assert decide(doc) is Decision.ALLOW  # negated operators hold when the key is missing
    doc = policy(allow(Condition={"StringLike": {"aws:userid": "AIDA${*}"}}))
    assert decide(doc, **{"aws:userid": "AIDA*"}) is Decision.ALLOW
    assert decide(doc, **{"aws:userid": "AIDAXYZ"}) is Decision.IMPLICIT_DENY


def test_numeric_date_and_bool_operators():
    doc = policy(allow(Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))
    assert decide(doc, **{"s3:max-keys": "10"}) is Decision.ALLOW
    assert decide(doc, **{"s3:max-keys": 11}) is Decision.IMPLICIT_DENY
    assert decide(doc, **{"s3:max-keys": "ten"}) is Decision.IMPLICIT_DENY
    doc = policy(allow(Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                                  "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}))
    assert decide(doc, **{"aws:CurrentTime": "2020-05-01T12:00:00Z"}) is Decision.ALLOW
    assert decide(doc, **{"aws:CurrentTime": "2020-07-01T00:00:00Z"}) is Decision.IMPLICIT_DENY
    assert decide(doc, **{"aws:CurrentTime": 1588334400}) is Decision.ALLOW  # epoch seconds
    doc = policy(deny(Condition={"Bool": {"aws:SecureTransport": "false"}}), allow())
    assert decide(doc, **{"aws:SecureTransport": False}) is Decision.DENY
    assert decide(doc, **{"aws:SecureTransport": "true"}) is Decision.ALLOW
    assert decide(doc) is Decision.ALLOW  # Bool on a missing key does not match: the deny does not apply


def test_ip_and_arn_operators():
    doc = policy(allow(Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}))
    assert decide(doc, **{"aws:SourceIp": "203.0.113.7"}) is Decision.ALLOW
    assert decide(doc, **{"aws:SourceIp": "2001:db8:1234:5678::1"}) is Decision.ALLOW
    assert decide(doc, **{"aws:SourceIp": "198.51.100.1"}) is Decision.IMPLICIT_DENY
    doc = policy(deny(Condition={"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), allow())
    assert decide(doc, **{"aws:SourceIp": "192.0.2.10"}) is Decision.ALLOW
    assert decide(doc, **{"aws:SourceIp": "10.0.0.1"}) is Decision.DENY
    doc = policy(allow(Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket*"}}))
    assert decide(doc, **{"aws:SourceArn": "arn:aws:s3:::my-bucket-logs"}) is Decision.ALLOW
    assert decide(doc, **{"aws:SourceArn": "arn:aws:s3:::other"}) is Decision.IMPLICIT_DENY
    doc = policy(allow(Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic"}}))
    assert decide(doc, **{"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic"}) is Decision.ALLOW
    assert decide(doc, **{"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:other"}) is Decision.IMPLICIT_DENY
    doc = policy(allow(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"}}))
    assert decide(doc, **{"aws:SourceArn": "arn:aws:sns:eu-west-1:111122223333:a:b"}) is Decision.ALLOW


def test_if_exists_null_and_set_operators():
    doc = policy(allow(Condition={"StringEqualsIfExists": {"ec2:InstanceType": ["t2.micro", "t2.small"]}}))
    assert decide(doc) is Decision.ALLOW
    assert decide(doc, **{"ec2:InstanceType": "t2.small"}) is Decision.ALLOW
    assert decide(doc, **{"ec2:InstanceType": "m5.large"}) is Decision.IMPLICIT_DENY
    doc = policy(allow(Condition={"Null": {"aws:TokenIssueTime": "true"}}))
    assert decide(doc) is Decision.ALLOW
    assert decide(doc, **{"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}) is Decision.IMPLICIT_DENY
    doc = policy(allow(Condition={"Null": {"aws:TokenIssueTime": "false"}}))
    assert decide(doc, **{"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}) is Decision.ALLOW
    doc = policy(allow(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
    assert decide(doc, **{"aws:TagKeys": ["environment"]}) is Decision.ALLOW
    assert decide(doc, **{"aws:TagKeys": ["environment", "owner"]}) is Decision.IMPLICIT_DENY
    assert decide(doc) is Decision.ALLOW  # ForAllValues holds for a missing key
    doc = policy(allow(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
    assert decide(doc, **{"aws:TagKeys": ["owner", "cost-center"]}) is Decision.ALLOW
    assert decide(doc, **{"aws:TagKeys": ["owner"]}) is Decision.IMPLICIT_DENY
    doc = policy(allow(Condition={"UnknownOperator": {"aws:SourceIp": "x"}}))
    assert decide(doc, **{"aws:SourceIp": "x"}) is Decision.IMPLICIT_DENY


def test_function_url_policies_as_lambda_writes_them():
    url = allow(Action="lambda:InvokeFunctionUrl", Condition={"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}})
    invoke = allow(Condition={"Bool": {"lambda:InvokedViaFunctionUrl": "true"}})
    doc = policy(url, invoke)
    ctx = {"lambda:FunctionUrlAuthType": "NONE", "lambda:InvokedViaFunctionUrl": "true"}
    anonymous = Principal.anonymous()
    assert decide(doc, anonymous, "lambda:InvokeFunctionUrl", **ctx) is Decision.ALLOW
    assert decide(doc, anonymous, "lambda:InvokeFunction", **ctx) is Decision.ALLOW
    assert decide(doc, anonymous, "lambda:InvokeFunction") is Decision.IMPLICIT_DENY  # not via a URL
    assert decide(doc, anonymous, "lambda:InvokeFunctionUrl",
                  **{**ctx, "lambda:FunctionUrlAuthType": "AWS_IAM"}) is Decision.IMPLICIT_DENY
