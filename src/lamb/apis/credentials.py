"""Integration and authorizer credentials: API Gateway invoking a function as an IAM role.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-create-and-attach-iam-policy.html
(and the ``credentials`` / ``CredentialsArn`` / ``authorizerCredentials`` /
``AuthorizerCredentialsArn`` members of the REST and HTTP API references): when an integration
(or a Lambda authorizer) names a role, API Gateway assumes it and invokes the function with
the role's permissions instead of relying on the function's resource-based policy. So:

- the role must exist and its trust policy must let ``apigateway.amazonaws.com`` call
  ``sts:AssumeRole``;
- the role's identity-based policies must allow ``lambda:InvokeFunction`` on the function
  (the ARN as the integration names it, qualified or not), evaluated with AWS's logic
  (``services.authorize.check``): an explicit deny in the function's own policy still wins, and
  a role of another account needs the function's policy to allow it too.

Anything else fails the request as a missing permission does (HTTP APIs 500
``Internal Server Error``, REST APIs 500 ``Internal server error``). The REST value
``arn:aws:iam::*:user/*`` invokes with the caller's own credentials: the signer of an
``AWS_IAM`` method (``iam_auth``) must be allowed ``lambda:InvokeFunction`` by its identity
policies (or the function's policy); without a signed caller the request fails (500).
Decisions are not cached: a changed role policy applies to the next request. AWS service
integrations (``aws_services``) use the same role checks: ``may_assume`` (exists, trusts API
Gateway) and ``refusal`` (its identity policies for the service's action on its resource).
"""

from __future__ import annotations

import re
from typing import Callable

from ..identity import ids
from ..policy import evaluate as policy_eval
from ..policy.resources import document_of
from ..protocol.errors import AwsError
from ..services.authorize import Who, check

SERVICE = "apigateway.amazonaws.com"
CALLER = "arn:aws:iam::*:user/*"  # REST: "use the caller's credentials"
SESSION = "apigateway"  # the session name of the assumed role (the ARN policies see)
_ROLE_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


def is_role_arn(value: object) -> bool:
    return isinstance(value, str) and _ROLE_ARN.fullmatch(value) is not None


class Credentials:
    """``may_invoke(role_arn, function_arn, record)``: whether the role lets API Gateway invoke."""

    def __init__(self, role_by_arn: Callable[[str], dict | None],
                 role_policies: Callable[[dict], list[dict]]) -> None:
        self.role_by_arn = role_by_arn
        self.role_policies = role_policies

    def assumable(self, role_arn: str) -> dict | None:
        """The role, when it exists and its trust policy lets API Gateway assume it."""
        role = self.role_by_arn(role_arn) if is_role_arn(role_arn) else None
        if role is None:
            return None
        trust = policy_eval.evaluate([role.get("AssumeRolePolicyDocument")], policy_eval.Request(
            policy_eval.Principal.service(SERVICE), "sts:AssumeRole", role["Arn"], {}))
        return role if trust is policy_eval.Decision.ALLOW else None

    def may_assume(self, role_arn: str) -> bool:
        return self.assumable(role_arn) is not None

    def refusal(self, role_arn: str, action: str, resource: str) -> str | None:
        """Why the role (as API Gateway's session) may not do ``action`` on ``resource`` by its identity
        policies (AWS's AccessDenied message), or None when they allow it (AWS service integrations; the
        resource's own policy, e.g. a queue's, is the service's and is not read)."""
        role = self.assumable(role_arn)
        if role is None:
            return f"API Gateway cannot assume {role_arn}"
        account = role["Arn"].split(":")[4]
        who = Who(account, ids.assumed_role_arn(account, role["RoleName"], SESSION), self.role_policies(role))
        try:  # the identity policies only: a resource's own policy (a queue's, a bus's) is the service's to apply
            check(who, action, resource, resource_account=account)
        except AwsError as e:
            return e.message
        return None

    def may_invoke(self, role_arn: str, function_arn: str, record: dict) -> bool:
        role = self.assumable(role_arn)
        if role is None:
            return False
        account = role["Arn"].split(":")[4]
        who = Who(account, ids.assumed_role_arn(account, role["RoleName"], SESSION), self.role_policies(role))
        return self.caller_may_invoke(who, function_arn, record)

    @staticmethod
    def caller_may_invoke(who: Who, function_arn: str, record: dict) -> bool:
        """Whether ``who`` (the assumed role, or the AWS_IAM caller for ``arn:aws:iam::*:user/*``) may invoke
        the function: AWS's evaluation of its identity policies and the function's policy."""
        try:
            check(who, "lambda:InvokeFunction", function_arn, resource_account=function_arn.split(":")[4],
                  resource_policy=document_of(record),
                  context={"lambda:FunctionArn": ":".join(function_arn.split(":")[:7])})
        except AwsError:
            return False
        return True
