"""One invocation on its way through an execution environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import asyncio

    from .stream import ResponseStream


@dataclass(eq=False)
class Invocation:
    request_id: str
    payload: bytes
    invoked_arn: str
    timeout_s: int
    client_context: str | None = None
    cognito_identity: str | None = None
    trace_id: str | None = None
    # Called exactly once with (result, None) or (None, exception) when it ends.
    on_done: Callable[["InvocationResult | None", "BaseException | None"], None] | None = None
    done: bool = False
    # Set while it runs.
    started: float = 0.0  # perf_counter when handed to the runtime
    deadline_ms: int = 0  # wall-clock epoch ms, as the Runtime API reports it
    timer: asyncio.TimerHandle | None = None
    log: list[str] = field(default_factory=list)  # this invocation's log lines, for LogType Tail
    want_tail: bool = False
    # Given the response stream when the runtime starts streaming (InvokeWithResponseStream,
    # streaming URLs); None: a streamed response is read whole, like a buffered one.
    on_stream: Callable[["ResponseStream"], None] | None = None
    stream: "ResponseStream | None" = None
    traced: object = None  # its open spans (tracing.Traced) when its function is traced

    def resolve(self, result: "InvocationResult") -> None:
        if not self.done:
            self.done = True
            if self.on_done is not None:
                self.on_done(result, None)

    def reject(self, exc: BaseException) -> None:
        if not self.done:
            self.done = True
            if self.on_done is not None:
                self.on_done(None, exc)


@dataclass
class InvocationResult:
    """What Invoke returns: the payload and, for a failure, the function error."""

    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed
    log_tail: str | None = None  # base64 of the last 4 KB of the log, when asked
    executed_version: str = "$LATEST"


class EntrypointMissing(Exception):
    """A custom runtime without a bootstrap: AWS's Runtime.InvalidEntrypoint."""
