"""The one door into the invoker: every invocation of a function passes here.

The API's Invoke and InvokeAsync, the async queue's attempts and every trigger
(event source pollers, function URLs, schedules, the console) call ``Invocations``;
none of them touches the invoker's pools. The door owns, in this order:

1. **resolve** the function and qualifier (``FunctionStore.resolve``: the one
   "Function not found" path; a weighted alias draws its version);
2. the **state check** (a Failed function is not invoked,
   https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html); an invocation
   of a Pending version waits until it settles (``when_active``, bounded by
   ``Settings.pending_invoke_wait_s``) -- a deliberate difference: AWS refuses it with 409,
   Lamb lets scripts that invoke right after CreateFunction keep working;
3. the **recursion check** (``RecursionGuard``: the X-Ray Lineage hop, stopped past 16,
   https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html);
4. **runtime readiness**: right after Lamb starts a runtime may still be coming up;
   the invocation waits for it (``RuntimeManager.wait_ready``), off the hot path;
5. **concurrency and submit** (``Invoker.submit``: throttles, pool, environment).

For a trigger the whole sequence is one call::

    result = await invocations.invoke("my-function", "live", b'{"k": 1}', trace_header=header)
    result.payload, result.function_error, result.executed_version, result.log_tail

and the asynchronous path (durably queued, retried, destinations; resolves to Invoke's
202 output once the event is on disk)::

    await invocations.invoke_async("my-function", None, b"{}", trace_header=header)

Client errors are raised as ``AwsError`` exactly as the Invoke API answers them
(ResourceNotFoundException, ResourceConflictException, RecursiveInvocationException,
TooManyRequestsException, ...).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Awaitable, Callable, Protocol

from ..arn import LATEST, function_arn
from ..http.answering import settling
from ..ids import request_id as new_request_id
from ..invoke.invocation import InvocationResult
from ..invoke.invoker import Invoker, RuntimeNotReady
from ..protocol.errors import AwsError, conflict
from ..store import env_at_rest
from .recursion import RecursionGuard, error as recursion_error

if TYPE_CHECKING:
    from ..invoke.stream import ResponseStream
    from ..runtimes.manager import RuntimeManager
    from ..store.functions import Function, FunctionStore, Resolved

__all__ = ["Invocations", "InvocationResult", "check_state"]

OnDone = Callable[["InvocationResult | None", "BaseException | None"], None]
OnStream = Callable[["ResponseStream"], None]


class Enqueue(Protocol):
    """The async queue's accept (``lamb.events.queue.EventQueue.accept``)."""

    def __call__(self, fn: "Function", qualifier: str | None, payload: bytes, trace: str | None,
                 request_id: str | None = None) -> Awaitable[dict]: ...


# Set in a version's configuration (to the pinned ARN) while it is pinned to a runtime
# version this Lamb no longer has (api/runtime_management keeps it, issue 16).
RUNTIME_VERSION_GONE = "_RuntimeVersionGone"


def runtime_version_gone() -> AwsError:
    """What an invocation of a version pinned to a runtime version Lamb no longer has gets."""
    return AwsError("RuntimeVersionDeletedException",
                    "The runtime version used by your function is no longer available. "
                    "Update your function to use an available runtime version or runtime alias.", 409)


def check_state(config: dict) -> None:
    """Only an Active function version can be invoked (Invoke's ResourceConflictException otherwise)."""
    state = config.get("State")
    if state == "Active":
        if RUNTIME_VERSION_GONE in config:
            raise runtime_version_gone()
        if env_at_rest.UNREADABLE in config:  # KMSKeyArn's key refused its variables at start
            error = env_at_rest.invoke_error(config)
            if error is not None:
                raise error
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


class Invocations:
    """Resolve, check and run invocations; see the module docstring for the order."""

    def __init__(self, functions: "FunctionStore", invoker: Invoker, runtimes: "RuntimeManager",
                 recursion: RecursionGuard, *, region: str, account_id: str):
        self.functions = functions
        self.invoker = invoker
        self.runtimes = runtimes
        self.recursion = recursion
        self.region = region
        self.account_id = account_id
        self._enqueue: Enqueue | None = None
        self._waiting: set[asyncio.Task] = set()
        self._until_settled: Callable[[str, float], Awaitable[bool]] | None = None
        self._pending_wait_s = 0.0

    def bind_queue(self, enqueue: Enqueue) -> None:
        """Wire the async queue's accept (the queue sits above this layer and calls ``submit``)."""
        self._enqueue = enqueue

    def bind_states(self, until_settled: Callable[[str, float], Awaitable[bool]], wait_s: float) -> None:
        """Wire the state machine's wait (``FunctionStates.until_settled``) and its bound."""
        self._until_settled = until_settled
        self._pending_wait_s = wait_s

    # ------------------------------------------------------------ the steps
    def resolve(self, function: str, qualifier: str | None = None, *, route: bool = True) -> "Resolved":
        """Step 1: the function and the version that runs (``route``: a weighted alias draws it)."""
        return self.functions.resolve(function, qualifier, route=route, missing=LATEST)  # AWS names ARN:$LATEST

    def invoked_arn(self, target: "Resolved") -> str:
        """The ARN as invoked (an alias ARN for an alias; ExecutedVersion names the version)."""
        return function_arn(self.region, self.account_id, target.fn.name, target.ref.qualifier)

    @staticmethod
    def pending(target: "Resolved") -> bool:
        """Step 2: whether the version must first settle (``when_active``)."""
        return target.config.get("State") == "Pending"

    async def when_active(self, target: "Resolved") -> "Resolved":
        """Step 2 for a Pending version: wait (bounded) until it settles, then resolve and check again."""
        if self._until_settled is not None:
            await self._until_settled(target.fn.name, self._pending_wait_s)
        again = self.resolve(target.fn.name, target.ref.qualifier)
        check_state(again.config)
        return again

    def trace(self, fn: "Function", cause: str | None) -> str:
        """Step 3 for a synchronous caller: this invocation's X-Ray header, or
        ``RecursiveInvocationException`` when loop detection stops it."""
        header, stop = self.recursion.hop(fn, cause, "a synchronous invocation")
        if stop:
            raise recursion_error()
        return header

    def reserved(self, function_name: str) -> int | None:
        """The function's reserved concurrency, as the invoker enforces it."""
        return self.invoker.concurrency.reserved.get(function_name)

    def submit(self, fn_name: str, version: str, config: dict, payload: bytes, invoked_arn: str, on_done: OnDone,
               *, trace: str, request_id: str | None = None, client_context: str | None = None,
               want_tail: bool = False, on_stream: "OnStream | None" = None) -> None:
        """Steps 4 and 5: run the version; ``on_done(result, exc)`` is called once when it ends.

        ``on_stream(stream)`` is called when the function starts streaming its response
        (``lamb.invoke.stream.ResponseStream``), before ``on_done``; without it a streamed
        response is read whole, as Invoke reads it.

        Raises ``AwsError`` at once when the invocation cannot start (throttles, an
        unavailable runtime). When the runtime is still starting it waits for it
        instead, and a failure to start is then given to ``on_done``.
        """
        try:
            pool = self.invoker.pool_for(fn_name, version, config)
        except RuntimeNotReady:
            task = asyncio.ensure_future(self._after_runtime(
                fn_name, version, config, payload, invoked_arn, on_done, trace, request_id, client_context, want_tail,
                on_stream))
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)
            return
        self.invoker.submit(pool, payload, invoked_arn, on_done, client_context=client_context, want_tail=want_tail,
                            request_id=request_id, trace=trace, on_stream=on_stream)

    async def _after_runtime(self, fn_name, version, config, payload, invoked_arn, on_done, trace, request_id,
                             client_context, want_tail, on_stream) -> None:
        """First invocations right after Lamb started: wait for the runtime, then run."""
        await self.runtimes.wait_ready(config["Runtime"])
        try:
            pool = self.invoker.pool_for(fn_name, version, config)
            self.invoker.submit(pool, payload, invoked_arn, on_done, client_context=client_context,
                                want_tail=want_tail, request_id=request_id, trace=trace, on_stream=on_stream)
        except RuntimeNotReady:
            on_done(None, AwsError("ServiceException", f"The runtime {config['Runtime']} is not ready.", 503,
                                   type_="Service"))
        except Exception as e:
            on_done(None, e)

    # ------------------------------------------------------ what triggers call
    def call(self, function: str, qualifier: str | None, payload: bytes, on_done: OnDone, *,
             trace_header: str | None = None, request_id: str | None = None, client_context: str | None = None,
             want_tail: bool = False, on_stream: "OnStream | None" = None,
             resolved: "Resolved | None" = None) -> "asyncio.Task | None":
        """Invoke synchronously (RequestResponse): steps 1 to 5, then ``on_done(result, exc)`` once, called
        from the environment's answer itself. No loop turn separates the function's answer from a caller
        that writes its own answer from ``on_done`` (function URLs, HTTP and REST APIs, Invoke:
        ``http/answering.answer``).

        Raises ``AwsError`` at once when the invocation cannot start, as ``invoke`` does. For a Pending
        version it returns the task that waits for it to settle (cancel it to give up; a failure then
        reaches ``on_done``), else None. ``resolved``: step 1's answer for ``function`` when the caller has
        it (an alias is resolved again, for a weighted one draws its version per invocation).
        """
        target = resolved if resolved is not None and resolved.ref.qualifier not in resolved.fn.routes \
            else self.resolve(function, qualifier)
        request_id = request_id or new_request_id()
        if self.pending(target):
            task = asyncio.ensure_future(self._call_when_active(target, payload, on_done, trace_header, request_id,
                                                                client_context, want_tail, on_stream))
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)
            return task
        check_state(target.config)
        self.submit(target.fn.name, target.version, target.config, payload, self.invoked_arn(target), on_done,
                    trace=self.trace(target.fn, trace_header), request_id=request_id, client_context=client_context,
                    want_tail=want_tail, on_stream=on_stream)
        return None

    async def _call_when_active(self, target: "Resolved", payload: bytes, on_done: OnDone, trace_header: str | None,
                                request_id: str, client_context: str | None, want_tail: bool,
                                on_stream: "OnStream | None") -> None:
        try:
            active = await self.when_active(target)
            self.submit(active.fn.name, active.version, active.config, payload, self.invoked_arn(active), on_done,
                        trace=self.trace(active.fn, trace_header), request_id=request_id,
                        client_context=client_context, want_tail=want_tail, on_stream=on_stream)
        except asyncio.CancelledError:  # given up (``invoke``'s future cancelled, or Lamb stopping)
            on_done(None, asyncio.CancelledError())
            raise
        except Exception as e:  # noqa: BLE001 - the caller learns it from on_done, as from the invocation
            on_done(None, e)

    def invoke(self, function: str, qualifier: str | None, payload: bytes, *, trace_header: str | None = None,
               request_id: str | None = None, client_context: str | None = None,
               want_tail: bool = False, on_stream: "OnStream | None" = None) -> "asyncio.Future[InvocationResult]":
        """Invoke synchronously (RequestResponse): await it for the ``InvocationResult`` (``call`` as a future).

        ``function`` is a name or ARN, ``qualifier`` None/``$LATEST``/a version/an alias;
        ``trace_header`` is the X-Amzn-Trace-Id of the request that caused this
        invocation (the loop-detection chain continues through it); ``request_id``
        defaults to a new UUID; ``on_stream`` gets a streamed response as it starts (see ``submit``).
        Cancelling the future while a Pending version settles gives the invocation up.
        """
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        waiting = self.call(function, qualifier, payload, settling(fut), trace_header=trace_header,
                            request_id=request_id, client_context=client_context, want_tail=want_tail,
                            on_stream=on_stream)
        if waiting is not None:
            fut.add_done_callback(lambda f: waiting.cancel() if f.cancelled() else None)
        return fut

    def invoke_async(self, function: str, qualifier: str | None, payload: bytes, *, trace_header: str | None = None,
                     request_id: str | None = None) -> Awaitable[dict]:
        """Invoke asynchronously (Event): resolves to ``{"StatusCode": 202}`` once the event is durable.

        The queue retries it, applies the event invoke config and sends the outcome to
        destinations (``lamb.events.queue``); its attempts come back through ``submit``.
        """
        target = self.resolve(function, qualifier)
        if self.pending(target):
            async def later() -> dict:
                active = await self.when_active(target)
                return await self.accept(active, payload, trace_header=trace_header, request_id=request_id)
            return later()
        check_state(target.config)
        return self.accept(target, payload, trace_header=trace_header, request_id=request_id)

    def accept(self, target: "Resolved", payload: bytes, *, trace_header: str | None,
               request_id: str | None = None) -> Awaitable[dict]:
        """Queue an event for a resolved and checked target (the async half of ``invoke_async``)."""
        if self._enqueue is None:
            raise RuntimeError("no async queue is wired (Invocations.bind_queue)")
        return self._enqueue(target.fn, target.ref.qualifier, payload, trace_header, request_id=request_id)

    def close(self) -> None:
        for task in list(self._waiting):
            task.cancel()
