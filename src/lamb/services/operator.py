"""Who may use Lamb's own ``/_lamb/`` routes (logs, environments, metrics, stacks): the operator.

These routes are not an AWS API, so no AWS page defines them; they follow AWS's rules for
its own APIs (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html):
a request is SigV4-signed (service ``lambda``, the port's own scope) with a long-term key of
the home account, and then decided like any IAM action:

- the home account's root may do everything;
- an IAM user of the home account may, when its identity policies allow ``lamb:Operate``
  on ``*`` (an administrator's ``"Action": "*"`` does);
- temporary credentials (STS sessions, so every execution environment's role credentials)
  and every other account are refused, whatever their policies say: a request from inside
  an environment is never the operator's (issue 18).

With authentication off (``--auth off``) every request is the home account's root, as on
the AWS API. ``/_lamb/health`` answers anyone ``{"status": "ok"}`` (liveness) and the
operator the whole document; ``/_lamb/code/`` (presigned downloads), ``/_lamb/url/`` and
``/_lamb/apis/`` (function URLs and APIs, with their own auth) are not operator routes.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..protocol.errors import AwsError
from .authorize import Who, check

ACTION = "lamb:Operate"
SIGNING_NAME = "lambda"


class OperatorGate:
    """``admit(method, path, query, headers, body)``: returns, or raises AWS's 403 error."""

    def __init__(self, authenticate: Callable[..., Any], policies_of: Callable[[Any], list[dict]], home: str,
                 *, enabled: bool, boundary_of: Callable[[Any], list[dict] | None] = lambda key: None) -> None:
        self.authenticate = authenticate  # lamb.identity.authn.Authenticator.authenticate
        self.policies_of = policies_of  # an IAM user key's identity policies (its groups' included)
        self.boundary_of = boundary_of  # its permissions boundary (None: it has none)
        self.home = home
        self.enabled = enabled

    def admit(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> None:
        caller = self.authenticate(method, path, query, headers, body, SIGNING_NAME)
        if not self.enabled:
            return
        key = caller.key
        if caller.account != self.home or key is None or key.token is not None:
            raise AwsError("AccessDeniedException",
                           f"User: {caller.arn} is not authorized to perform: {ACTION} on resource: * "
                           "because only the home account's root and IAM users operate Lamb", 403)
        if caller.is_root:  # a root may do everything
            return
        check(Who(caller.account, caller.arn, self.policies_of(key), boundary=self.boundary_of(key)), ACTION, "*",
              resource_account=self.home)
