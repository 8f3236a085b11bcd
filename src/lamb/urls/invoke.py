"""The one callable through which function URLs invoke a function.

Built once (``make_invoke``) from exactly the path the Invoke API takes today
(``api/invoke.py``): resolve the function and qualifier (an alias draws its version by
weight), refuse a function that is not Active, hop the recursion Lineage, then
``invoker.pool_for`` + ``invoker.invoke`` (waiting for the runtime right after start).
When the service layer's single invoke entry point lands (issue 12), only this module
changes: the URL surface sees nothing but ``Invoke``.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable

from ..arn import function_arn
from ..invoke.invocation import InvocationResult
from ..invoke.invoker import RuntimeNotReady

if TYPE_CHECKING:
    from ..app import Lamb

# invoke(function name, qualifier or None, payload, request id, X-Amzn-Trace-Id of the request)
#   -> a future of the InvocationResult; raises AwsError (throttles, a function that is not Active, ...).
Invoke = Callable[[str, "str | None", bytes, str, "str | None"], "asyncio.Future[InvocationResult]"]


def make_invoke(lamb: "Lamb") -> Invoke:
    from ..api.functions import resolve
    from ..api.invoke import _after_runtime, _check_state

    ctx = SimpleNamespace(lamb=lamb)  # what resolve() reads: settings and the function store
    s = lamb.settings

    async def after_runtime(target, payload, arn, trace, request_id) -> InvocationResult:
        out = await _after_runtime(lamb, target, payload, arn, None, False, trace, request_id)
        return InvocationResult(out["Payload"], out.get("FunctionError"), None, out["ExecutedVersion"])

    def invoke(name: str, qualifier: str | None, payload: bytes, request_id: str,
               trace_header: str | None) -> "asyncio.Future[InvocationResult]":
        ref, fn, version, config = resolve(ctx, {"FunctionName": name, "Qualifier": qualifier}, route=True)
        _check_state(config)
        arn = function_arn(s.region, s.account_id, fn.name, ref.qualifier)
        trace = lamb.events.sync_trace(fn, trace_header)
        try:
            pool = lamb.invoker.pool_for(fn.name, version, config)
        except RuntimeNotReady:  # first invocations right after Lamb started
            return asyncio.ensure_future(after_runtime((fn.name, version, config), payload, arn, trace, request_id))
        return lamb.invoker.invoke(pool, payload, arn, trace=trace, request_id=request_id)

    return invoke
