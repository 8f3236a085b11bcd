"""API Gateway's account settings: GetAccount and UpdateAccount (PATCH ``/cloudwatchRoleArn``).

https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateAccount.html: the role API Gateway uses to
write CloudWatch logs for the account and region. As on AWS the role must be one API Gateway can assume:
a role of an account Lamb holds must exist and trust ``apigateway.amazonaws.com`` (BadRequestException
"The role ARN does not have required permissions set to API Gateway"). Stored per account and region
(``apigateway_settings``). Lamb's access logs (``apis/access_log.py``) are written by Lamb itself and do
not need the role; execution logs (``apis/execution_log.py``) are written only with it set, as on AWS.
``throttleSettings`` is the account-level throttle Lamb applies (``apigateway_account_rate_limit`` and
``apigateway_account_burst_limit`` in ``limits.py``, ``apis/throttle.py``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..services.access import assumable_by
from . import apigateway as rest
from . import operation
from .apigateway_patch import _invalid, _ops

if TYPE_CHECKING:
    from .context import RequestContext

SERVICE = rest.SERVICE
APIGATEWAY_SERVICE = "apigateway.amazonaws.com"
_ROLE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/.+")


def _account(ctx: "RequestContext") -> dict:
    store = ctx.lamb.http_apis.settings
    return (store.get("account") if store is not None else None) or {}


def _shown(ctx: "RequestContext", account: dict) -> dict:
    limits = ctx.lamb.settings.limits
    return dict(account, throttleSettings={"burstLimit": limits.apigateway_account_burst_limit,
                                           "rateLimit": float(limits.apigateway_account_rate_limit)})


@operation("GetAccount", service=SERVICE)
def get_account(ctx: "RequestContext", params: dict) -> dict:
    return _shown(ctx, _account(ctx))


@operation("UpdateAccount", service=SERVICE)
def update_account(ctx: "RequestContext", params: dict) -> dict:
    account = dict(_account(ctx))
    for op in _ops(params):
        if op.get("path") == "/cloudwatchRoleArn" and op["op"] in ("replace", "remove"):
            value = op.get("value") if op["op"] == "replace" else None
            if not value:
                account.pop("cloudwatchRoleArn", None)
                continue
            if not _ROLE.fullmatch(value) or not assumable_by(ctx.lamb.identities, value, APIGATEWAY_SERVICE):
                raise rest._bad("The role ARN does not have required permissions set to API Gateway")
            account["cloudwatchRoleArn"] = value
        else:
            raise _invalid(op)
    ctx.lamb.http_apis.settings.put("account", account)
    return _shown(ctx, account)
