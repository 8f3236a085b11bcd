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
Condition keys: ``aws:SourceIp`` (the client's address), ``aws:SecureTransport``, ``aws:CurrentTime``,
``aws:EpochTime``, ``aws:UserAgent`` and ``aws:Referer`` (``policy/context.py``), ``aws:SourceVpce`` (Lamb has no
VPC endpoints: a caller names the one it stands for in ``x-lamb-vpce-id``, as for private custom domain names),
``aws:PrincipalArn``/``aws:PrincipalAccount``/``aws:username`` for an ``AWS_IAM`` caller. Refusals are 403
``{"Message":"User: <anonymous or the caller's ARN> is not authorized to perform: execute-api:Invoke on
resource: <method ARN>"}``, `` with an explicit deny`` added for an explicit one.
"""

from __future__ import annotations

import json
from typing import Mapping

from ..policy import evaluate as pe

ACTION = "execute-api:Invoke"


def expand(doc: dict, base_arn: str, *, whole_star: bool = False) -> dict:
    """``doc`` with its ``execute-api:/<rest>`` resources written as ``base_arn`` (an API's ARN, or a private
    domain name's) followed by ``/<rest>``, as AWS writes them back. ``whole_star``: ``execute-api:/*`` is
    ``base_arn*``, so that it also matches ``base_arn`` itself (a private domain name's policy is evaluated for
    the domain's own ARN)."""
    def one(value):
        if isinstance(value, str) and value.startswith("execute-api:/"):
            rest = value[len("execute-api:/"):]
            return base_arn + ("*" if whole_star and rest == "*" else "/" + rest if rest else "")
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


INVALID = "Invalid policy document. Please check the policy syntax and try again."
_NOTHING: dict = {"Statement": []}  # a stored policy that cannot be read: it allows nothing


def well_formed(doc: object) -> bool:
    """Whether ``doc`` is a policy Lamb can evaluate: statements (one or a list) of objects with an ``Effect`` of
    Allow or Deny and, if any, a ``Condition`` object."""
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    statements = [statements] if isinstance(statements, dict) else statements
    return bool(statements) and isinstance(statements, list) and all(
        isinstance(st, dict) and st.get("Effect") in ("Allow", "Deny") and isinstance(st.get("Condition", {}), dict)
        for st in statements)


def stored(text: str, api_arn: str) -> str:
    """A policy as API Gateway keeps and returns it (``policy`` of GetRestApi): its ``execute-api:/``
    resources written as the API's ARN, minified, and escaped as the text of a JSON string (``\\"`` and
    ``\\/``: Terraform's provider unescapes it so). Raises ``ValueError`` (``INVALID``) for a document that
    is not a policy."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise ValueError(INVALID) from None
    if not well_formed(doc):
        raise ValueError(INVALID)
    minified = json.dumps(expand(doc, api_arn), separators=(",", ":"))
    return json.dumps(minified)[1:-1].replace("/", "\\/")


def parsed(text: str | None, base_arn: str) -> dict | None:
    """A stored policy, ready to evaluate: AWS's escaped form (``stored``), or the plain JSON an older Lamb
    kept. None without one. A policy that cannot be read is kept as one that allows nothing."""
    if not text:
        return None
    for candidate in (text, '"' + text + '"'):
        try:
            doc = json.loads(candidate)
            doc = json.loads(doc) if isinstance(doc, str) else doc
        except ValueError:
            continue
        return expand(doc, base_arn) if well_formed(doc) else _NOTHING
    return _NOTHING


def decide(policy: dict, principal: pe.Principal, method_arn: str, context: Mapping[str, object]) -> pe.Decision:
    return pe.evaluate([policy], pe.Request(principal, ACTION, method_arn, context))


def refusal(who: str, method_arn: str, decision: pe.Decision) -> dict:
    """The body of API Gateway's 403 for a refused ``execute-api:Invoke``."""
    why = " with an explicit deny" if decision is pe.Decision.DENY else ""
    return {"Message": f"User: {who} is not authorized to perform: {ACTION} on resource: {method_arn}{why}"}
