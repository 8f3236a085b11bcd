"""API Gateway resource policies: a REST API's ``policy`` (and a private custom domain name's), as API
Gateway applies them to ``execute-api:Invoke``.

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html: the policy
a deployment took (AWS applies a changed policy at the next deployment) is evaluated for the method's
ARN, with Lamb's policy evaluator (``policy/evaluate.py``), and combined with the method's authorization:

- no authorization: the policy must allow (an implicit deny refuses too);
- a Lambda (CUSTOM) authorizer: an explicit deny refuses before the authorizer is called; otherwise the
  authorizer decides (its Allow with a policy that is silent is an Allow: Table A);
- Cognito user pools: after the token is accepted the policy must allow;
- ``AWS_IAM``: for a caller of the API's account, an explicit deny in the caller's identity policies or in the
  resource policy refuses, and an allow in either lets it through (Table A); for a caller of another
  account both must allow (Table B).

A resource of the form ``execute-api:/<stage>/<METHOD>/<path>`` stands for the API's own ARN
``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>``, as in AWS's examples.
Condition keys: ``aws:SourceIp`` (the client's address), ``aws:SourceVpce`` (Lamb has no VPC endpoints: a
caller names the one it stands for in ``x-lamb-vpce-id``, as for private custom domain names),
``aws:PrincipalArn``/``aws:PrincipalAccount`` for an ``AWS_IAM`` caller. Refusals are 403
``{"Message":"User: <anonymous or the caller's ARN> is not authorized to perform: execute-api:Invoke on
resource: <method ARN>"}``, `` with an explicit deny`` added for an explicit one.
"""

from __future__ import annotations

import json
from typing import Mapping

from ..policy import evaluate as pe

ACTION = "execute-api:Invoke"


def expand(doc: dict, base_arn: str) -> dict:
    """``doc`` with its ``execute-api:/<rest>`` resources written as ``base_arn`` (an API's or a private
    domain name's ARN) followed by ``/<rest>``."""
    def one(value):
        if isinstance(value, str) and value.startswith("execute-api:/"):
            rest = value[len("execute-api:/"):]
            return base_arn + ("*" if rest == "*" else "/" + rest if rest else "")
        return value

    statements = doc.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements or []
    out = []
    for st in statements:
        st = dict(st)
        for field in ("Resource", "NotResource"):
            if field in st:
                st[field] = [one(v) for v in st[field]] if isinstance(st[field], list) else one(st[field])
        out.append(st)
    return {**doc, "Statement": out}


def parsed(text: str | None, base_arn: str) -> dict | None:
    """A stored policy (JSON text, as PutRestApi/CreateRestApi keep it), ready to evaluate; None without one
    or when it does not parse (CreateRestApi refuses such a policy before it is stored)."""
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return expand(doc, base_arn) if isinstance(doc, dict) else None


def decide(policy: dict, principal: pe.Principal, method_arn: str, context: Mapping[str, object]) -> pe.Decision:
    return pe.evaluate([policy], pe.Request(principal, ACTION, method_arn, context))


def combined(identity: pe.Decision, resource: pe.Decision, same_account: bool) -> pe.Decision:
    """An ``AWS_IAM`` caller's identity-policy decision with the resource policy's (Tables A and B)."""
    if pe.Decision.DENY in (identity, resource):
        return pe.Decision.DENY
    if same_account:
        return pe.Decision.ALLOW if pe.Decision.ALLOW in (identity, resource) else pe.Decision.IMPLICIT_DENY
    return pe.Decision.ALLOW if identity is resource is pe.Decision.ALLOW else pe.Decision.IMPLICIT_DENY


def refusal(who: str, method_arn: str, decision: pe.Decision) -> dict:
    """The body of API Gateway's 403 for a refused ``execute-api:Invoke``."""
    why = " with an explicit deny" if decision is pe.Decision.DENY else ""
    return {"Message": f"User: {who} is not authorized to perform: {ACTION} on resource: {method_arn}{why}"}
