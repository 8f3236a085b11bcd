"""GetFunctionScalingConfig and PutFunctionScalingConfig
(https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionScalingConfig.html).

A function scaling config bounds the execution environments of a function that
runs on a capacity provider (Lambda Managed Instances). Lamb has no capacity
providers yet (CreateCapacityProvider answers 501), so no function has a
capacity provider configuration, and both operations give the answer AWS gives
for such a function once the function and version are found: 403
``AccessDeniedException`` "The function provided by the arn does not contain a
capacity provider configuration" (recorded from AWS for PutFunctionScalingConfig
on a plain function, go-to-k/cdkd#1616; Lamb gives Get the same answer).

Qualifiers: a published version number or ``$LATEST.PUBLISHED`` (the model's
pattern); an unknown version, and ``$LATEST.PUBLISHED`` (which only functions on
a capacity provider have), are "Function not found" with the qualified ARN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from ..arn import function_arn
from ..protocol.errors import AwsError, not_found
from . import operation
from .common import function_of

if TYPE_CHECKING:
    from .context import RequestContext

NO_CAPACITY_PROVIDER = "The function provided by the arn does not contain a capacity provider configuration"


def _refuse(ctx: "RequestContext", params: dict) -> NoReturn:
    _, fn = function_of(ctx, params)
    qualifier = params["Qualifier"]
    if qualifier not in fn.versions:
        s = ctx.lamb.settings
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, fn.name, qualifier)}")
    raise AwsError("AccessDeniedException", NO_CAPACITY_PROVIDER, 403)


@operation("GetFunctionScalingConfig")
def get_function_scaling_config(ctx: "RequestContext", params: dict) -> dict:
    _refuse(ctx, params)


@operation("PutFunctionScalingConfig")
def put_function_scaling_config(ctx: "RequestContext", params: dict) -> dict:
    _refuse(ctx, params)
