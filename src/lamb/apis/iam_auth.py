"""IAM authorization of REST API methods and HTTP API routes (``AWS_IAM``; HTTP APIs answer every
refusal 403 ``{"message":"Forbidden"}``).

https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html and
…/api-gateway-control-access-using-iam-policies-to-invoke-api.html: the caller signs the request
with SigV4 for the service ``execute-api``; API Gateway verifies the signature against the caller's
keys and lets the request through when the caller's identity-based policies allow
``execute-api:Invoke`` on the method's ARN
``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>`` (an account root may do
anything in its account). Refusals are 403s: no signature ``{"message":"Missing Authentication
Token"}``, a key Lamb does not hold (or an expired session's) ``The security token included in the
request is invalid.``, a bad signature the signature error's message, a caller whose policies do not allow it
``{"Message":"User: <arn> is not authorized to perform: execute-api:Invoke on resource: <arn>"}``
(… ``with an explicit deny`` when one denies). The caller fills ``requestContext.identity``
(``accessKey``, ``accountId``, ``caller``, ``user``, ``userArn``) and may be the integration's
credentials (``arn:aws:iam::*:user/*``, ``credentials``).
"""

from __future__ import annotations

import time
from typing import Callable, Mapping, NamedTuple

from ..auth import sigv4
from ..policy.evaluate import Decision, Principal, Request, evaluate
from ..services.authorize import Who
from . import resource_policy

ACTION = resource_policy.ACTION  # execute-api:Invoke


class Caller(NamedTuple):
    """A signer that verified: who it is and what its identity policies say (None: a root)."""

    access_key: str
    arn: str
    account: str
    policies: list | None

    def who(self) -> Who:
        return Who(self.account, self.arn, self.policies)

    def identity(self) -> dict:
        """Its members of ``requestContext.identity``."""
        user = self.arn.split(":", 5)[5] if self.arn.count(":") >= 5 else self.arn
        return {"accessKey": self.access_key, "accountId": self.account, "caller": user.rsplit("/", 1)[-1],
                "user": user.rsplit("/", 1)[-1], "userArn": self.arn}


class Refused(Exception):
    """An AWS_IAM request API Gateway refuses: a 403 with this body."""

    def __init__(self, body: dict, error_type: str) -> None:
        super().__init__(str(body))
        self.body = body
        self.error_type = error_type


def verify(method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
           signer: Callable[[str], object | None], now: float | None = None) -> Caller:
    """The signer of a request (``signer``: access key → ``urls.serve.Signer``-like or None); raises ``Refused``."""
    found: list = []

    def secret_for(key: str) -> str | None:
        s = signer(key)
        if s is not None:
            found.append((key, s))
        return s.secret if s is not None else None

    if not headers.get("authorization") and "X-Amz-Signature=" not in query:
        raise Refused({"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
    try:
        signed = sigv4.verify(method, path, query, headers, body, secret_for, "execute-api",
                              now=time.time() if now is None else now)
    except sigv4.SignatureError as e:
        raise Refused({"message": e.message}, e.code) from None
    key, s = found[-1]
    if s.token != signed.session_token:
        raise Refused({"message": "The security token included in the request is invalid."},
                      "UnrecognizedClientException")
    return Caller(key, s.arn, s.arn.split(":")[4], s.policies)


def decision(caller: Caller, method_arn: str, action: str = ACTION) -> Decision:
    """The caller's identity policies' decision for ``action`` on the method."""
    if caller.policies is None:
        return Decision.ALLOW  # an account root
    return evaluate(caller.policies, Request(Principal.aws(caller.arn), action, method_arn, {
        "aws:PrincipalArn": caller.arn, "aws:PrincipalAccount": caller.account}))


def allowed(caller: Caller, action: str, method_arn: str) -> bool:
    """Whether the caller's identity policies allow ``action`` on the method (``execute-api:InvalidateCache``)."""
    return decision(caller, method_arn, action) is Decision.ALLOW


def authorize(caller: Caller, method_arn: str) -> None:
    """Raise ``Refused`` unless the caller's identity policies allow invoking the method."""
    decided = decision(caller, method_arn)
    if decided is Decision.ALLOW:
        return
    raise Refused(resource_policy.refusal(caller.arn, method_arn, decided), "AccessDeniedException")
