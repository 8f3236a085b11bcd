"""apis/credentials.py: a role lets API Gateway invoke a function when it trusts
apigateway.amazonaws.com and its policies allow lambda:InvokeFunction (AWS's evaluation logic)."""

from __future__ import annotations

from lamb.apis.credentials import Credentials, is_role_arn

ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def allow(resource: str, effect: str = "Allow") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": "lambda:*", "Resource": resource}]}


def roles(**by_name: tuple[dict, list]) -> Credentials:
    table = {f"arn:aws:iam::{ACCOUNT}:role/{n}": {"Arn": f"arn:aws:iam::{ACCOUNT}:role/{n}", "RoleName": n,
                                                  "AssumeRolePolicyDocument": t, "_p": p}
             for n, (t, p) in by_name.items()}
    return Credentials(table.get, lambda role: role["_p"])


def test_trusted_role_with_an_allowing_policy():
    creds = roles(ok=(TRUST, [allow(FN)]), star=(TRUST, [allow("*")]), alias=(TRUST, [allow(FN + ":live")]))
    assert creds.may_invoke(f"arn:aws:iam::{ACCOUNT}:role/ok", FN, {})
    assert creds.may_invoke(f"arn:aws:iam::{ACCOUNT}:role/star", FN + ":live", {})
    assert creds.may_invoke(f"arn:aws:iam::{ACCOUNT}:role/alias", FN + ":live", {})
    assert not creds.may_invoke(f"arn:aws:iam::{ACCOUNT}:role/alias", FN, {})


def test_untrusted_unknown_powerless_or_denied_roles_fail():
    lambda_trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    creds = roles(untrusted=(lambda_trust, [allow(FN)]), none=(TRUST, []),
                  denied=(TRUST, [allow("*"), allow(FN, "Deny")]))
    for name in ("untrusted", "none", "denied", "missing"):
        assert not creds.may_invoke(f"arn:aws:iam::{ACCOUNT}:role/{name}", FN, {})
    assert not creds.may_invoke("arn:aws:iam::*:user/*", FN, {})


def test_the_functions_explicit_deny_still_wins():
    creds = roles(ok=(TRUST, [allow(FN)]))
    deny = {"Document": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": FN}]}, "RevisionId": "1"}
    assert not creds.may_invoke(f"arn:aws:iam::{ACCOUNT}:role/ok", FN, {"_Policy": deny})


def test_role_arn_format():
    assert is_role_arn(f"arn:aws:iam::{ACCOUNT}:role/path/name")
    for bad in ("role", "arn:aws:iam::*:user/*", f"arn:aws:iam::{ACCOUNT}:user/u", None):
        assert not is_role_arn(bad)


def test_service_action_refusals():
    q = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    send = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": q}]}
    creds = roles(sender=(TRUST, [send]), none=(TRUST, []))
    assert creds.may_assume(f"arn:aws:iam::{ACCOUNT}:role/sender") and not creds.may_assume(f"arn:aws:iam::{ACCOUNT}:role/x")
    assert creds.refusal(f"arn:aws:iam::{ACCOUNT}:role/sender", "sqs:SendMessage", q) is None
    why = creds.refusal(f"arn:aws:iam::{ACCOUNT}:role/sender", "sqs:PurgeQueue", q)
    assert why == (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/sender/apigateway is not authorized to perform: "
                   f"sqs:PurgeQueue on resource: {q} because no identity-based policy allows the sqs:PurgeQueue action")
    assert creds.refusal(f"arn:aws:iam::{ACCOUNT}:role/none", "sqs:SendMessage", q) is not None
    assert creds.refusal(f"arn:aws:iam::{ACCOUNT}:role/missing", "sqs:SendMessage", q) is not None
