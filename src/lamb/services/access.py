"""Authorization of every API request: the action and resource an operation means, the
context keys Lambda documents, and ``iam:PassRole`` for an execution role.

https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html: an
operation's IAM action is ``lambda:<Operation>`` (Invoke is ``lambda:InvokeFunction``); a
function operation's resource is the function's ARN, qualified when the request names a
qualifier; operations on no function have ``*``. The condition keys filled here are those
Lambda documents for the request's parameters (``lambda:Principal``, ``lambda:FunctionUrlAuthType``,
``lambda:Layer``, ``lambda:CodeSigningConfigArn``, ``lambda:FunctionArn``, ``aws:RequestTag/…``,
``aws:TagKeys``, ``aws:ResourceTag/…``). CreateFunction and UpdateFunctionConfiguration with a
``Role`` need ``iam:PassRole`` on it
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).

Each account has its own functions in each region (``lamb.scopes``; ``home`` is the account
of the scope the request is for): another account reaches them only by ARN, through their
resource-based policies.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

from ..arn import IAM_ACTIONS, OtherAccount, function_arn, parse_function_name, parse_layer_arn, layer_arn
from ..policy.evaluate import Decision, Principal, Request, evaluate
from ..protocol.errors import AwsError, invalid_parameter
from .authorize import Who, check, denied, denied_iam, denied_query

PASS_ROLE_OPERATIONS = ("CreateFunction", "UpdateFunctionConfiguration")
# Operations anyone authenticated may call (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html);
# AssumeRole is decided by the role's trust policy in the STS handler.
# A signing name whose IAM actions have another prefix (CloudWatch signs as "monitoring").
IAM_PREFIX = {"monitoring": "cloudwatch"}
UNCHECKED = {("sts", "GetCallerIdentity"), ("sts", "GetSessionToken"), ("sts", "AssumeRole")}


class Access:
    """``authorize(who, service, operation, params)``: returns, or raises AWS's AccessDeniedException."""

    def __init__(self, *, region: str, home: str,
                 resource_policy: Callable[[str, str | None], dict | None],
                 resource_tags: Callable[[str], Mapping[str, str] | None],
                 iam_request: Callable[[str, dict], tuple[str, Mapping[str, Any]]] | None = None,
                 connection_arn: Callable[[str, str], str] | None = None) -> None:
        self.region = region
        # A WebSocket connection's execute-api ARN for a @connections operation (apis/websocket.py).
        self.connection_arn = connection_arn
        self.home = home
        self.resource_policy = resource_policy
        self.resource_tags = resource_tags
        self.iam_request = iam_request  # an IAM request's resource ARN and condition keys (IdentityStore.request)

    def authorize(self, who: Who, service: str, operation: str, params: dict) -> None:
        if (service, operation) in UNCHECKED:
            return
        if service == "lambda":
            self._lambda(who, operation, params)
            return
        if service == "execute-api":  # the @connections API: execute-api:ManageConnections on the connection
            resource = self.connection_arn(params.get("ConnectionId") or "", operation) if self.connection_arn else "*"
            check(who, "execute-api:ManageConnections", resource, resource_account=self.home, error=_forbidden)
            return
        resource, context = "*", None
        if service == "iam":
            resource, context = (self.iam_request(who.account, params) if self.iam_request
                                 else (self._iam_resource(who.account, params), None))
        check(who, f"{IAM_PREFIX.get(service, service)}:{operation}", resource, resource_account=who.account,
              context=context, error=denied_iam if service == "iam" else denied_query if service == "sts" else denied)

    def _iam_resource(self, account: str, params: dict) -> str:
        for member, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group"),
                             ("InstanceProfileName", "instance-profile")):
            if params.get(member):
                return f"arn:aws:iam::{account}:{kind}/{params[member]}"
        return params.get("PolicyArn") or "*"

    def _lambda(self, who: Who, operation: str, params: dict) -> None:
        action = _action(operation)
        ctx: dict[str, Any] = {}
        policy = None
        resource = "*"
        name = params.get("FunctionName")
        if isinstance(name, str):
            try:
                ref = _parsed(name, params.get("Qualifier"), self.region, self.home)
            except OtherAccount as e:  # a function of an account Lamb does not hold: named with the real caller
                raise denied(who, action, e.resource, f"because no resource-based policy allows the {action} action")
            except AwsError:
                return  # the handler answers the malformed name as AWS does
            if who.account != self.home and not name.startswith(("arn:", self.home)):
                raise AwsError("AccessDeniedException",
                               f"User: {who.arn} is not authorized to perform: {action} on resource: "
                               f"{function_arn(self.region, who.account, ref.name)} because Lamb keeps functions "
                               f"for account {self.home} only; name its functions by ARN", 403)
            policy = self.resource_policy(ref.name, ref.qualifier)
            if who.policies is None and who.session is None and policy is None and who.account == self.home:
                return  # the home account's root, and no resource policy that could deny (the hot path)
            resource = function_arn(self.region, self.home, ref.name, ref.qualifier)
            ctx["lambda:FunctionArn"] = function_arn(self.region, self.home, ref.name)
            for k, v in (self.resource_tags(ref.name) or {}).items():
                ctx[f"aws:ResourceTag/{k}"] = v
        elif isinstance(params.get("LayerName"), str):
            layer = parse_layer_arn(params["LayerName"])
            resource = (layer_arn(self.region, layer.account, layer.name) if layer
                        else layer_arn(self.region, self.home, params["LayerName"]))
            if params.get("VersionNumber") is not None:
                resource += f":{params['VersionNumber']}"
        elif who.account != self.home:
            raise AwsError("AccessDeniedException",
                           f"User: {who.arn} is not authorized to perform: {action} on resource: * because Lamb "
                           f"keeps functions for account {self.home} only", 403)
        _context_keys(params, ctx)
        check(who, action, resource, resource_account=self.home, resource_policy=policy, context=ctx)
        role = params.get("Role")
        if operation in PASS_ROLE_OPERATIONS and isinstance(role, str):
            parts = role.split(":")
            check(who, "iam:PassRole", role, resource_account=parts[4] if len(parts) > 4 else self.home,
                  context={"iam:PassedToService": "lambda.amazonaws.com"})


def _forbidden(who: Who, action: str, resource: str, why: str) -> AwsError:
    """execute-api's spelling of a denial: ``ForbiddenException`` (the @connections model's 403)."""
    error = denied(who, action, resource, why)
    return AwsError("ForbiddenException", error.message, 403)


LAMBDA_SERVICE = "lambda.amazonaws.com"


def assumable_by(roles, role_arn: str, service: str) -> bool:
    """A role of an account Lamb holds exists and trusts ``service`` (``sts:AssumeRole``); roles of
    accounts Lamb does not hold are taken as given."""
    parts = role_arn.split(":")
    if len(parts) != 6 or parts[4] not in roles.accounts:
        return True
    role = roles.role_by_arn(role_arn)
    return role is not None and evaluate(
        [role["AssumeRolePolicyDocument"]],
        Request(Principal.service(service), "sts:AssumeRole", role["Arn"], {})) is Decision.ALLOW


def check_assumable(roles, role_arn: str) -> None:
    """A role of an account Lamb holds must exist and trust ``lambda.amazonaws.com``, as
    CreateFunction checks: InvalidParameterValueException "The role defined for the function
    cannot be assumed by Lambda." (roles of accounts Lamb does not hold are taken as given)."""
    if not assumable_by(roles, role_arn, LAMBDA_SERVICE):
        raise invalid_parameter("The role defined for the function cannot be assumed by Lambda.")


@functools.lru_cache(maxsize=None)  # one per operation of the model
def _action(operation: str) -> str:
    """An operation's IAM action (``lambda:InvokeFunction`` for Invoke)."""
    return "lambda:" + IAM_ACTIONS.get(operation, operation)


@functools.lru_cache(maxsize=4096)
def _parsed(name: str, qualifier: str | None, region: str, home: str):
    """``parse_function_name``, remembered (the same names come again and again)."""
    return parse_function_name(name, qualifier, region=region, account_id=home)


def _context_keys(params: dict, ctx: dict[str, Any]) -> None:
    if isinstance(params.get("Principal"), str):
        ctx["lambda:Principal"] = params["Principal"]
    auth_type = params.get("AuthType") or params.get("FunctionUrlAuthType")
    if isinstance(auth_type, str):
        ctx["lambda:FunctionUrlAuthType"] = auth_type
    if isinstance(params.get("Layers"), list):
        ctx["lambda:Layer"] = list(params["Layers"])
    if isinstance(params.get("CodeSigningConfigArn"), str):
        ctx["lambda:CodeSigningConfigArn"] = params["CodeSigningConfigArn"]
    if isinstance(params.get("SourceArn"), str):
        ctx["aws:SourceArn"] = params["SourceArn"]
    tags = params.get("Tags")
    if isinstance(tags, dict):
        for k, v in tags.items():
            ctx[f"aws:RequestTag/{k}"] = v
        ctx["aws:TagKeys"] = list(tags)
    elif isinstance(params.get("TagKeys"), list):
        ctx["aws:TagKeys"] = list(params["TagKeys"])
