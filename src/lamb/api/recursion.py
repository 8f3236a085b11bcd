"""GetFunctionRecursionConfig and PutFunctionRecursionConfig
(https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionRecursionConfig.html).

``Terminate`` (the default) lets Lamb stop a function invoked about 16 times in
one chain of requests; ``Allow`` turns recursive loop detection off for it. The
setting is function-wide (the model's FunctionName takes no qualifier). How
chains are counted is in ``lamb.events.lineage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..arn import function_arn, parse_function_name
from ..events import invoke_config
from ..protocol.errors import not_found
from . import operation

if TYPE_CHECKING:
    from ..gateway import RequestContext


def _function(ctx: "RequestContext", params: dict):
    s = ctx.lamb.settings
    ref = parse_function_name(params["FunctionName"], region=s.region, account_id=s.account_id)
    fn = ctx.lamb.functions.get(ref.name)
    if fn is None:
        raise not_found(f"Function not found: {function_arn(s.region, s.account_id, ref.name)}")
    return fn


@operation("GetFunctionRecursionConfig")
def get_function_recursion_config(ctx: "RequestContext", params: dict) -> dict:
    return {"RecursiveLoop": invoke_config.recursive_loop(_function(ctx, params))}


@operation("PutFunctionRecursionConfig")
def put_function_recursion_config(ctx: "RequestContext", params: dict) -> dict:
    fn = _function(ctx, params)
    invoke_config.set_recursive_loop(ctx.lamb.functions, fn, params["RecursiveLoop"])
    return {"RecursiveLoop": params["RecursiveLoop"]}
