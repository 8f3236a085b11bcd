"""Whether a caller may do what it asks: AWS's policy evaluation logic for every API request.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
and ..._evaluation-logic-cross-account.html:

- an explicit ``Deny`` in an identity-based or the resource-based policy decides;
- in the resource's own account, an ``Allow`` in either kind of policy is enough;
- from another account, both must allow: the caller's identity-based policies (an
  account root has all of its own account's permissions) and the resource's policy;
- an account root is allowed everything in its own account.

The message of a denial names which kind of policy decided
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
``policy.evaluate`` is the one evaluator: identities, resource policies and function URLs use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..policy.evaluate import Decision, Principal, Request, evaluate
from ..protocol.errors import AwsError


@dataclass(frozen=True)
class Who:
    """The caller as authorization sees it: account, ARN, and identity policies (None: all allowed)."""

    account: str
    arn: str
    policies: list[dict] | None
    source_ip: str | None = None
    # An STS session's policies (AssumeRole Policy/PolicyArns): they cap the identity policies
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
    session: list[dict] | None = None


def denied(who: Who, action: str, resource: str, why: str) -> AwsError:
    return AwsError("AccessDeniedException",
                    f"User: {who.arn} is not authorized to perform: {action} on resource: {resource} {why}", 403)


def denied_query(who: Who, action: str, resource: str, why: str) -> AwsError:
    """IAM's and STS's spelling: ``AccessDenied`` (the query protocol's error code)."""
    return AwsError("AccessDenied",
                    f"User: {who.arn} is not authorized to perform: {action} on resource: {resource} {why}", 403,
                    type_="Sender")


def _because(kind: str, action: str, decision: Decision) -> str:
    name = "session policy" if kind == "session" else f"{kind}-based policy"
    if decision is Decision.DENY:
        return f"with an explicit deny in {'an' if kind == 'identity' else 'a'} {name}"
    return f"because no {name} allows the {action} action"


def check(who: Who, action: str, resource: str, *, resource_account: str,
          resource_policy: dict | None = None, context: Mapping[str, Any] | None = None,
          error: Callable[[Who, str, str, str], Exception] = denied) -> None:
    """Raise AWS's AccessDeniedException unless ``who`` may do ``action`` on ``resource``."""
    ctx = {"aws:PrincipalArn": who.arn, "aws:PrincipalAccount": who.account,
           "aws:username": who.arn.rsplit("/", 1)[-1], **(context or {})}
    if who.source_ip:
        ctx.setdefault("aws:SourceIp", who.source_ip)
    request = Request(Principal.aws(who.arn), action, resource, ctx)
    if who.policies is None:
        identity = Decision.ALLOW  # a root has every permission of its account
    else:
        identity = evaluate(who.policies, request)
    res = evaluate([resource_policy], request) if resource_policy else Decision.IMPLICIT_DENY
    if identity is Decision.DENY:
        raise error(who, action, resource, _because("identity", action, identity))
    if who.session is not None:
        session = evaluate(who.session, request)
        if session is Decision.DENY or (session is Decision.IMPLICIT_DENY and res is not Decision.ALLOW):
            raise error(who, action, resource, _because("session", action, session))
    if res is Decision.DENY:
        raise error(who, action, resource, _because("resource", action, res))
    if who.account == resource_account:
        if identity is Decision.ALLOW or res is Decision.ALLOW:
            return
        raise error(who, action, resource, _because("identity", action, identity))
    if res is not Decision.ALLOW:
        raise error(who, action, resource, _because("resource", action, res))
    if identity is not Decision.ALLOW:
        raise error(who, action, resource, _because("identity", action, identity))
