"""Whether a caller may do what it asks: AWS's policy evaluation logic for every API request.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
and ..._evaluation-logic-cross-account.html:

- an explicit ``Deny`` in an identity-based or the resource-based policy decides;
- in the resource's own account, an ``Allow`` in either kind of policy is enough;
- from another account, both must allow: the caller's identity-based policies (an
  account root has all of its own account's permissions) and the resource's policy;
- an account root is allowed everything in its own account;
- a permissions boundary caps the identity-based policies: an explicit deny in it decides, and
  an implicit deny refuses unless the resource's policy (same account) allows the caller by its
  own ARN: an IAM user's, or a role session's; an allow for the session's role ARN is capped too
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). Session
  policies cap the same way.

The message of a denial names which kind of policy decided
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
``policy.evaluate`` is the one evaluator: identities, resource policies and function URLs use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..policy.context import time_keys
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
    # The caller's permissions boundary (a user's or a session's role's), None when it has none.
    boundary: list[dict] | None = None
    # Its user's or role's tags: ``aws:PrincipalTag/<key>`` in every request's context.
    tags: Mapping[str, str] | None = None
    # A role session's source identity (AssumeRole ``SourceIdentity``): ``aws:SourceIdentity``.
    source_identity: str | None = None


def denied(who: Who, action: str, resource: str, why: str) -> AwsError:
    return AwsError("AccessDeniedException",
                    f"User: {who.arn} is not authorized to perform: {action} on resource: {resource} {why}", 403)


def denied_query(who: Who, action: str, resource: str, why: str) -> AwsError:
    """IAM's and STS's spelling: ``AccessDenied`` (the query protocol's error code)."""
    return AwsError("AccessDenied",
                    f"User: {who.arn} is not authorized to perform: {action} on resource: {resource} {why}", 403,
                    type_="Sender")


_IAM_ENTITY = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:(user|role|group|instance-profile)/(?:.*/)?([^/]+)")


def denied_iam(who: Who, action: str, resource: str, why: str) -> AwsError:
    """IAM's own refusals name an existing user, role or group as ``user <name>`` (``role <name>``, …)
    and a managed policy as ``policy <arn>``; a Create* names the ARN it would make (as AWS's
    messages read, e.g. "… iam:GetRole on resource: role my-role because …")."""
    m = _IAM_ENTITY.fullmatch(resource)
    if m is not None and not action.startswith("iam:Create"):
        resource = f"{m.group(1)} {m.group(2)}"
    elif ":policy/" in resource:
        resource = f"policy {resource}"
    return denied_query(who, action, resource, why)


def _because(kind: str, action: str, decision: Decision) -> str:
    name = {"session": "session policy", "boundary": "permissions boundary"}.get(kind, f"{kind}-based policy")
    if decision is Decision.DENY:
        return f"with an explicit deny in {'an' if kind == 'identity' else 'a'} {name}"
    return f"because no {name} allows the {action} action"


_SESSION = re.compile(r"arn:(aws[a-zA-Z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+")


def names_caller(policy: dict, request: Request) -> bool:
    """Whether the resource policy allows the request by naming the caller itself: for a role
    session, statements that name only its role's ARN do not count (they are capped by the
    session's boundary and session policies)."""
    m = _SESSION.fullmatch(request.principal.value)
    if m is None:
        return True
    role = f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}"

    def without_role(st: dict) -> dict:
        p = st.get("Principal")
        if not isinstance(p, dict) or "AWS" not in p:
            return st
        values = p["AWS"] if isinstance(p["AWS"], list) else [p["AWS"]]
        kept = [v for v in values if v != role]
        return dict(st, Principal=dict(p, AWS=kept or ["\x00"]))

    statements = policy.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    trimmed = dict(policy, Statement=[without_role(st) for st in statements if isinstance(st, dict)])
    return evaluate([trimmed], request) is Decision.ALLOW


def _capped(kind: str, documents: list[dict], request: Request, res: Decision, resource_policy: dict | None,
            same_account: bool) -> "tuple[Decision, str] | None":
    """A permissions boundary or the session policies: an explicit deny refuses; so does no allow,
    unless the resource's policy (same account) allows the caller by its own ARN. None: it does not refuse."""
    decision = evaluate(documents, request)
    if decision is Decision.ALLOW:
        return None
    if decision is Decision.IMPLICIT_DENY and same_account and res is Decision.ALLOW and resource_policy and \
            names_caller(resource_policy, request):
        return None
    return decision, _because(kind, request.action, decision)


def verdict(who: Who, action: str, resource: str, *, resource_account: str,
            resource_policy: dict | None = None, context: Mapping[str, Any] | None = None) -> tuple[Decision, str]:
    """AWS's decision for ``who`` doing ``action`` on ``resource``: ``(ALLOW, "")``, or the refusal (an explicit
    or an implicit deny) and why, as AWS's message words it (``check`` raises it)."""
    ctx = {"aws:PrincipalArn": who.arn, "aws:PrincipalAccount": who.account,
           "aws:username": who.arn.rsplit("/", 1)[-1], **time_keys(), **(context or {})}
    if who.source_ip:
        ctx.setdefault("aws:SourceIp", who.source_ip)
    if who.tags:
        for k, v in who.tags.items():
            ctx[f"aws:PrincipalTag/{k}"] = v
    if who.source_identity:
        ctx["aws:SourceIdentity"] = who.source_identity
    request = Request(Principal.aws(who.arn), action, resource, ctx)
    if who.policies is None:
        identity = Decision.ALLOW  # a root has every permission of its account
    else:
        identity = evaluate(who.policies, request)
    res = evaluate([resource_policy], request) if resource_policy else Decision.IMPLICIT_DENY
    if identity is Decision.DENY:
        return identity, _because("identity", action, identity)
    if res is Decision.DENY:
        return res, _because("resource", action, res)
    same_account = who.account == resource_account
    for kind, cap in (("boundary", who.boundary), ("session", who.session)):
        if cap is not None:
            refused = _capped(kind, cap, request, res, resource_policy, same_account)
            if refused is not None:
                return refused
    if same_account:
        if identity is Decision.ALLOW or res is Decision.ALLOW:
            return Decision.ALLOW, ""
        return identity, _because("identity", action, identity)
    if res is not Decision.ALLOW:
        return res, _because("resource", action, res)
    if identity is not Decision.ALLOW:
        return identity, _because("identity", action, identity)
    return Decision.ALLOW, ""


def check(who: Who, action: str, resource: str, *, resource_account: str,
          resource_policy: dict | None = None, context: Mapping[str, Any] | None = None,
          error: Callable[[Who, str, str, str], Exception] = denied) -> None:
    """Raise AWS's AccessDeniedException (``error``'s) unless ``who`` may do ``action`` on ``resource``."""
    decided, why = verdict(who, action, resource, resource_account=resource_account,
                           resource_policy=resource_policy, context=context)
    if decided is not Decision.ALLOW:
        raise error(who, action, resource, why)
