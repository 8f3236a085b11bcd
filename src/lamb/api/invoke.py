"""Invoke (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).

RequestResponse runs the function and returns its result: 200 with the payload
untouched, ``X-Amz-Function-Error: Unhandled`` when the function failed,
``X-Amz-Executed-Version`` and, for ``LogType: Tail``, the last 4 KB of the
invocation's log in ``X-Amz-Log-Result``. DryRun checks that the caller could
invoke and returns 204. The request payload must be JSON and at most 6 MB.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import sys
from typing import TYPE_CHECKING

from ..http.answering import Later
from ..limits import DEFAULT
from ..protocol.errors import AwsError
from ..protocol.json_depth import may_exceed, nesting_depth
from ..services.invoke import check_state
from . import operation

if TYPE_CHECKING:
    from .context import RequestContext

_loads = json.loads
# Python 3.11's C JSON scanner counts each level against the recursion limit (1,000), so a
# payload it parses nests less deeply than AWS's limit; later versions go deeper.
_JSON_DEPTH_BOUNDED = sys.version_info < (3, 12)


def check_payload(payload: bytes, limit: int, max_depth: int = DEFAULT.payload_json_max_depth) -> bytes:
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
        raise _unparseable(e)
    except RecursionError:
        _check_deep(payload, max_depth)
        return payload
    if not _JSON_DEPTH_BOUNDED and may_exceed(payload, max_depth):
        _check_deep(payload, max_depth)
    return payload


def _unparseable(detail: object) -> AwsError:
    return AwsError(
        "InvalidRequestContentException",
        f"Could not parse request body into json: Could not parse payload into json: {detail}",
        400,
    )


def _check_deep(payload: bytes, max_depth: int) -> None:
    """A payload that nests deeply: AWS's parser refuses it past ``max_depth`` levels."""
    if nesting_depth(payload) > max_depth:
        raise _unparseable(
            f"Document nesting depth ({max_depth + 1}) exceeds the maximum allowed "
            f"({max_depth}, from `StreamReadConstraints.getMaxNestingDepth()`)"
        )
    # Within the limit but deeper than this thread's recursion allows: parse with room for it.
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(old + max_depth + 100)
    try:
        _loads(payload)
    except ValueError as e:
        raise _unparseable(e)
    finally:
        sys.setrecursionlimit(old)


def _client_context(value: str | None) -> str | None:
    if not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        json.loads(decoded)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise AwsError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.", 400)
    return decoded


@operation("Invoke")
def invoke(ctx: "RequestContext", params: dict):
    # An alias resolves here to the version that runs (weighted aliases draw it); the
    # invoked ARN stays the alias ARN and ExecutedVersion reports the version (issue 4).
    return once_active(ctx, params, _invoke)


def once_active(ctx: "RequestContext", params: dict, run):
    """``run(ctx, params, target)`` for the resolved function, at once or, while it is still
    Pending, once it is Active (a deliberate difference from AWS, lamb.services.invoke)."""
    door = ctx.lamb.invocations
    target = door.resolve(params["FunctionName"], params.get("Qualifier"))
    if door.pending(target):
        return _when_active(ctx, params, target, run)
    return run(ctx, params, target)


async def _when_active(ctx: "RequestContext", params: dict, target, run):
    out = run(ctx, params, await ctx.lamb.invocations.when_active(target))
    return await out if inspect.isawaitable(out) else out


def _invoke(ctx: "RequestContext", params: dict, target):
    lamb = ctx.lamb
    door = lamb.invocations
    kind = params.get("InvocationType") or "RequestResponse"
    check_state(target.config)
    if kind == "DryRun":
        return {"StatusCode": 204}
    header = ctx.request.headers.get("x-amzn-trace-id")
    if kind == "Event":
        # Durably queued before the 202 (lamb.events); the X-Ray header carries loop detection's Lineage.
        payload = check_payload(params.get("Payload") or b"", lamb.settings.limits.async_payload_max_bytes,
                                lamb.settings.limits.payload_json_max_depth)
        return door.accept(target, payload, trace_header=header, request_id=ctx.request_id)
    payload = check_payload(params.get("Payload") or b"", lamb.settings.limits.sync_payload_max_bytes,
                            lamb.settings.limits.payload_json_max_depth)
    client_context = _client_context(params.get("ClientContext"))
    # The X-Ray header the function sees; its Lineage counts this chain's invocations (issue 6).
    trace = door.trace(target.fn, header)

    def start(done) -> None:  # the answer is written from the function's own (http/answering)
        door.submit(target.fn.name, target.version, target.config, payload, door.invoked_arn(target),
                    lambda result, exc: done(_output(result) if exc is None else None, exc),
                    trace=trace, request_id=ctx.request_id, client_context=client_context,
                    want_tail=params.get("LogType") == "Tail")

    return Later(start)


def _output(result) -> dict:
    out = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": result.executed_version}
    if result.function_error:
        out["FunctionError"] = result.function_error
    if result.log_tail is not None:
        out["LogResult"] = result.log_tail
    return out
