"""InvokeWithResponseStream (https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html).

The answer is 200 with ``X-Amz-Executed-Version`` and an
``application/vnd.amazon.eventstream`` body (``protocol/eventstream.py``): a
``PayloadChunk`` event for each piece the function writes, sent as it writes it,
then one ``InvokeComplete`` with ``ErrorCode`` and ``ErrorDetails`` when the
function failed (the error's ``errorType`` and ``errorMessage``: a mid-stream error
from the runtime's trailers, a timeout's ``Sandbox.Timedout``, an oversized
response's ``Function.ResponseSizeTooLarge``) and ``LogResult`` for ``LogType: Tail``.

A function that does not stream (a managed Python runtime, a plain Node handler)
answers with its whole payload as one ``PayloadChunk``. Errors before the function
runs (not found, throttles, a bad payload) are Invoke's, as AWS answers them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, AsyncIterator

from ..invoke.stream import ResponseStream, error_parts
from ..protocol import eventstream
from ..services.invoke import check_state
from . import operation
from .invoke import _client_context, check_payload, once_active

if TYPE_CHECKING:
    from ..invoke.invocation import InvocationResult
    from .context import RequestContext


@operation("InvokeWithResponseStream")
def invoke_with_response_stream(ctx: "RequestContext", params: dict):
    return once_active(ctx, params, _invoke)  # a Pending function is waited for, as Invoke does


def _invoke(ctx: "RequestContext", params: dict, target):
    lamb = ctx.lamb
    door = lamb.invocations
    check_state(target.config)
    if (params.get("InvocationType") or "RequestResponse") == "DryRun":
        return {"StatusCode": 204}
    limits = lamb.settings.limits
    payload = check_payload(params.get("Payload") or b"", limits.sync_payload_max_bytes, limits.payload_json_max_depth)
    client_context = _client_context(params.get("ClientContext"))
    trace = door.trace(target.fn, ctx.request.headers.get("x-amzn-trace-id"))
    loop = asyncio.get_running_loop()
    out = loop.create_future()  # the response head: as soon as the function streams, or its result
    result: asyncio.Future = loop.create_future()
    # Read by the event stream; a client gone before the end leaves it unread (no warning).
    result.add_done_callback(lambda f: f.cancelled() or f.exception())

    def on_stream(stream: ResponseStream) -> None:
        if not out.done():
            out.set_result(_output(target.version, events(stream, result)))

    def done(res, exc) -> None:
        if exc is not None:
            if not out.done():
                out.set_exception(exc)  # nothing sent yet: the client gets the error as Invoke's
            else:
                result.set_exception(exc)
            return
        result.set_result(res)
        if not out.done():
            out.set_result(_output(res.executed_version, events(None, result)))

    door.submit(target.fn.name, target.version, target.config, payload, door.invoked_arn(target), done,
                trace=trace, request_id=ctx.request_id, client_context=client_context,
                want_tail=params.get("LogType") == "Tail", on_stream=on_stream)
    return out


def _output(version: str, stream: AsyncIterator[bytes]) -> dict:
    return {"StatusCode": 200, "ExecutedVersion": version, "EventStream": stream}


async def events(stream: ResponseStream | None, result: "asyncio.Future[InvocationResult]") -> AsyncIterator[bytes]:
    """The encoded events: the function's pieces as they arrive, then InvokeComplete."""
    if stream is not None:
        chunks = stream.chunks()
        try:
            async for piece in chunks:
                yield eventstream.payload_chunk(piece)
        finally:
            await chunks.aclose()
    res = await result
    code = details = None
    if res.function_error:
        code, details = error_parts(res.payload)
    elif stream is None and res.payload:
        yield eventstream.payload_chunk(res.payload)
    yield eventstream.invoke_complete(code, details, res.log_tail)
