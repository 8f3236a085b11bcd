"""Invoke (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).

RequestResponse runs the function and returns its result: 200 with the payload
untouched, ``X-Amz-Function-Error: Unhandled`` when the function failed,
``X-Amz-Executed-Version`` and, for ``LogType: Tail``, the last 4 KB of the
invocation's log in ``X-Amz-Log-Result``. DryRun checks that the caller could
invoke and returns 204. The request payload must be JSON and at most 6 MB.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import TYPE_CHECKING

from ..arn import function_arn
from ..protocol.errors import AwsError, conflict
from ..invoke.invoker import RuntimeNotReady
from . import operation, runtime_management
from .functions import resolve

if TYPE_CHECKING:
    from ..gateway import RequestContext

_loads = json.loads


def _check_payload(payload: bytes, limit: int) -> bytes:
    if len(payload) > limit:
        raise AwsError(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            413,
        )
    if not payload:
        return b"{}"
    try:
        _loads(payload)
    except ValueError as e:
        raise AwsError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {e}",
            400,
        )
    return payload


def _client_context(value: str | None) -> str | None:
    if not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        json.loads(decoded)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AwsError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.", 400)
    return decoded


def _check_state(config: dict) -> None:
    state = config.get("State")
    if state == "Active":
        if runtime_management.GONE in config:  # pinned to a runtime version this Lamb no longer has
            raise runtime_management.version_gone()
        return
    if state == "Pending":
        raise conflict(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending"
        )
    raise AwsError(
        "ResourceConflictException",
        f"Lambda is unable to invoke the function because it is in the {state} state: {config.get('StateReason', '')}",
        409,
    )


@operation("Invoke")
def invoke(ctx: "RequestContext", params: dict):
    lamb = ctx.lamb
    # An alias resolves here to the version that runs (weighted aliases draw it); the
    # invoked ARN stays the alias ARN and ExecutedVersion reports the version (issue 4).
    ref, fn, version, config = resolve(ctx, params, route=True)
    kind = params.get("InvocationType") or "RequestResponse"
    _check_state(config)
    if kind == "DryRun":
        return {"StatusCode": 204}
    if kind == "Event":
        # Durably queued before the 202 (lamb.events); the X-Ray header carries loop detection's Lineage.
        payload = _check_payload(params.get("Payload") or b"", lamb.settings.limits.async_payload_max_bytes)
        return lamb.events.accept(fn, ref.qualifier, payload, ctx.request.headers.get("x-amzn-trace-id"),
                                  request_id=ctx.request_id)
    payload = _check_payload(params.get("Payload") or b"", lamb.settings.limits.sync_payload_max_bytes)
    client_context = _client_context(params.get("ClientContext"))
    tail = params.get("LogType") == "Tail"
    s = lamb.settings
    arn = function_arn(s.region, s.account_id, fn.name, ref.qualifier)
    # The X-Ray header the function sees; its Lineage counts this chain's invocations (issue 6).
    trace = lamb.events.sync_trace(fn, ctx.request.headers.get("x-amzn-trace-id"))
    try:
        pool = lamb.invoker.pool_for(fn.name, version, config)
    except RuntimeNotReady:
        return _after_runtime(lamb, (fn.name, version, config), payload, arn, client_context, tail, trace, ctx.request_id)
    out = asyncio.get_running_loop().create_future()

    def done(result, exc) -> None:
        if exc is not None:
            out.set_exception(exc)
        else:
            out.set_result(_output(result))

    lamb.invoker.submit(pool, payload, arn, done, client_context=client_context, want_tail=tail, trace=trace,
                        request_id=ctx.request_id)
    return out


def _output(result) -> dict:
    out = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": result.executed_version}
    if result.function_error:
        out["FunctionError"] = result.function_error
    if result.log_tail is not None:
        out["LogResult"] = result.log_tail
    return out


async def _after_runtime(lamb, target, payload, arn, client_context, tail, trace=None, request_id=None) -> dict:
    """First invocations right after Lamb started: wait for the runtime to be up."""
    try:
        await lamb.runtimes.prepare(target[2]["Runtime"])
    except Exception:
        pass
    pool = lamb.invoker.pool_for(*target)
    result = await lamb.invoker.invoke(pool, payload, arn, client_context=client_context, want_tail=tail, trace=trace, request_id=request_id)
    return _output(result)
