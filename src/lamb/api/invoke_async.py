"""InvokeAsync, the deprecated asynchronous invoke
(https://docs.aws.amazon.com/lambda/latest/api/API_InvokeAsync.html).

Same queue as ``Invoke`` with ``InvocationType: Event`` (see ``lamb.events``):
the event is on disk before the answer, ``202`` with ``{"Status": 202}``.
Invoke's own Event branch lives in ``api/invoke.py``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..services.invoke import check_state
from . import operation
from .invoke import check_payload

if TYPE_CHECKING:
    from .context import RequestContext

TRACE_HEADER = "x-amzn-trace-id"


def enqueue(ctx: "RequestContext", target, payload: bytes) -> asyncio.Future:
    """Queue an async event; the future resolves to ``{"StatusCode": 202}`` once it is durable.

    The request's ``X-Amzn-Trace-Id`` (the AWS SDKs inside a function send the
    function's own trace header) is kept with the event for loop detection.
    """
    return ctx.lamb.invocations.accept(target, payload, trace_header=ctx.request.headers.get(TRACE_HEADER),
                                       request_id=ctx.request_id)


@operation("InvokeAsync")
def invoke_async(ctx: "RequestContext", params: dict):
    target = ctx.lamb.functions.resolve(params["FunctionName"], params.get("Qualifier"))
    if ctx.lamb.invocations.pending(target):  # waits for Active, as Invoke does (lamb.services.invoke)
        return _when_active(ctx, params, target)
    return _accept(ctx, params, target)


async def _when_active(ctx: "RequestContext", params: dict, target):
    return await _accept(ctx, params, await ctx.lamb.invocations.when_active(target))


def _accept(ctx: "RequestContext", params: dict, target):
    check_state(target.config)
    args = params.get("InvokeArgs") or b""
    if not isinstance(args, (bytes, bytearray)):
        args = args.read() if hasattr(args, "read") else bytes(args)
    limits = ctx.lamb.settings.limits
    payload = check_payload(bytes(args), limits.async_payload_max_bytes, limits.payload_json_max_depth)
    accepted = enqueue(ctx, target, payload)
    out = accepted.get_loop().create_future()

    def done(f: asyncio.Future) -> None:
        if f.exception() is not None:
            out.set_exception(f.exception())
        else:
            out.set_result({"Status": 202})

    accepted.add_done_callback(done)
    return out
