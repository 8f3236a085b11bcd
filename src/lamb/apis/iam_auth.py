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
from ..policy.evaluate import Decision
from ..services.authorize import Who, verdict
from . import resource_policy

ACTION = resource_policy.ACTION  # execute-api:Invoke


class Caller(NamedTuple):
    """A signer that verified: who it is and what its identity policies say (None: a root), with what caps
    them: its permissions boundary and its STS session's policies (None: nothing)."""

    access_key: str
    arn: str
    account: str
    policies: list | None
    boundary: list | None = None
    session: list | None = None
    tags: dict | None = None  # its user's or role's (``aws:PrincipalTag/…``)

    def who(self) -> Who:
        return Who(self.account, self.arn, self.policies, session=self.session, boundary=self.boundary,
                   tags=self.tags)

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
    return Caller(key, s.arn, s.arn.split(":")[4], s.policies, getattr(s, "boundary", None),
                  getattr(s, "session", None), getattr(s, "tags", None))


def decision(caller: Caller, method_arn: str, action: str = ACTION, *, policy: dict | None = None,
             api_account: str | None = None, context: Mapping[str, object] | None = None) -> Decision:
    """AWS's evaluation of ``action`` on the method for the caller (``services.authorize.verdict``): its identity
    policies, capped by its permissions boundary and its session's policies, with the API's resource ``policy``
    when it has one (Tables A and B: in the API's account an allow in either is enough, from another both must
    allow; an explicit deny anywhere refuses)."""
    return verdict(caller.who(), action, method_arn, resource_account=api_account or caller.account,
                   resource_policy=policy, context=context)[0]


def allowed(caller: Caller, action: str, method_arn: str) -> bool:
    """Whether the caller's identity policies allow ``action`` on the method (``execute-api:InvalidateCache``)."""
    return decision(caller, method_arn, action) is Decision.ALLOW


def authorize(caller: Caller, method_arn: str) -> None:
    """Raise ``Refused`` unless the caller's identity policies allow invoking the method."""
    decided = decision(caller, method_arn)
    if decided is Decision.ALLOW:
        return
    raise Refused(resource_policy.refusal(caller.arn, method_arn, decided), "AccessDeniedException")
