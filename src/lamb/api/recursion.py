"""GetFunctionRecursionConfig and PutFunctionRecursionConfig
(https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionRecursionConfig.html).

``Terminate`` (the default) lets Lamb stop a function invoked about 16 times in
one chain of requests; ``Allow`` turns recursive loop detection off for it. The
setting is function-wide (the model's FunctionName takes no qualifier). How
chains are counted is in ``lamb.services.lineage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..services import recursion
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext


@operation("GetFunctionRecursionConfig")
def get_function_recursion_config(ctx: "RequestContext", params: dict) -> dict:
    return {"RecursiveLoop": recursion.recursive_loop(ctx.lamb.functions.function(params["FunctionName"])[1])}


@operation("PutFunctionRecursionConfig")
def put_function_recursion_config(ctx: "RequestContext", params: dict) -> dict:
    _, fn = ctx.lamb.functions.function(params["FunctionName"])
    recursion.set_recursive_loop(ctx.lamb.functions, fn, params["RecursiveLoop"])
    return {"RecursiveLoop": params["RecursiveLoop"]}
